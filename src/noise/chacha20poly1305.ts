/**
 * ChaCha20-Poly1305 (RFC 8439), written for small messages: SV2 sends a 6-byte encrypted header
 * and usually a payload under 100 bytes, so the per-call cost matters more than bulk speed.
 * A cipher object is bound to one key and reuses its scratch buffers; a call allocates nothing.
 *
 * Poly1305 keeps the accumulator in six 22-bit limbs held in float64 locals, sized so that every
 * column sum of the 132-bit product is exact below 2^53: 36 multiplications per 16-byte block,
 * against 100 for the usual 13-bit-limb layout in JavaScript.
 */
import type { AeadCipher, AeadProvider } from "./aead.ts";

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error("chacha20poly1305.ts assumes a little-endian platform");
}

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

const TWO_22 = 4194304;
const INV_2_22 = 1 / TWO_22;
const TWO_20 = 1048576;
const INV_2_20 = 1 / TWO_20;
const MASK22 = 0x3fffff;

function load32(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}

/**
 * One ChaCha20 block for (key, counter, nonce words) into `out` (16 words).
 */
function chachaBlock(k: Uint32Array, counter: number, n0: number, n1: number, n2: number, out: Uint32Array): void {
  const k0 = k[0] as number, k1 = k[1] as number, k2 = k[2] as number, k3 = k[3] as number;
  const k4 = k[4] as number, k5 = k[5] as number, k6 = k[6] as number, k7 = k[7] as number;
  let x0 = SIGMA0, x1 = SIGMA1, x2 = SIGMA2, x3 = SIGMA3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = counter, x13 = n0, x14 = n1, x15 = n2;
  for (let i = 0; i < 10; i++) {
    // column round
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    // diagonal round
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  out[0] = x0 + SIGMA0;
  out[1] = x1 + SIGMA1;
  out[2] = x2 + SIGMA2;
  out[3] = x3 + SIGMA3;
  out[4] = x4 + k0;
  out[5] = x5 + k1;
  out[6] = x6 + k2;
  out[7] = x7 + k3;
  out[8] = x8 + k4;
  out[9] = x9 + k5;
  out[10] = x10 + k6;
  out[11] = x11 + k7;
  out[12] = x12 + counter;
  out[13] = x13 + n0;
  out[14] = x14 + n1;
  out[15] = x15 + n2;
}

/**
 * A Poly1305 accumulator for one message. h and r are held as six 22-bit limbs (132 bits) in
 * float64 locals: a product h_i·20·r_j stays below 2^50 and a column of six below 2^53, so
 * every sum is exact. Columns that pass 2^132 wrap with factor 20 (2^130 ≡ 5, so 2^132 ≡ 20).
 */
class Poly1305 {
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;
  private h5 = 0;
  private readonly r = new Float64Array(6);
  private readonly pad = new Uint32Array(4);
  private readonly block = new Uint8Array(16);

  /** Starts a message with the 32-byte one-time key key[off..off+32). */
  init(key: Uint8Array, off: number): void {
    // Clamp per RFC 8439 §2.5: clear the top 4 bits of r bytes 3, 7, 11, 15 and the low 2 of 4, 8, 12.
    const t0 = load32(key, off) & 0x0fffffff;
    const t1 = load32(key, off + 4) & 0x0ffffffc;
    const t2 = load32(key, off + 8) & 0x0ffffffc;
    const t3 = load32(key, off + 12) & 0x0ffffffc;
    const r = this.r;
    r[0] = t0 & MASK22;
    r[1] = ((t0 >>> 22) | (t1 << 10)) & MASK22;
    r[2] = ((t1 >>> 12) | (t2 << 20)) & MASK22;
    r[3] = (t2 >>> 2) & MASK22;
    r[4] = ((t2 >>> 24) | (t3 << 8)) & MASK22;
    r[5] = t3 >>> 14;
    this.pad[0] = load32(key, off + 16);
    this.pad[1] = load32(key, off + 20);
    this.pad[2] = load32(key, off + 24);
    this.pad[3] = load32(key, off + 28);
    this.h0 = this.h1 = this.h2 = this.h3 = this.h4 = this.h5 = 0;
  }

  /**
   * Absorbs `len` bytes, zero-padded to a multiple of 16 (the AEAD construction pads AD and
   * ciphertext that way, and every block then carries the 2^128 bit).
   */
  padded(data: Uint8Array, off: number, len: number): void {
    const full = len & ~15;
    if (full > 0) this.blocks(data, off, full);
    const rest = len - full;
    if (rest > 0) {
      const b = this.block;
      b.fill(0);
      for (let i = 0; i < rest; i++) b[i] = data[off + full + i] as number;
      this.blocks(b, 0, 16);
    }
  }

  /** The final block: AD length and ciphertext length as u64 LE. */
  lengths(adLen: number, ctLen: number): void {
    const b = this.block;
    b.fill(0);
    writeU64(b, 0, adLen);
    writeU64(b, 8, ctLen);
    this.blocks(b, 0, 16);
  }

  private blocks(m: Uint8Array, off: number, len: number): void {
    let h0 = this.h0, h1 = this.h1, h2 = this.h2, h3 = this.h3, h4 = this.h4, h5 = this.h5;
    const r = this.r;
    const r0 = r[0] as number, r1 = r[1] as number, r2 = r[2] as number, r3 = r[3] as number, r4 = r[4] as number, r5 = r[5] as number;
    const s1 = r1 * 20, s2 = r2 * 20, s3 = r3 * 20, s4 = r4 * 20, s5 = r5 * 20;
    for (let o = off; o < off + len; o += 16) {
      const m0 = load32(m, o), m1 = load32(m, o + 4), m2 = load32(m, o + 8), m3 = load32(m, o + 12);
      h0 += m0 & MASK22;
      h1 += ((m0 >>> 22) | (m1 << 10)) & MASK22;
      h2 += ((m1 >>> 12) | (m2 << 20)) & MASK22;
      h3 += (m2 >>> 2) & MASK22;
      h4 += ((m2 >>> 24) | (m3 << 8)) & MASK22;
      h5 += (m3 >>> 14) + 262144; // the 2^128 bit, at bit 18 of limb 5

      const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
      const d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
      const d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
      const d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
      const d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
      const d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

      // Two rounds of independent carries (shorter dependency chain than one sequential pass):
      // quotients stay below 2^31, so `>>> 0` is an exact floor.
      const c0 = (d0 * INV_2_22) >>> 0, c1 = (d1 * INV_2_22) >>> 0, c2 = (d2 * INV_2_22) >>> 0;
      const c3 = (d3 * INV_2_22) >>> 0, c4 = (d4 * INV_2_22) >>> 0, c5 = (d5 * INV_2_22) >>> 0;
      const e0 = d0 - c0 * TWO_22 + c5 * 20; // 2^132 ≡ 20
      const e1 = d1 - c1 * TWO_22 + c0;
      const e2 = d2 - c2 * TWO_22 + c1;
      const e3 = d3 - c3 * TWO_22 + c2;
      const e4 = d4 - c4 * TWO_22 + c3;
      const e5 = d5 - c5 * TWO_22 + c4;
      const f0 = (e0 * INV_2_22) >>> 0, f1 = (e1 * INV_2_22) >>> 0, f2 = (e2 * INV_2_22) >>> 0;
      const f3 = (e3 * INV_2_22) >>> 0, f4 = (e4 * INV_2_22) >>> 0, f5 = (e5 * INV_2_22) >>> 0;
      h0 = e0 - f0 * TWO_22 + f5 * 20;
      h1 = e1 - f1 * TWO_22 + f0;
      h2 = e2 - f2 * TWO_22 + f1;
      h3 = e3 - f3 * TWO_22 + f2;
      h4 = e4 - f4 * TWO_22 + f3;
      h5 = e5 - f5 * TWO_22 + f4;
    }
    this.h0 = h0;
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
    this.h4 = h4;
    this.h5 = h5;
  }

  /** Writes the 16-byte tag: (h mod 2^130−5) + s mod 2^128. */
  tag(out: Uint8Array, off: number): void {
    let h0 = this.h0, h1 = this.h1, h2 = this.h2, h3 = this.h3, h4 = this.h4, h5 = this.h5;
    // Carry until h < 2^130 with every limb below 2^22 (limb 5 below 2^20), folding 2^130 ≡ 5.
    let c = 1;
    while (c !== 0) {
      c = Math.floor(h0 * INV_2_22); h0 -= c * TWO_22; h1 += c;
      c = Math.floor(h1 * INV_2_22); h1 -= c * TWO_22; h2 += c;
      c = Math.floor(h2 * INV_2_22); h2 -= c * TWO_22; h3 += c;
      c = Math.floor(h3 * INV_2_22); h3 -= c * TWO_22; h4 += c;
      c = Math.floor(h4 * INV_2_22); h4 -= c * TWO_22; h5 += c;
      c = Math.floor(h5 * INV_2_20); h5 -= c * TWO_20; h0 += c * 5;
    }
    // g = h + 5 − 2^130; when it is non-negative, h ≥ p and g is the reduced value.
    let g0 = h0 + 5;
    c = Math.floor(g0 * INV_2_22); g0 -= c * TWO_22;
    let g1 = h1 + c;
    c = Math.floor(g1 * INV_2_22); g1 -= c * TWO_22;
    let g2 = h2 + c;
    c = Math.floor(g2 * INV_2_22); g2 -= c * TWO_22;
    let g3 = h3 + c;
    c = Math.floor(g3 * INV_2_22); g3 -= c * TWO_22;
    let g4 = h4 + c;
    c = Math.floor(g4 * INV_2_22); g4 -= c * TWO_22;
    const g5 = h5 + c - TWO_20;
    if (g5 >= 0) {
      h0 = g0; h1 = g1; h2 = g2; h3 = g3; h4 = g4; h5 = g5;
    }
    // Repack 22-bit limbs into four 32-bit words and add s with carries.
    const w0 = (h0 | (h1 << 22)) >>> 0;
    const w1 = ((h1 >>> 10) | (h2 << 12)) >>> 0;
    const w2 = ((h2 >>> 20) | (h3 << 2) | (h4 << 24)) >>> 0;
    const w3 = ((h4 >>> 8) | (h5 << 14)) >>> 0;
    const pad = this.pad;
    let f = w0 + (pad[0] as number);
    writeU32(out, off, f);
    f = w1 + (pad[1] as number) + (f > 0xffffffff ? 1 : 0);
    writeU32(out, off + 4, f);
    f = w2 + (pad[2] as number) + (f > 0xffffffff ? 1 : 0);
    writeU32(out, off + 8, f);
    f = w3 + (pad[3] as number) + (f > 0xffffffff ? 1 : 0);
    writeU32(out, off + 12, f);
  }
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

function writeU64(b: Uint8Array, o: number, v: number): void {
  writeU32(b, o, v >>> 0);
  writeU32(b, o + 4, Math.floor(v / 4294967296) >>> 0);
}

/*
 * Scratch shared by every cipher: a seal or open runs to completion before the next one starts (one
 * JS thread; a Worker loads its own copy of this module), so only the key needs to be per cipher.
 * A pool holds two ciphers per connected miner; per-cipher scratch was most of their memory.
 */
const POLY = new Poly1305();
const KS = new Uint32Array(16);
const KS8 = new Uint8Array(KS.buffer);
const TAG = new Uint8Array(16);

/** A ChaCha20-Poly1305 instance bound to one 32-byte key. Not re-entrant (shared scratch). */
export class ChaCha20Poly1305 implements AeadCipher {
  readonly name = "pure-ts";
  private readonly key = new Uint32Array(8);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError("ChaCha20-Poly1305 key must be 32 bytes");
    for (let i = 0; i < 8; i++) this.key[i] = load32(key, i * 4);
  }

  /** XORs len bytes of src with the keystream starting at block 1, into dst. */
  private xorStream(n0: number, n1: number, n2: number, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    const ks8 = KS8;
    let counter = 1;
    for (let pos = 0; pos < len; pos += 64) {
      chachaBlock(this.key, counter++, n0, n1, n2, KS);
      const end = Math.min(64, len - pos);
      const s = srcOff + pos;
      const d = dstOff + pos;
      for (let i = 0; i < end; i++) dst[d + i] = (src[s + i] as number) ^ (ks8[i] as number);
    }
  }

  private startPoly(n0: number, n1: number, n2: number): void {
    chachaBlock(this.key, 0, n0, n1, n2, KS);
    POLY.init(KS8, 0);
  }

  seal(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    const n0 = load32(nonce, 0), n1 = load32(nonce, 4), n2 = load32(nonce, 8);
    this.startPoly(n0, n1, n2);
    this.xorStream(n0, n1, n2, src, srcOff, len, dst, dstOff);
    const poly = POLY;
    const adLen = ad === null ? 0 : ad.length;
    if (ad !== null && adLen > 0) poly.padded(ad, 0, adLen);
    poly.padded(dst, dstOff, len);
    poly.lengths(adLen, len);
    poly.tag(dst, dstOff + len);
  }

  open(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    if (len < 16) return false;
    const ctLen = len - 16;
    const n0 = load32(nonce, 0), n1 = load32(nonce, 4), n2 = load32(nonce, 8);
    this.startPoly(n0, n1, n2);
    const poly = POLY;
    const adLen = ad === null ? 0 : ad.length;
    if (ad !== null && adLen > 0) poly.padded(ad, 0, adLen);
    poly.padded(src, srcOff, ctLen);
    poly.lengths(adLen, ctLen);
    const tag = TAG;
    poly.tag(tag, 0);
    // Compare without an early exit.
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= (tag[i] as number) ^ (src[srcOff + ctLen + i] as number);
    if (diff !== 0) return false;
    this.xorStream(n0, n1, n2, src, srcOff, ctLen, dst, dstOff);
    return true;
  }
}

export const pureAead: AeadProvider = {
  name: "pure-ts",
  create: (key: Uint8Array): AeadCipher => new ChaCha20Poly1305(key),
};
