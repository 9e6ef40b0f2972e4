/**
 * Deletes every NAT lab namespace this run created that is still there (a worker that
 * died mid-test never reached its fixture teardown), then writes the matrix report
 * from the cells this run measured.
 */
import { writeMatrixReport } from './report.js'
import { removeRunNamespaces } from '../lab/netns.js'
import { NAMESPACE_PATTERN, RUN_ID } from './topology.js'

export default async function globalTeardown (): Promise<void> {
  await removeRunNamespaces(NAMESPACE_PATTERN, `nl-${RUN_ID}-`)
  await writeMatrixReport()
}
