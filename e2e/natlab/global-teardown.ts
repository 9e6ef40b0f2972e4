/**
 * Deletes every NAT lab namespace this run created that is still there (a worker that
 * died mid-test never reached its fixture teardown), then writes the matrix report
 * from the cells this run measured.
 */
import { writeMatrixReport } from './report.js'
import { RUN_ID, deleteNamespace, natLabNamespaces } from './topology.js'

export default async function globalTeardown (): Promise<void> {
  for (const ns of await natLabNamespaces()) {
    if (ns.startsWith(`nl-${RUN_ID}-`)) {
      await deleteNamespace(ns)
    }
  }
  await writeMatrixReport()
}
