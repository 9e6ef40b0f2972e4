/**
 * A CPU hog: a Node process spinning one core, so a test or a soak sees the SDK on a
 * busy machine. It has no network and touches nothing; whoever starts one stops it
 * (fixtures.ts stops every hog a test started, whatever the outcome).
 */
import { LabProcess } from './exec.js'

/** `for(;;){}` in a child: one core at 100 % until it is killed. */
export class CpuHog {
  private readonly process: LabProcess

  private constructor (name: string) {
    this.process = new LabProcess(name, process.execPath, ['-e', 'for(;;){}'])
  }

  static start (name = 'cpu hog'): CpuHog {
    const hog = new CpuHog(name)
    // a spawn that failed has no pid: fail now, not with a test that silently ran unloaded
    if (hog.process.child.pid === undefined) {
      throw new Error('the CPU hog did not start')
    }
    return hog
  }

  get running (): boolean {
    return this.process.running
  }

  /** SIGKILL (a busy loop has nothing to clean up); resolves once it has exited. */
  async stop (): Promise<void> {
    this.process.kill('SIGKILL')
    await this.process.exited
  }
}
