/**
 * Baseline: the physical limit, a raw RTCDataChannel (ordered, reliable) between the
 * two browsers, signalled through the bench server's mailbox. Each side sends its
 * description as soon as it has its first ICE candidate (trickle-like; waiting for
 * gathering to complete costs ~120 ms more in Chromium).
 */
import type { ResultReport } from '../shared.js'
import { now } from './exchange.js'
import { ByteReader, answer, firstMessage, measureRtt, measureThroughput, median } from './measure.js'
import type { Pipe } from './measure.js'
import type { PageContext } from './scenario.js'

/**
 * Send-side watermarks: send() waits while more than HIGH bytes are queued, until the
 * queue is down to LOW. The sizes the brief names; smaller ones can be faster here
 * (see FINDINGS "Physical limits").
 */
const LOW_WATERMARK = 1024 * 1024
const HIGH_WATERMARK = 4 * 1024 * 1024

async function once (target: EventTarget, type: string): Promise<void> {
  await new Promise((resolve) => { target.addEventListener(type, resolve, { once: true }) })
}

/** Resolves at the first local ICE candidate (or at the end of gathering). */
async function firstCandidate (pc: RTCPeerConnection): Promise<void> {
  await new Promise<void>((resolve) => {
    pc.addEventListener('icecandidate', () => { resolve() })
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        resolve()
      }
    })
  })
}

function channelPipe (channel: RTCDataChannel): Pipe {
  const reader = new ByteReader()
  channel.binaryType = 'arraybuffer'
  channel.bufferedAmountLowThreshold = LOW_WATERMARK
  channel.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => { reader.push(new Uint8Array(event.data)) })
  channel.addEventListener('close', () => { reader.fail(new Error('the data channel closed')) })
  return {
    reader,
    send: async (data) => {
      if (channel.bufferedAmount + data.byteLength > HIGH_WATERMARK) {
        await once(channel, 'bufferedamountlow')
      }
      channel.send(data)
    }
  }
}

function description (json: string): RTCSessionDescriptionInit {
  return JSON.parse(json) as RTCSessionDescriptionInit
}

async function runA ({ params, mailbox }: PageContext): Promise<ResultReport> {
  await mailbox.get('b-ready')
  const started = now()
  const pc = new RTCPeerConnection({ iceServers: [] })
  const channel = pc.createDataChannel('bench', { ordered: true })
  const pipe = channelPipe(channel)
  const opened = once(channel, 'open')
  const gathered = firstCandidate(pc)
  await pc.setLocalDescription(await pc.createOffer())
  await gathered
  await mailbox.put('offer', JSON.stringify(pc.localDescription))
  await pc.setRemoteDescription(description(await mailbox.get('answer')))
  await opened
  const connectMs = now() - started
  await pipe.send(firstMessage())
  const firstMessageMs = await mailbox.getNumber('first-at') - started

  const rtt = await measureRtt(pipe)
  const throughputMBps = await measureThroughput(pipe, mailbox)
  return {
    scenario: params.scenario,
    metrics: { connectMs, firstMessageMs, rttMs: median(rtt), throughputMBps },
    samples: { rttMs: rtt }
  }
}

async function runB ({ mailbox }: PageContext): Promise<void> {
  const pc = new RTCPeerConnection({ iceServers: [] })
  // the pipe is made in the handler: the first message may follow in the next task
  const incoming = new Promise<Pipe>((resolve) => {
    pc.addEventListener('datachannel', (event) => { resolve(channelPipe(event.channel)) }, { once: true })
  })
  await mailbox.put('b-ready', now())
  await pc.setRemoteDescription(description(await mailbox.get('offer')))
  const gathered = firstCandidate(pc)
  await pc.setLocalDescription(await pc.createAnswer())
  await gathered
  await mailbox.put('answer', JSON.stringify(pc.localDescription))
  await answer(await incoming, mailbox)
}

export const rtc = { runA, runB }
