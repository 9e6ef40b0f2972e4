/**
 * Deletes every namespace this run created that is still there (a worker that died
 * mid-test never reached its fixture teardown), with the processes inside it.
 */
import { NAMESPACE_PATTERN, RUN_ID, removeRunNamespaces } from './netns.js'

export default async function globalTeardown (): Promise<void> {
  await removeRunNamespaces(NAMESPACE_PATTERN, `ll-${RUN_ID}-`)
}
