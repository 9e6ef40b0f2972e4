/**
 * A throwaway certificate authority for the TLS tests, made with the `openssl` CLI:
 * P-256 keys (fast to make), certificates for localhost and 127.0.0.1.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCa {
  /** The CA certificate (PEM) clients trust. */
  ca: Buffer
  /** A new key and a certificate signed by the CA; paths of both. */
  issue(name: string, serial: number, days: number): { cert: string, key: string }
}

export function createTestCa (dir: string): TestCa {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  }
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Lifeline test CA')
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    issue: (name, serial, days) => {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=localhost/O=Lifeline test ${name}`)
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial),
        '-days', String(days), '-out', `${name}.pem`, '-extfile', 'san.cnf')
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
    }
  }
}
