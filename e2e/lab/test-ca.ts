/**
 * A certificate authority made for one test, and a Chromium profile that trusts it:
 * the page and the relay's WSS listener get certificates it signs, as they would from
 * a real CA, and nothing in the browser is told to ignore certificate errors.
 * Chromium on Linux trusts the CAs in `$HOME/.pki/nssdb`, so the CA goes into an NSS
 * database (`certutil`, from Debian's libnss3-tools) under a home of its own.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exec } from './exec.js'

/** The test CA is valid for this long: one test run; a stale one is never reused. */
const CA_DAYS = 2

export interface TestCa {
  /** A home directory whose NSS database trusts the CA: Chromium's `HOME`. */
  readonly home: string
  /** A key and a certificate for `ip`, signed by the CA; paths of both. */
  issue(name: string, ip: string): Promise<{ cert: string, key: string }>
}

async function openssl (dir: string, ...args: string[]): Promise<void> {
  await exec('openssl', args, { cwd: dir })
}

export async function createTestCa (dir: string): Promise<TestCa> {
  await mkdir(dir, { recursive: true })
  await openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(CA_DAYS), '-subj', '/CN=Lifeline e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')

  const home = join(dir, 'home')
  const nssdb = join(home, '.pki', 'nssdb')
  await mkdir(nssdb, { recursive: true })
  await exec('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password'])
  // C: a trusted CA for TLS servers
  await exec('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', 'lifeline-e2e-ca', '-t', 'C,,', '-i', join(dir, 'ca.pem')])

  let serial = 1
  return {
    home,
    issue: async (name, ip) => {
      serial++
      await writeFile(join(dir, `${name}.ext`), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`)
      await openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${ip}`)
      await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-set_serial', String(serial), '-days', String(CA_DAYS), '-out', `${name}.pem`, '-extfile', `${name}.ext`)
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
    }
  }
}
