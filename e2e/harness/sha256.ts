/**
 * SHA-256 (FIPS 180-4) in plain TypeScript. The harness is served over plain http from
 * a lab address, which is not a secure context, so `crypto.subtle` is undefined there.
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

function rotr (x: number, n: number): number {
  return (x >>> n) | (x << (32 - n))
}

/** Compress every whole 64-byte block of `view` into `state`. */
function compress (state: Uint32Array, view: DataView, w: Uint32Array): void {
  for (let offset = 0; offset + 64 <= view.byteLength; offset += 64) {
    for (let t = 0; t < 16; t++) {
      w[t] = view.getUint32(offset + t * 4)
    }
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15] ?? 0
      const w2 = w[t - 2] ?? 0
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10)
      w[t] = (w[t - 16] ?? 0) + s0 + (w[t - 7] ?? 0) + s1
    }
    let [a, b, c, d, e, f, g, h] = [...state] as [number, number, number, number, number, number, number, number]
    for (let t = 0; t < 64; t++) {
      const t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + (K[t] ?? 0) + (w[t] ?? 0)
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    state[0] = (state[0] ?? 0) + a
    state[1] = (state[1] ?? 0) + b
    state[2] = (state[2] ?? 0) + c
    state[3] = (state[3] ?? 0) + d
    state[4] = (state[4] ?? 0) + e
    state[5] = (state[5] ?? 0) + f
    state[6] = (state[6] ?? 0) + g
    state[7] = (state[7] ?? 0) + h
  }
}

/** The SHA-256 digest of `data` as lowercase hex. */
export function sha256Hex (data: Uint8Array): string {
  const state = new Uint32Array(INITIAL)
  const w = new Uint32Array(64)
  const whole = data.byteLength - (data.byteLength % 64)
  compress(state, new DataView(data.buffer, data.byteOffset, whole), w)

  // Last partial block, the 0x80 marker, zero padding and the bit length.
  const tailLength = data.byteLength - whole
  const tail = new Uint8Array(tailLength + 9 <= 64 ? 64 : 128)
  tail.set(data.subarray(whole))
  tail[tailLength] = 0x80
  const tailView = new DataView(tail.buffer)
  const bits = data.byteLength * 8
  tailView.setUint32(tail.byteLength - 8, Math.floor(bits / 2 ** 32))
  tailView.setUint32(tail.byteLength - 4, bits >>> 0)
  compress(state, tailView, w)

  return Array.from(state, (word) => word.toString(16).padStart(8, '0')).join('')
}
