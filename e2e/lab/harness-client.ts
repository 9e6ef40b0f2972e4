/**
 * Typed access from a test to the harness page's `window.lifeline` API.
 */
import type { Page } from '@playwright/test'
import type { PeerStatus, RelayState } from '@lifeline/sdk'
import type {
  BlobRecord, BulkOptions, BulkProgress, CandidatePairRecord, ConnectSendRecord, DialRecord, LinkRouteRecord, LinkSnapshot, NetworkRecord,
  NumberedSendOptions,
  Outcome, PathChangeRecord, PathName, PeerConnectionCount, RelayEventRecord, RelayStateRecord, RoomEventRecord, RoomMemberRecord,
  RoomMessageRecord, SendProgress, StartOptions, TrackedConnectRecord
} from '../harness/api.js'

export type {
  BlobRecord, BulkOptions, BulkProgress, CandidatePairRecord, LinkRouteRecord, LinkSnapshot, NetworkRecord, Outcome, PathChangeRecord, PathName,
  RelayEventRecord, RelayStateRecord, TrackedConnectRecord
}

export class HarnessPage {
  /** 'A' or 'B', for messages. */
  readonly name: string
  readonly page: Page
  /** This page's peer ID once `start()` resolved. */
  peerId = ''

  constructor (name: string, page: Page) {
    this.name = name
    this.page = page
  }

  /** Load the harness and wait for its API. */
  async open (url: string): Promise<void> {
    await this.page.goto(url)
    await this.page.waitForFunction(() => typeof window.lifeline === 'object')
  }

  async start (relays: string[], direct?: boolean): Promise<string> {
    const options = direct === undefined ? { relays } : { relays, direct }
    this.peerId = await this.page.evaluate(async (o) => window.lifeline.start(o), options)
    return this.peerId
  }

  /** `start()` with every option of the harness, e.g. ICE servers. */
  async startWith (options: StartOptions): Promise<string> {
    this.peerId = await this.page.evaluate(async (o) => window.lifeline.start(o), options)
    return this.peerId
  }

  async connect (peerId: string, timeoutMs?: number): Promise<Outcome> {
    return this.page.evaluate(async ([id, t]) => window.lifeline.connect(id, t), [peerId, timeoutMs] as const)
  }

  async dialDirect (peerId: string, timeoutMs: number): Promise<Outcome<DialRecord>> {
    return this.page.evaluate(async ([id, t]) => window.lifeline.dialDirect(id, t), [peerId, timeoutMs] as const)
  }

  async connectAndSend (peerId: string, text: string, timeoutMs: number): Promise<Outcome<ConnectSendRecord>> {
    return this.page.evaluate(async ([id, m, t]) => window.lifeline.connectAndSend(id, m, t), [peerId, text, timeoutMs] as const)
  }

  async send (peerId: string, text: string): Promise<Outcome> {
    return this.page.evaluate(async ([id, m]) => window.lifeline.send(id, m), [peerId, text] as const)
  }

  async startNumbered (peerId: string, options: NumberedSendOptions): Promise<void> {
    await this.page.evaluate(([id, o]) => { window.lifeline.startNumbered(id, o) }, [peerId, options] as const)
  }

  async numberedProgress (peerId: string): Promise<SendProgress> {
    return this.page.evaluate((id) => window.lifeline.numberedProgress(id), peerId)
  }

  async sendPayload (peerId: string, size: number): Promise<Outcome<BlobRecord>> {
    return this.page.evaluate(async ([id, n]) => window.lifeline.sendPayload(id, n), [peerId, size] as const)
  }

  async received (peerId: string): Promise<string[]> {
    return this.page.evaluate((id) => window.lifeline.received(id), peerId)
  }

  async receivedTimes (peerId: string): Promise<number[]> {
    return this.page.evaluate((id) => window.lifeline.receivedTimes(id), peerId)
  }

  async receivedBlobs (peerId: string): Promise<BlobRecord[]> {
    return this.page.evaluate((id) => window.lifeline.receivedBlobs(id), peerId)
  }

  async link (peerId: string): Promise<LinkSnapshot> {
    return this.page.evaluate((id) => window.lifeline.link(id), peerId)
  }

  async path (peerId: string): Promise<PathName | undefined> {
    return (await this.link(peerId)).path
  }

  async waitForPath (peerId: string, path: PathName, timeoutMs: number): Promise<Outcome> {
    return this.page.evaluate(async ([id, p, t]) => window.lifeline.waitForPath(id, p, t), [peerId, path, timeoutMs] as const)
  }

  async pathChanges (peerId: string): Promise<PathChangeRecord[]> {
    return this.page.evaluate((id) => window.lifeline.pathChanges(id), peerId)
  }

  async close (peerId: string): Promise<Outcome> {
    return this.page.evaluate(async (id) => window.lifeline.close(id), peerId)
  }

  async status (): Promise<PeerStatus> {
    return this.page.evaluate(() => window.lifeline.status())
  }

  /** The state of each configured relay, in the order of `relays` (as `status().relays` lists them). */
  async relayStates (relays: string[]): Promise<Array<RelayState | undefined>> {
    const status = await this.status()
    return relays.map((multiaddr) => status.relays.find((r) => r.multiaddr === multiaddr)?.state)
  }

  /** Which relay carries the link and how many paths it has, where the SDK reports it. */
  async linkRoute (peerId: string): Promise<LinkRouteRecord> {
    return this.page.evaluate((id) => window.lifeline.linkRoute(id), peerId)
  }

  async connectTracked (peerId: string, timeoutMs: number): Promise<Outcome<TrackedConnectRecord>> {
    return this.page.evaluate(async ([id, t]) => window.lifeline.connectTracked(id, t), [peerId, timeoutMs] as const)
  }

  async relayHistory (): Promise<RelayStateRecord[]> {
    return this.page.evaluate(() => window.lifeline.relayHistory())
  }

  async relayEvents (): Promise<RelayEventRecord[]> {
    return this.page.evaluate(() => window.lifeline.relayEvents())
  }

  async startBulk (peerId: string, options: BulkOptions): Promise<void> {
    await this.page.evaluate(([id, o]) => { window.lifeline.startBulk(id, o) }, [peerId, options] as const)
  }

  async stopBulk (peerId: string): Promise<BulkProgress> {
    return this.page.evaluate(async (id) => window.lifeline.stopBulk(id), peerId)
  }

  async bulkProgress (peerId: string): Promise<BulkProgress> {
    return this.page.evaluate((id) => window.lifeline.bulkProgress(id), peerId)
  }

  async networkHistory (): Promise<NetworkRecord[]> {
    return this.page.evaluate(() => window.lifeline.networkHistory())
  }

  async peerConnections (): Promise<PeerConnectionCount> {
    return this.page.evaluate(() => window.lifeline.peerConnections())
  }

  async selectedPairs (): Promise<CandidatePairRecord[]> {
    return this.page.evaluate(() => window.lifeline.selectedPairs())
  }

  async tryCreatePeer (relays: string[]): Promise<Outcome> {
    return this.page.evaluate(async (r) => window.lifeline.tryCreatePeer(r), relays)
  }

  async stoppedPeerId (relays: string[]): Promise<string> {
    return this.page.evaluate(async (r) => window.lifeline.stoppedPeerId(r), relays)
  }

  async joinRoom (room: string, displayName: string, autoConnect: boolean): Promise<Outcome> {
    return this.page.evaluate(async ([r, n, a]) => window.lifeline.joinRoom(r, n, a), [room, displayName, autoConnect] as const)
  }

  async roomMembers (): Promise<RoomMemberRecord[]> {
    return this.page.evaluate(() => window.lifeline.roomMembers())
  }

  async roomSend (text: string): Promise<Outcome> {
    return this.page.evaluate(async (t) => window.lifeline.roomSend(t), text)
  }

  async roomMessages (): Promise<RoomMessageRecord[]> {
    return this.page.evaluate(() => window.lifeline.roomMessages())
  }

  async roomEvents (): Promise<RoomEventRecord[]> {
    return this.page.evaluate(() => window.lifeline.roomEvents())
  }

  async leaveRoom (): Promise<Outcome> {
    return this.page.evaluate(async () => window.lifeline.leaveRoom())
  }
}
