import './node-compat.js'

export { createRelay } from './relay.js'
export type { CertificateInfo, Relay, RelayEvents, RelayStats, TlsEvents, WebRtcDirectInfo } from './relay.js'
export { defaultRelayConfig, parseCommandLine, USAGE } from './config.js'
export type { CliCommand, Environment, ListenAddress, RelayConfig } from './config.js'
export { AuthKeyError, ConfigError, KeyFileError, RelayError, TlsCertificateError, WebRtcCertificateError, isRelayError } from './errors.js'
export type { RelayErrorCode } from './errors.js'
