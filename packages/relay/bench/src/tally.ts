/**
 * The runner's side of failures: every worker's failure kinds added up over a
 * phase, with one example message each. Kinds containing " refused: " are the
 * relay's answers (RESERVE refused, JOIN answered ERROR); all others are errors.
 */
import type { Failures } from './messages.js'

/** Failures of one phase over all workers; "refused" are the relay's answers, the rest errors. */
export class Tally {
  readonly counts: Record<string, number> = {}
  readonly examples: Record<string, string> = {}

  add (kind: string, example: string, count = 1): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + count
    this.examples[kind] ??= example.slice(0, 300)
  }

  merge (failures: Failures): void {
    for (const [kind, count] of Object.entries(failures.counts)) {
      this.add(kind, failures.examples[kind] ?? '', count)
    }
  }

  get refused (): number {
    return this.sum(kind => kind.includes(' refused: '))
  }

  get errors (): number {
    return this.sum(kind => !kind.includes(' refused: '))
  }

  get failures (): Failures {
    return { counts: this.counts, examples: this.examples }
  }

  private sum (include: (kind: string) => boolean): number {
    return Object.entries(this.counts).filter(([kind]) => include(kind)).reduce((total, [, count]) => total + count, 0)
  }
}
