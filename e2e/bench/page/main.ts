/**
 * The bench page. Started by the runner with a URL naming the scenario, this
 * browser's role, the session and the relay; it runs the scenario by itself (no
 * DevTools client is attached) and reports to the bench server that served it.
 */
import { isScenario, pageDeadlineMs } from '../shared.js'
import type { PageParams, Scenario } from '../shared.js'
import { Mailbox, reportError, reportResult } from './exchange.js'
import { libp2pFailover, lifelineFailover } from './failover.js'
import { libp2pIdle, lifelineIdle } from './idle.js'
import { libp2p } from './libp2p.js'
import { lifeline } from './lifeline.js'
import { enableProfiling } from './profile.js'
import { rtc } from './rtc.js'
import type { ScenarioSides } from './scenario.js'

const SIDES: Record<Scenario, ScenarioSides> = {
  lifeline,
  'lifeline-relayed': lifeline,
  'lifeline-relayed-wss': lifeline,
  'lifeline-relayed-webrtc-direct': lifeline,
  libp2p,
  'libp2p-relayed': libp2p,
  rtc,
  'lifeline-failover': lifelineFailover,
  'lifeline-relay-failover': lifelineFailover,
  'libp2p-failover': libp2pFailover,
  'lifeline-idle': lifelineIdle,
  'libp2p-idle': libp2pIdle
}

function show (text: string): void {
  const state = document.getElementById('state')
  if (state !== null) {
    state.textContent = text
  }
}

function parseParams (search: string): PageParams {
  const query = new URLSearchParams(search)
  const scenario = query.get('scenario') ?? ''
  const role = query.get('role')
  const session = query.get('session')
  const relay = query.get('relay')
  const relay2 = query.get('relay2')
  const relayWss = query.get('relayWss')
  const relayWebrtcDirect = query.get('relayWebrtcDirect')
  if (!isScenario(scenario) || (role !== 'a' && role !== 'b') || session === null || relay === null || relay2 === null ||
    relayWss === null || relayWebrtcDirect === null) {
    throw new Error(`bad bench URL: ${search}`)
  }
  return { scenario, role, session, relay, relay2, relayWss, relayWebrtcDirect, profile: query.get('profile') ?? undefined }
}

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err)
}

async function run (params: PageParams): Promise<void> {
  const context = { params, mailbox: new Mailbox(params.session) }
  if (params.profile === '1') {
    enableProfiling(params.session, params.scenario, params.role)
  }
  const sides = SIDES[params.scenario]
  if (params.role === 'a') {
    await reportResult(params.session, await sides.runA(context))
  } else {
    await sides.runB(context)
  }
}

function main (): void {
  const params = parseParams(location.search)
  let finished = false
  const fail = (err: unknown): void => {
    if (!finished) {
      finished = true
      show(`failed: ${describe(err)}`)
      void reportError(params.session, { role: params.role, message: describe(err) })
    }
  }
  const deadlineMs = pageDeadlineMs(params.scenario)
  const deadline = setTimeout(() => { fail(new Error(`no result within ${deadlineMs} ms`)) }, deadlineMs)
  window.addEventListener('error', (event) => { fail(event.error) })
  window.addEventListener('unhandledrejection', (event) => { fail(event.reason) })
  show(`running ${params.scenario} as ${params.role}`)
  run(params).then(() => {
    finished = true
    show('done')
  }, fail).finally(() => { clearTimeout(deadline) })
}

main()
