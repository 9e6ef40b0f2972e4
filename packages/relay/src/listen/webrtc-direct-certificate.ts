/**
 * The DTLS certificate of the WebRTC-Direct listener, kept in a file beside the key
 * file. A WebRTC-Direct address names the certificate by its hash
 * (`/webrtc-direct/certhash/<hash>`), and browsers check nothing else about it, so
 * the certificate is as much a part of the relay's address as its peer ID: it is
 * created once, with a long validity, and never replaced by the relay.
 *
 * @libp2p/webrtc would otherwise make a 14-day certificate at every start (or keep
 * one in a libp2p datastore and keychain, and renew it before expiry), and each new
 * certificate changes the certhash. Given `certificate`, its transport uses it as it
 * is and schedules no renewal (`getCertificate()` in
 * `private-to-public/transport.js` returns a supplied certificate first).
 */
// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the
// Reflect metadata API loaded first (as @libp2p/webrtc's own transport does)
import 'reflect-metadata'
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { BasicConstraintsExtension, X509CertificateGenerator } from '@peculiar/x509'
import { base64url } from 'multiformats/bases/base64'
import { sha256 } from 'multiformats/hashes/sha2'
import { KEY_FILE_MODE, WEBRTC_DIRECT_CERTIFICATE_DAYS } from '../constants.js'
import { WebRtcCertificateError } from '../errors.js'

/** What `webRTCDirect({ certificate })` takes: PEM key and certificate, and the certificate's hash. */
export interface WebRtcCertificate {
  /** PKCS#8 PEM private key. */
  privateKey: string
  /** PEM certificate. */
  pem: string
  /** Multibase base64url of the SHA-256 multihash of the certificate's DER bytes, as in `/certhash/`. */
  certhash: string
}

export interface LoadedWebRtcCertificate {
  certificate: WebRtcCertificate
  /** True when the file did not exist and this call created it. */
  created: boolean
  validTo: Date
}

const DAY_MS = 24 * 60 * 60 * 1000
const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g

/**
 * Reads the key and certificate at `path`, or creates an ECDSA P-256 pair there
 * (mode 0600) when the file does not exist.
 *
 * @throws WebRtcCertificateError (code `WEBRTC_CERTIFICATE_INVALID`) when the file
 * cannot be read or written, or does not hold a P-256 private key and a certificate
 * of that key still valid; the file is then left as it was
 */
export async function loadOrCreateWebRtcCertificate (path: string): Promise<LoadedWebRtcCertificate> {
  const existing = await readCertificateFile(path)
  if (existing !== undefined) {
    return { ...(await parseCertificateFile(existing, path)), created: false }
  }
  const text = await createCertificateText()
  try {
    // 'wx' fails if the file appeared since we looked: a racing process's certificate is never replaced
    await writeFile(path, text, { mode: KEY_FILE_MODE, flag: 'wx' })
  } catch (err: unknown) {
    if (errorCode(err) === 'EEXIST') {
      return loadOrCreateWebRtcCertificate(path)
    }
    throw new WebRtcCertificateError(`cannot create the WebRTC-Direct certificate file ${path}: ${describe(err)}`, { cause: err })
  }
  return { ...(await parseCertificateFile(text, path)), created: true }
}

/** The certhash of a certificate, computed as @libp2p/webrtc does (`generate-certificates.js`). */
export async function certhashOf (der: Uint8Array): Promise<string> {
  return base64url.encode((await sha256.digest(der)).bytes)
}

async function createCertificateText (): Promise<string> {
  const keys = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const notBefore = new Date()
  // whole seconds: X.509 times have no milliseconds (PeculiarVentures/x509#73)
  notBefore.setMilliseconds(0)
  const notAfter = new Date(notBefore.getTime() + WEBRTC_DIRECT_CERTIFICATE_DAYS * DAY_MS)
  const serial = randomBytes(16)
  // a positive serial number (RFC 5280 4.1.2.2)
  serial[0] = (serial[0] ?? 0) & 0x7f
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=lifeline-relay',
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [new BasicConstraintsExtension(false, undefined, true)]
  }, globalThis.crypto)
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString()
  return `${keyPem.trim()}\n${certificate.toString('pem').trim()}\n`
}

async function readCertificateFile (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') {
      return undefined
    }
    throw new WebRtcCertificateError(`cannot read the WebRTC-Direct certificate file ${path}: ${describe(err)}`, { cause: err })
  }
}

async function parseCertificateFile (text: string, path: string): Promise<{ certificate: WebRtcCertificate, validTo: Date }> {
  const invalid = (what: string, cause?: unknown): WebRtcCertificateError => new WebRtcCertificateError(
    `WebRTC-Direct certificate file ${path} ${what}; it was left untouched. Restore it from the backup of the key file, ` +
    'or move it away to create a new one (the relay\'s /certhash/ then changes, and so does every address of it that apps keep)',
    cause === undefined ? undefined : { cause }
  )
  const blocks = [...text.matchAll(PEM_BLOCK)]
  const keyPem = blocks.find(block => block[1] === 'PRIVATE KEY')?.[0]
  const certPem = blocks.find(block => block[1] === 'CERTIFICATE')?.[0]
  if (keyPem === undefined || certPem === undefined) {
    throw invalid('does not hold a PEM "PRIVATE KEY" and a PEM "CERTIFICATE"')
  }
  let key: KeyObject
  let certificate: X509Certificate
  try {
    key = createPrivateKey(keyPem)
    certificate = new X509Certificate(certPem)
  } catch (err: unknown) {
    // the parser's message may quote key material, so it is kept only as `cause`
    throw invalid('holds a private key or certificate that does not parse', err)
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid('holds a key that is not ECDSA P-256 (the only kind browsers take for WebRTC-Direct)')
  }
  if (!certificate.checkPrivateKey(key)) {
    throw invalid('holds a certificate of another key')
  }
  const validTo = new Date(certificate.validTo)
  if (!(validTo.getTime() > Date.now())) {
    throw invalid(`holds a certificate that expired on ${certificate.validTo}`)
  }
  return {
    certificate: {
      privateKey: keyPem,
      pem: certificate.toString().trim(),
      certhash: await certhashOf(new Uint8Array(certificate.raw))
    },
    validTo
  }
}

function errorCode (err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
}

function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
