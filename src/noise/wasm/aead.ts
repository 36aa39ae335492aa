/**
 * ChaCha20-Poly1305 from chacha20poly1305.c in WebAssembly, behind the AeadCipher seam. The module
 * is embedded (base64) and compiled once, on first use; `loadWasmAead()` answers null when
 * WebAssembly is unavailable and selection falls back to the pure-TypeScript cipher.
 *
 * A call copies key, nonce, associated data and message into the module's buffer and the result
 * back: for share-sized frames that copying is ~100 ns, against microseconds saved on the ChaCha
 * and Poly1305 arithmetic (bench/noise.ts prints every provider side by side).
 */
import type { AeadCipher, AeadProvider } from "../aead.ts";
import { TAG_LENGTH } from "../aead.ts";
import { WASM_BASE64 } from "./chacha20poly1305-wasm.ts";
import { instantiateEmbedded } from "./instantiate.ts";

interface Exports {
  memory: WebAssembly.Memory;
  buf_ptr(): number;
  seal(len: number, adLen: number): number;
  seal2(lenA: number, lenB: number): number;
  open(len: number, adLen: number): number;
  open_frame(avail: number, maxPayload: number): number;
}

/** Offsets in the module's buffer (see chacha20poly1305.c). */
const KEY = 0;
const NONCE = 32;
const AD = 64;
const AD_MAX = 4096;
const MSG = AD + AD_MAX;
const MSG_MAX = 65536 + 16;
/** Payload bytes openFrame copies in after a header: share-sized frames open in one call, bigger ones in two. */
const FRAME_PEEK = 128;
const SEALED_HEADER = 22;

interface Module {
  exp: Exports;
  buf: Uint8Array;
  /** The cipher whose key is in buf[KEY..]: consecutive calls of one cipher (a frame's header, then its payload) skip the copy. */
  keyOwner: WasmChaCha20Poly1305 | null;
}

let module: Module | null | undefined;

function instantiate(): Module | null {
  const exp = instantiateEmbedded<Exports>(WASM_BASE64);
  return exp === null ? null : { exp, buf: new Uint8Array(exp.memory.buffer, exp.buf_ptr(), MSG + MSG_MAX), keyOwner: null };
}

/**
 * dst[dstOff..] = src[srcOff, srcOff+len). A whole array goes by set() (native, ~25 ns for 100 bytes);
 * part of one by a loop for short runs (~0.8 ns a byte), since a subarray view alone costs ~80 ns in
 * JavaScriptCore, and by set() on a view for long ones.
 */
function copyIn(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  if (srcOff === 0 && len === src.length) {
    dst.set(src, dstOff);
  } else if (len <= 128) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i] as number;
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}

class WasmChaCha20Poly1305 implements AeadCipher {
  readonly name = "wasm";
  private readonly key: Uint8Array;

  constructor(
    private readonly m: Module,
    key: Uint8Array,
  ) {
    if (key.length !== 32) throw new RangeError("ChaCha20-Poly1305 key must be 32 bytes");
    this.key = key.slice();
  }

  /** Puts this cipher's key and `nonce` in the module's buffer. */
  private loadKeyNonce(nonce: Uint8Array): Uint8Array {
    if (nonce.length !== 12) throw new RangeError("nonce must be 12 bytes");
    const m = this.m;
    const buf = m.buf;
    // Small copies by hand: a subarray view plus set() costs more than the loop for a few dozen bytes.
    if (m.keyOwner !== this) {
      const key = this.key;
      for (let i = 0; i < 32; i++) buf[KEY + i] = key[i] as number;
      m.keyOwner = this;
    }
    for (let i = 0; i < 12; i++) buf[NONCE + i] = nonce[i] as number;
    return buf;
  }

  private load(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number): number {
    const adLen = ad === null ? 0 : ad.length;
    if (adLen > AD_MAX) throw new RangeError(`associated data over ${AD_MAX} bytes`);
    const buf = this.loadKeyNonce(nonce);
    if (ad !== null) for (let i = 0; i < adLen; i++) buf[AD + i] = ad[i] as number;
    copyIn(buf, MSG, src, srcOff, len);
    return adLen;
  }

  seal(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (len + TAG_LENGTH > MSG_MAX) throw new RangeError("message too long for one Noise message");
    if (dstOff + len + TAG_LENGTH > dst.length || srcOff + len > src.length) throw new RangeError("seal: buffer too small");
    const adLen = this.load(nonce, ad, src, srcOff, len);
    if (this.m.exp.seal(len, adLen) !== 1) throw new RangeError("seal: length out of range");
    copyIn(dst, dstOff, this.m.buf, MSG, len + TAG_LENGTH);
  }

  sealPair(nonce: Uint8Array, a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number, dst: Uint8Array, dstOff: number): void {
    const total = aLen + bLen + 2 * TAG_LENGTH;
    if (total > MSG_MAX) throw new RangeError("sealPair: messages too long for one call");
    if (aOff + aLen > a.length || bOff + bLen > b.length || dstOff + total > dst.length) throw new RangeError("sealPair: buffer too small");
    const buf = this.loadKeyNonce(nonce);
    copyIn(buf, MSG, a, aOff, aLen);
    copyIn(buf, MSG + aLen + TAG_LENGTH, b, bOff, bLen);
    if (this.m.exp.seal2(aLen, bLen) !== 1) throw new RangeError("sealPair: length out of range");
    copyIn(dst, dstOff, buf, MSG, total);
  }

  openFrame(nonce: Uint8Array, src: Uint8Array, srcOff: number, avail: number, maxPayload: number, header: Uint8Array): Uint8Array | null | false {
    const n = Math.min(avail, SEALED_HEADER + FRAME_PEEK + TAG_LENGTH);
    if (n < SEALED_HEADER || srcOff + n > src.length || header.length < 6) throw new RangeError("openFrame: buffer too small");
    const buf = this.loadKeyNonce(nonce);
    copyIn(buf, MSG, src, srcOff, n);
    const r = this.m.exp.open_frame(n, maxPayload);
    if (r < 0) return false;
    for (let i = 0; i < 6; i++) header[i] = buf[MSG + i] as number;
    if ((r & 1) === 0) return null;
    // slice(): one native allocation and copy.
    return buf.slice(MSG + SEALED_HEADER, MSG + SEALED_HEADER + (r >>> 1));
  }

  open(nonce: Uint8Array, ad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    if (len < TAG_LENGTH || len > MSG_MAX) return false;
    if (srcOff + len > src.length || dstOff + len - TAG_LENGTH > dst.length) throw new RangeError("open: buffer too small");
    const adLen = this.load(nonce, ad, src, srcOff, len);
    if (this.m.exp.open(len, adLen) !== 1) return false;
    copyIn(dst, dstOff, this.m.buf, MSG, len - TAG_LENGTH);
    return true;
  }
}

/** The WebAssembly AEAD provider, or null when WebAssembly is unavailable. */
export function loadWasmAead(): AeadProvider | null {
  if (module === undefined) module = instantiate();
  const m = module;
  if (m === null) return null;
  return { name: "wasm", create: (key: Uint8Array): AeadCipher => new WasmChaCha20Poly1305(m, key) };
}
