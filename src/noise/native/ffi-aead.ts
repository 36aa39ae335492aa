/**
 * An AeadCipher over a native function pair with the shape
 *   seal(dst, src, len, ad, adLen, nonce, key) / open(dst, src, len, ad, adLen, nonce, key) → 0 | −1
 * reached through bun:ffi. Shared by the libsodium and TinyCC providers.
 */
import { ptr } from "bun:ffi";
import type { Pointer } from "bun:ffi";
import type { AeadCipher } from "../aead.ts";

export type NativeAeadCall = (
  dst: Pointer | null,
  src: Pointer | null,
  len: number,
  ad: Pointer | null,
  adLen: number,
  nonce: Pointer,
  key: Pointer,
) => number;

function at(buf: Uint8Array, off: number, len: number): Pointer | null {
  // ptr() refuses an empty view; native code never reads a zero-length input.
  return len === 0 ? null : ptr(buf, off);
}

export class FfiAead implements AeadCipher {
  private readonly key: Uint8Array;
  private readonly keyPtr: Pointer;

  constructor(
    readonly name: string,
    key: Uint8Array,
    private readonly sealCall: NativeAeadCall,
    private readonly openCall: NativeAeadCall,
  ) {
    if (key.length !== 32) throw new RangeError("ChaCha20-Poly1305 key must be 32 bytes");
    // Own copy, kept alive by this object, so the pointer stays valid.
    this.key = key.slice();
    this.keyPtr = ptr(this.key);
  }

  seal(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (dstOff + len + 16 > dst.length || srcOff + len > src.length) throw new RangeError("seal: buffer too small");
    const adLen = ad === null ? 0 : ad.length;
    this.sealCall(ptr(dst, dstOff), at(src, srcOff, len), len, ad === null ? null : at(ad, 0, adLen), adLen, ptr(nonce), this.keyPtr);
  }

  open(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    if (len < 16) return false;
    if (srcOff + len > src.length || dstOff + len - 16 > dst.length) throw new RangeError("open: buffer too small");
    const adLen = ad === null ? 0 : ad.length;
    return this.openCall(at(dst, dstOff, len - 16), ptr(src, srcOff), len, ad === null ? null : at(ad, 0, adLen), adLen, ptr(nonce), this.keyPtr) === 0;
  }
}
