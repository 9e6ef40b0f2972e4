/**
 * What each scenario module provides: browser A's side, which measures and returns
 * the figures, and browser B's side, which answers.
 */
import type { PageParams, ResultReport } from '../shared.js'
import type { Mailbox } from './exchange.js'

export interface PageContext {
  params: PageParams
  mailbox: Mailbox
}

export interface ScenarioSides {
  runA(context: PageContext): Promise<ResultReport>
  runB(context: PageContext): Promise<void>
}
