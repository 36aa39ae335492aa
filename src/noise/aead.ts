/**
 * The AEAD seam. Every implementation (the pure-TS default, @noble/ciphers, libsodium or a
 * TinyCC-compiled C build loaded through bun:ffi) is ChaCha20-Poly1305 per RFC 8439 behind the
 * same buffer-oriented interface, so cipher states can write straight into wire buffers.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";

/** One AEAD bound to one key. Methods take explicit offsets so callers can avoid copies. */
export interface AeadCipher {
  readonly name: string;
  /** Encrypts src[srcOff, srcOff+len) and writes ciphertext ‖ 16-byte tag (len + 16 bytes) at dst[dstOff]. */
  seal(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Checks the tag of src[srcOff, srcOff+len) (len includes the 16-byte tag) and writes the
   * len − 16 plaintext bytes at dst[dstOff]. Returns false, writing nothing, when the tag is wrong.
   */
  open(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean;
  /**
   * Optional: seals a[aOff, +aLen) with `nonce` and b[bOff, +bLen) with the next nonce, no associated
   * data, writing ct_a ‖ tag_a ‖ ct_b ‖ tag_b at dst[dstOff] (an SV2 frame's header and payload) in
   * one call. Providers whose calls cost more than their arithmetic offer it; `nonce` is never the
   * last one before the reserved maximum (the cipher state checks), and callers keep aLen + bLen
   * under 32 KB (the transport pairs frames of up to 16 KB).
   */
  sealPair?(nonce: Uint8Array, a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Optional, SV2 framing (the receiving half of sealPair): opens the frame whose wire bytes start at
   * src[srcOff], `avail` of them there: its 22-byte sealed header with `nonce` into header[0, 6) and,
   * when the payload is all there and is 1..maxPayload bytes in one Noise message, the payload with
   * the next nonce. Returns the payload, null when only the header was opened (so one nonce was
   * used), or false when a tag is wrong. `nonce` is never within two of the reserved maximum.
   */
  openFrame?(nonce: Uint8Array, src: Uint8Array, srcOff: number, avail: number, maxPayload: number, header: Uint8Array): Uint8Array | null | false;
}

export interface AeadProvider {
  readonly name: string;
  create(key: Uint8Array): AeadCipher;
}

export const TAG_LENGTH = 16;
const EMPTY = new Uint8Array(0);

/** @noble/ciphers behind the seam: the audited reference the others are compared with. */
class NobleChaCha20Poly1305 implements AeadCipher {
  readonly name = "noble";
  private readonly key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError("ChaCha20-Poly1305 key must be 32 bytes");
    this.key = key.slice();
  }

  seal(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    const out = chacha20poly1305(this.key, nonce, ad ?? EMPTY).encrypt(src.subarray(srcOff, srcOff + len));
    dst.set(out, dstOff);
  }

  open(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    if (len < TAG_LENGTH) return false;
    let out: Uint8Array;
    try {
      out = chacha20poly1305(this.key, nonce, ad ?? EMPTY).decrypt(src.subarray(srcOff, srcOff + len));
    } catch {
      return false;
    }
    dst.set(out, dstOff);
    return true;
  }
}

export const nobleAead: AeadProvider = {
  name: "noble",
  create: (key: Uint8Array): AeadCipher => new NobleChaCha20Poly1305(key),
};

/** Convenience one-shot encryption (tests, handshake): returns ciphertext ‖ tag. */
export function aeadSeal(cipher: AeadCipher, nonce: Uint8Array, ad: Uint8Array | null, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  cipher.seal(nonce, ad, plaintext, 0, plaintext.length, out, 0);
  return out;
}

/** Convenience one-shot decryption: the plaintext, or null when the tag does not verify. */
export function aeadOpen(cipher: AeadCipher, nonce: Uint8Array, ad: Uint8Array | null, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG_LENGTH) return null;
  const out = new Uint8Array(sealed.length - TAG_LENGTH);
  return cipher.open(nonce, ad, sealed, 0, sealed.length, out, 0) ? out : null;
}
