/**
 * The certificate and key the relay's TLS listener serves, kept current without a
 * restart. Certificates from ACME (certbot, lego, acme.sh) live 90 days and are
 * renewed by replacing the files, so the relay loads them again when either file
 * changes (a debounced watch on their directories, which also sees a file replaced
 * by rename or a symlink swapped, as certbot does in `live/`) and when asked (SIGHUP).
 * A new pair applies to new TLS connections only; open ones keep their session.
 * A pair that does not load (bad PEM, a key of another certificate) changes nothing:
 * the relay goes on serving the last good one and says why.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import { TypedEventEmitter } from 'main-event'
import { TlsCertificateError } from '../errors.js'
import type { Logger } from '@libp2p/interface'

/** What `tls.Server.setSecureContext()` and `https.createServer()` take. */
export interface TlsFiles {
  cert: Buffer
  key: Buffer
}

/** What the operator may read about a certificate; nothing of the key. */
export interface CertificateInfo {
  subject: string
  /** Subject alternative names, e.g. `DNS:relay.example.com`. */
  altNames: string
  serialNumber: string
  validFrom: Date
  validTo: Date
}

/** What happens to the served certificate, for the operator (the CLI prints both). */
export interface TlsEvents {
  /** A new certificate is served to new connections. */
  'tls:reloaded': CustomEvent<CertificateInfo>
  /** The files changed (or SIGHUP came) but did not load; `serving` is still served. */
  'tls:reload-failed': CustomEvent<{ error: TlsCertificateError, serving: CertificateInfo }>
}

export interface TlsCertificatesInit {
  certFile: string
  keyFile: string
  /** Quiet time after the last change before the files are read. */
  debounceMs: number
  log: Logger
}

/**
 * Reads and checks a certificate and key pair.
 *
 * @throws TlsCertificateError when a file cannot be read or parsed, or the key is not the certificate's
 */
export async function loadTlsFiles (certFile: string, keyFile: string): Promise<{ files: TlsFiles, info: CertificateInfo }> {
  const cert = await read(certFile, 'certificate')
  const key = await read(keyFile, 'private key')
  let x509: X509Certificate
  try {
    // the first certificate of a chain is the server's own
    x509 = new X509Certificate(cert)
  } catch (err: unknown) {
    throw new TlsCertificateError(`${certFile} does not hold a PEM certificate: ${message(err)}`, { cause: err })
  }
  let matches: boolean
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key))
  } catch (err: unknown) {
    throw new TlsCertificateError(`${keyFile} does not hold a PEM private key: ${message(err)}`, { cause: err })
  }
  if (!matches) {
    throw new TlsCertificateError(`${keyFile} is not the private key of the certificate in ${certFile} (${x509.subject.replaceAll('\n', ', ')})`)
  }
  try {
    // what the listener will do with them; catches a chain with a broken intermediate
    createSecureContext({ cert, key })
  } catch (err: unknown) {
    throw new TlsCertificateError(`${certFile} and ${keyFile} cannot be used for TLS: ${message(err)}`, { cause: err })
  }
  return {
    files: { cert, key },
    info: {
      subject: x509.subject.replaceAll('\n', ', '),
      altNames: x509.subjectAltName ?? '',
      serialNumber: x509.serialNumber,
      validFrom: new Date(x509.validFrom),
      validTo: new Date(x509.validTo)
    }
  }
}

/** The files as loaded now, reloaded on change; `onChange` hears every new pair. */
export class TlsCertificates extends TypedEventEmitter<TlsEvents> {
  private readonly init: TlsCertificatesInit
  private current: TlsFiles
  private currentInfo: CertificateInfo
  private readonly listeners = new Set<(files: TlsFiles) => void>()
  private readonly watchers: FSWatcher[] = []
  private debounce: ReturnType<typeof setTimeout> | undefined
  /** Reloads run one at a time, so an older read never replaces a newer one. */
  private reloading: Promise<unknown> = Promise.resolve()

  private constructor (init: TlsCertificatesInit, loaded: { files: TlsFiles, info: CertificateInfo }) {
    super()
    this.init = init
    this.current = loaded.files
    this.currentInfo = loaded.info
  }

  /**
   * Loads the pair and starts watching it.
   *
   * @throws TlsCertificateError when the pair does not load
   */
  static async open (init: TlsCertificatesInit): Promise<TlsCertificates> {
    const loaded = await loadTlsFiles(init.certFile, init.keyFile)
    const certificates = new TlsCertificates(init, loaded)
    certificates.log('loaded', loaded.info)
    certificates.watch()
    return certificates
  }

  get files (): TlsFiles {
    return this.current
  }

  get info (): CertificateInfo {
    return this.currentInfo
  }

  /** Calls `listener` with each new pair; returns the function that stops it. */
  onChange (listener: (files: TlsFiles) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * Reads both files again and, when they load, serves them to new connections.
   *
   * @throws TlsCertificateError when they do not load; the pair served before stays
   */
  async reload (): Promise<CertificateInfo> {
    const next = this.reloading.then(async () => this.load())
    this.reloading = next.catch(() => {})
    return next
  }

  close (): void {
    clearTimeout(this.debounce)
    for (const watcher of this.watchers.splice(0)) {
      watcher.close()
    }
    this.listeners.clear()
  }

  private async load (): Promise<CertificateInfo> {
    let loaded
    try {
      loaded = await loadTlsFiles(this.init.certFile, this.init.keyFile)
    } catch (err: unknown) {
      const error = err instanceof TlsCertificateError ? err : new TlsCertificateError(message(err), { cause: err })
      this.init.log.error('TLS certificate not reloaded, still serving %s (serial %s, valid until %s): %s',
        this.currentInfo.subject, this.currentInfo.serialNumber, this.currentInfo.validTo.toISOString(), error.message)
      this.safeDispatchEvent('tls:reload-failed', { detail: { error, serving: this.currentInfo } })
      throw error
    }
    if (loaded.files.cert.equals(this.current.cert) && loaded.files.key.equals(this.current.key)) {
      return this.currentInfo
    }
    this.current = loaded.files
    this.currentInfo = loaded.info
    for (const listener of this.listeners) {
      listener(loaded.files)
    }
    this.log('reloaded', loaded.info)
    this.safeDispatchEvent('tls:reloaded', { detail: loaded.info })
    return loaded.info
  }

  private log (what: string, info: CertificateInfo): void {
    this.init.log('TLS certificate %s: %s (%s), serial %s, valid until %s', what, info.subject, info.altNames, info.serialNumber, info.validTo.toISOString())
  }

  /**
   * Watches the directories, not the files: a watch on a file follows its inode, and
   * a file replaced by rename (or a symlink swapped) is a new inode it never sees.
   */
  private watch (): void {
    const files = [resolve(this.init.certFile), resolve(this.init.keyFile)]
    const names = new Set(files.map(file => basename(file)))
    for (const dir of new Set(files.map(file => dirname(file)))) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename === null || names.has(basename(filename))) {
            this.scheduleReload()
          }
        })
        watcher.on('error', err => { this.init.log.error('stopped watching %s for certificate changes: %s', dir, err.message) })
        this.watchers.push(watcher)
      } catch (err: unknown) {
        // the relay still serves, and SIGHUP still reloads
        this.init.log.error('cannot watch %s for certificate changes (reload with SIGHUP): %s', dir, message(err))
      }
    }
  }

  private scheduleReload (): void {
    clearTimeout(this.debounce)
    this.debounce = setTimeout(() => {
      // a failure is logged by load(); the next change or SIGHUP tries again
      this.reload().catch(() => {})
    }, this.init.debounceMs)
  }
}

async function read (file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (err: unknown) {
    throw new TlsCertificateError(`cannot read the TLS ${what} ${file}: ${message(err)}`, { cause: err })
  }
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
