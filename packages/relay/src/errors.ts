/**
 * Errors the relay reports to its operator. Each has a stable `code` and `name`;
 * check them with `isRelayError` rather than `instanceof`, which fails when a
 * bundle holds two copies of this package.
 */

export type RelayErrorCode = 'CONFIG_INVALID' | 'KEY_FILE_INVALID' | 'AUTH_KEY_INVALID' | 'TLS_CERTIFICATE_INVALID' | 'WEBRTC_CERTIFICATE_INVALID'

export class RelayError extends Error {
  readonly code: RelayErrorCode

  constructor (code: RelayErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'RelayError'
  }
}

/** A flag or environment variable is unknown, missing its value or out of range. */
export class ConfigError extends RelayError {
  constructor (message: string) {
    super('CONFIG_INVALID', message)
    this.name = 'ConfigError'
  }
}

/** The key file cannot be read, created or parsed. It is never overwritten. */
export class KeyFileError extends RelayError {
  constructor (message: string, options?: ErrorOptions) {
    super('KEY_FILE_INVALID', message, options)
    this.name = 'KeyFileError'
  }
}

/** An `--auth-public-key` file cannot be read or does not hold an Ed25519 public key. */
export class AuthKeyError extends RelayError {
  constructor (message: string, options?: ErrorOptions) {
    super('AUTH_KEY_INVALID', message, options)
    this.name = 'AuthKeyError'
  }
}

/**
 * The `--tls-cert` or `--tls-key` file cannot be read, is not PEM, or the key does
 * not belong to the certificate.
 */
export class TlsCertificateError extends RelayError {
  constructor (message: string, options?: ErrorOptions) {
    super('TLS_CERTIFICATE_INVALID', message, options)
    this.name = 'TlsCertificateError'
  }
}

/**
 * The WebRTC-Direct certificate file beside the key file cannot be read or created,
 * or does not hold a matching ECDSA P-256 key and certificate. It is never
 * overwritten: a new certificate would change the relay's certhash.
 */
export class WebRtcCertificateError extends RelayError {
  constructor (message: string, options?: ErrorOptions) {
    super('WEBRTC_CERTIFICATE_INVALID', message, options)
    this.name = 'WebRtcCertificateError'
  }
}

export function isRelayError (err: unknown, code?: RelayErrorCode): err is RelayError {
  if (typeof err !== 'object' || err === null || !('code' in err)) {
    return false
  }
  const known: readonly unknown[] = ['CONFIG_INVALID', 'KEY_FILE_INVALID', 'AUTH_KEY_INVALID', 'TLS_CERTIFICATE_INVALID', 'WEBRTC_CERTIFICATE_INVALID'] satisfies RelayErrorCode[]
  return known.includes(err.code) && (code === undefined || err.code === code)
}
