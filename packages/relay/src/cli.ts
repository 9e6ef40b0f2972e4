#!/usr/bin/env node
/**
 * `lifeline-relay`: stdout carries only the relay's multiaddrs, one per line, so
 * scripts can read the first line and dial it. Everything meant for people goes
 * to stderr. Exit codes: 0 after --help or a signal, 1 when the relay cannot
 * start (a taken port), 2 for a bad flag or key file.
 */
import './node-compat.js'
import { parseCommandLine, USAGE } from './config.js'
import { BROWSER_MIN_WEBRTC_PORT, SHUTDOWN_TIMEOUT_MS } from './constants.js'
import { isRelayError } from './errors.js'
import { createRelay } from './relay.js'
import { formatLine, type LogFormat, type LogLevel } from './watch/logger.js'
import type { RelayConfig } from './config.js'
import type { CertificateInfo } from './listen/tls-certificates.js'

const EXIT_FAILURE = 1
const EXIT_USAGE = 2

/** Chosen once the command line is read; until then messages are text. */
let logFormat: LogFormat = 'text'

/** A message for the operator on stderr, in the chosen log format so a log shipper can read every line. */
function say (message: string, level: LogLevel = 'info'): void {
  if (logFormat === 'json') {
    console.error(formatLine({ time: new Date().toISOString(), level, namespace: 'lifeline-relay', message, fields: {} }, 'json'))
  } else {
    console.error(`lifeline-relay: ${message}`)
  }
}

function fail (message: string, code: number): void {
  say(message, 'error')
  process.exitCode = code
}

async function run (config: RelayConfig): Promise<void> {
  // Signals during startup keep their default action: nothing needs cleaning up yet.
  const relay = await createRelay(config)
  let stopping = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      fail(`${signal} again, exiting without a clean shutdown`, EXIT_FAILURE)
      process.exit()
    }
    stopping = true
    setTimeout(() => {
      fail(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms, exiting anyway`, EXIT_FAILURE)
      process.exit()
    }, SHUTDOWN_TIMEOUT_MS).unref()
    relay.stop().then(() => {
      // exit now rather than wait for any timer or socket a dependency left behind
      process.exit(0)
    }, (err: unknown) => {
      fail(`error while stopping: ${err instanceof Error ? err.message : String(err)}`, EXIT_FAILURE)
      process.exit()
    })
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
  // the customary "reload your files" signal (nginx, HAProxy); certbot's deploy hook can send it
  process.on('SIGHUP', () => {
    const tls = relay.tlsCertificate() !== undefined
    const allowlist = config.allowPeersFile !== undefined
    if (!tls && !allowlist) {
      say('SIGHUP: nothing to reload, this relay serves no TLS and has no allowed-peers list')
      return
    }
    if (tls) {
      say('SIGHUP: reading the TLS certificate and key again')
      // the outcome is reported by the events below; unchanged files report nothing
      relay.reloadTls().catch(() => {})
    }
    if (allowlist) {
      relay.reloadAllowlist().then(count => {
        say(`SIGHUP: allowed-peers list reloaded, ${count} peers`)
      }, (err: unknown) => {
        say(`allowed-peers list NOT reloaded, the previous one stays: ${err instanceof Error ? err.message : String(err)}`, 'error')
      })
    }
  })
  relay.events.addEventListener('tls:reloaded', event => {
    say(`TLS certificate reloaded: ${describeCertificate(event.detail)}`)
  })
  relay.events.addEventListener('tls:reload-failed', event => {
    say(`TLS certificate NOT reloaded, still serving ${describeCertificate(event.detail.serving)}: ${event.detail.error.message}`, 'error')
  })

  // Only now: whoever reads the address may signal at once, and must find the handlers in place
  if (relay.keyCreated) {
    say(`created a new key in ${config.keyFile}, peer ID ${relay.peerId}`)
  }
  if (relay.webrtcDirect?.created === true) {
    say(`created a new WebRTC-Direct certificate in ${relay.webrtcDirect.certificateFile}, certhash ${relay.webrtcDirect.certhash}; back it up with the key file`)
  }
  if (config.webrtcDirectPort !== undefined && config.webrtcDirectPort > 0 && config.webrtcDirectPort < BROWSER_MIN_WEBRTC_PORT) {
    say(`WebRTC-Direct on UDP ${config.webrtcDirectPort}: Chromium sends no WebRTC traffic to a port below ${BROWSER_MIN_WEBRTC_PORT}, so browsers cannot use this address; Node peers can`, 'warn')
  }
  const certificate = relay.tlsCertificate()
  if (certificate !== undefined) {
    say(`serving TLS with ${describeCertificate(certificate)}`)
  }
  if (relay.metricsUrl !== undefined) {
    say(`metrics on ${relay.metricsUrl}/metrics, readiness on ${relay.metricsUrl}/healthz`)
  }
  process.stdout.write(relay.multiaddrs.map(ma => `${ma}\n`).join(''))
}

function describeCertificate (info: CertificateInfo): string {
  return `${info.subject}${info.altNames === '' ? '' : ` (${info.altNames})`}, serial ${info.serialNumber}, valid until ${info.validTo.toISOString()}`
}

async function main (): Promise<void> {
  let command
  try {
    command = parseCommandLine(process.argv.slice(2), process.env)
  } catch (err: unknown) {
    if (isRelayError(err, 'CONFIG_INVALID')) {
      fail(`${err.message}\nRun lifeline-relay --help for usage.`, EXIT_USAGE)
      return
    }
    throw err
  }

  if (command.command === 'help') {
    process.stdout.write(USAGE)
    return
  }

  logFormat = command.config.logFormat
  try {
    await run(command.config)
  } catch (err: unknown) {
    if (isRelayError(err)) {
      fail(err.message, EXIT_USAGE)
    } else {
      fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`, EXIT_FAILURE)
    }
    // a half-started libp2p node may hold sockets or timers open
    process.exit()
  }
}

await main()
