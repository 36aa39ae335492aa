/**
 * A Noise CipherState: one key and its 64-bit nonce counter (12-byte nonce = 4 zero bytes ‖ u64 LE).
 * The counter can never repeat or wrap: like sv2-tp, nonce 2^64−1 is refused with a typed error
 * (Noise reserves it), so the last usable nonce is 2^64−2.
 */
import { NoiseError } from "./errors.ts";
import { TAG_LENGTH } from "./aead.ts";
import type { AeadCipher, AeadProvider } from "./aead.ts";
import { pureAead } from "./chacha20poly1305.ts";
import { loadWasmAead } from "./wasm/aead.ts";

/**
 * The AEAD used when none is given: the embedded WebAssembly build (measured fastest without
 * native code, bench/noise.ts), pure TypeScript where WebAssembly is unavailable. Neither needs
 * a native library, so the single binary stays self-contained.
 */
export const defaultAeadProvider: AeadProvider = loadWasmAead() ?? pureAead;

export const MAX_NONCE: bigint = 0xffffffffffffffffn;
const TWO_32 = 4294967296;
/**
 * The 12-byte nonce handed to the AEAD, shared by every cipher state: it is rewritten from the
 * counter before each call and no AEAD keeps it past the call (two states per connected miner).
 */
const NONCE = new Uint8Array(12);

export class CipherState {
  private readonly cipher: AeadCipher;
  // The counter as two u32 halves: exact up to 2^64 − 1 without bigint arithmetic per call.
  private lo = 0;
  private hi = 0;

  constructor(key: Uint8Array, provider: AeadProvider = defaultAeadProvider) {
    if (key.length !== 32) throw new NoiseError("invalid-input", "cipher key must be 32 bytes");
    this.cipher = provider.create(key);
  }

  get implementation(): string {
    return this.cipher.name;
  }

  /** The nonce the next AEAD call will use. */
  get nonce(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Noise SetNonce: for resuming state in tests and for replaying recorded traffic. */
  setNonce(n: bigint): void {
    if (n < 0n || n > MAX_NONCE) throw new NoiseError("invalid-input", `nonce ${n} is outside 0..2^64−1`);
    this.lo = Number(n & 0xffffffffn);
    this.hi = Number(n >> 32n);
  }

  /** Prepares the 12-byte nonce for the current counter, refusing the reserved maximum. */
  private currentNonce(): Uint8Array {
    if (this.lo === 0xffffffff && this.hi === 0xffffffff) {
      throw new NoiseError("nonce-exhausted", "cipher nonce reached 2^64−1: the connection must be re-established");
    }
    const b = NONCE;
    const lo = this.lo;
    const hi = this.hi;
    b[4] = lo & 0xff;
    b[5] = (lo >>> 8) & 0xff;
    b[6] = (lo >>> 16) & 0xff;
    b[7] = lo >>> 24;
    b[8] = hi & 0xff;
    b[9] = (hi >>> 8) & 0xff;
    b[10] = (hi >>> 16) & 0xff;
    b[11] = hi >>> 24;
    return b;
  }

  /** Whether this nonce and the next are both usable (one-call frames need two; 2^64 − 2 is the last). */
  private twoNoncesLeft(): boolean {
    return !(this.lo >= 0xfffffffe && this.hi === 0xffffffff);
  }

  private macMismatch(): NoiseError {
    return new NoiseError("mac-mismatch", `authentication tag mismatch at nonce ${this.nonce}`);
  }

  private advance(): void {
    this.lo++;
    if (this.lo === TWO_32) {
      this.lo = 0;
      this.hi++;
    }
  }

  /** Encrypts src[srcOff, +len) into dst[dstOff, +len+16) with the next nonce. */
  sealInto(ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    this.cipher.seal(this.currentNonce(), ad, src, srcOff, len, dst, dstOff);
    this.advance();
  }

  /**
   * Seals a[aOff, +aLen) then b[bOff, +bLen) with the next two nonces, writing both (each with its
   * tag) one after the other at dst[dstOff]: one AEAD call where the provider offers it.
   */
  sealPairInto(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number, dst: Uint8Array, dstOff: number): void {
    if (this.cipher.sealPair === undefined || !this.twoNoncesLeft()) {
      this.sealInto(null, a, aOff, aLen, dst, dstOff);
      this.sealInto(null, b, bOff, bLen, dst, dstOff + aLen + TAG_LENGTH);
      return;
    }
    this.cipher.sealPair(this.currentNonce(), a, aOff, aLen, b, bOff, bLen, dst, dstOff);
    this.advance();
    this.advance();
  }

  /**
   * Decrypts src[srcOff, +len) (len includes the tag) into dst[dstOff, +len−16) with the next
   * nonce. A wrong tag throws `mac-mismatch` and leaves the counter where it was.
   */
  openInto(ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (len < TAG_LENGTH) throw new NoiseError("invalid-input", `ciphertext of ${len} bytes is shorter than a tag`);
    if (!this.cipher.open(this.currentNonce(), ad, src, srcOff, len, dst, dstOff)) throw this.macMismatch();
    this.advance();
  }

  /**
   * Opens an SV2 frame's sealed header at src[srcOff] into header[0, 6) and, when src holds all of
   * it (avail bytes from srcOff), its payload, in one AEAD call (AeadCipher.openFrame). Returns the
   * payload, null when only the header was opened, or undefined when the provider has no such call
   * (then use openInto). A wrong tag throws `mac-mismatch`.
   */
  openFrame(src: Uint8Array, srcOff: number, avail: number, maxPayload: number, header: Uint8Array): Uint8Array | null | undefined {
    if (this.cipher.openFrame === undefined || !this.twoNoncesLeft()) return undefined;
    const payload = this.cipher.openFrame(this.currentNonce(), src, srcOff, avail, maxPayload, header);
    if (payload === false) throw this.macMismatch();
    this.advance();
    if (payload !== null) this.advance();
    return payload;
  }

  encryptWithAd(ad: Uint8Array | null, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    this.sealInto(ad, plaintext, 0, plaintext.length, out, 0);
    return out;
  }

  decryptWithAd(ad: Uint8Array | null, ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length < TAG_LENGTH) throw new NoiseError("invalid-input", `ciphertext of ${ciphertext.length} bytes is shorter than a tag`);
    const out = new Uint8Array(ciphertext.length - TAG_LENGTH);
    this.openInto(ad, ciphertext, 0, ciphertext.length, out, 0);
    return out;
  }
}
