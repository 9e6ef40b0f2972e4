/**
 * Deletes every namespace this run created that is still there (a worker that died
 * mid-test never reached its fixture teardown), with the processes inside it.
 */
import { RUN_ID, deleteNamespace, labNamespaces } from './netns.js'

export default async function globalTeardown (): Promise<void> {
  for (const ns of await labNamespaces()) {
    if (ns.startsWith(`ll-${RUN_ID}-`)) {
      await deleteNamespace(ns)
    }
  }
}
