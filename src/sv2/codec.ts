/**
 * SV2 binary data types (spec 03 §3.1): a bounds-checked `Reader` and a growable `Writer`.
 *
 * All multi-byte integers are little-endian. Integers up to 32 bits are assembled by hand from
 * bytes (no DataView on the hot path); U64 is a bigint; F32 goes through a DataView created only
 * when first needed. U256 values stay 32 raw bytes (targets are LE integers, hashes are internal
 * order — converting is someone else's job). Byte fields are decoded as copies, so a decoded
 * message never aliases the caller's (possibly reused) receive buffer.
 *
 * The Reader never reads past its `end`: every read checks first and throws `Sv2CodecError`
 * naming the message, the field and the offset.
 */
import { Sv2CodecError } from "./errors.ts";

export const U8_MAX = 0xff;
export const U16_MAX = 0xffff;
export const U24_MAX = 0xffffff;
export const U32_MAX = 0xffffffff;
export const U64_MAX = (1n << 64n) - 1n;
export const U256_LENGTH = 32;

/** Largest B0_32 / B0_255 / B0_64K / B0_16M / STR0_255 / SEQ0_255 / SEQ0_64K lengths. */
export const B0_32_MAX = 32;
export const B0_255_MAX = 255;
export const B0_64K_MAX = 65_535;
export const B0_16M_MAX = 16_777_215;
export const STR0_255_MAX = 255;
export const SEQ0_255_MAX = 255;
export const SEQ0_64K_MAX = 65_535;

// ---------------------------------------------------------------------------------------------
// UTF-8 (STR0_255). Hand-written so encoding writes straight into the frame buffer and so that
// lone surrogates are refused instead of silently becoming U+FFFD (which would break round trips).

/** Byte length of `s` in UTF-8, or -1 if it contains a lone surrogate. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/** Writes `s` (already checked by utf8Length) at `off`; returns the new offset. */
function writeUtf8(buf: Uint8Array, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[off++] = c;
    } else if (c < 0x800) {
      buf[off++] = 0xc0 | (c >> 6);
      buf[off++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[off++] = 0xf0 | (c >> 18);
      buf[off++] = 0x80 | ((c >> 12) & 0x3f);
      buf[off++] = 0x80 | ((c >> 6) & 0x3f);
      buf[off++] = 0x80 | (c & 0x3f);
    } else {
      buf[off++] = 0xe0 | (c >> 12);
      buf[off++] = 0x80 | ((c >> 6) & 0x3f);
      buf[off++] = 0x80 | (c & 0x3f);
    }
  }
  return off;
}

// fatal: reject invalid sequences; ignoreBOM: keep a leading U+FEFF so re-encoding is byte-exact.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes bytes[start, end) as strict UTF-8, or returns null if they are not valid UTF-8. */
function readUtf8(bytes: Uint8Array, start: number, end: number): string | null {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Short ASCII strings (user names, error codes) are the common case: avoid the decoder call.
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] as number);
    return s;
  }
  try {
    return utf8Decoder.decode(bytes.subarray(start, end));
  } catch {
    return null;
  }
}

/** Wire size of a STR0_255 holding `s` (the Writer rejects strings that are too long or malformed). */
export function sizeStr0_255(s: string): number {
  const n = utf8Length(s);
  return 1 + (n < 0 ? 0 : n);
}

// ---------------------------------------------------------------------------------------------
// F32 and U64 go through one module-level 8-byte scratch DataView: creating a DataView per message
// costs more than the whole rest of a small message, and JavaScript is single-threaded here.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/** Reads one element of a sequence or option. */
export type ItemReader<T> = (r: Reader, field: string) => T;
/** Writes one element of a sequence or option. */
export type ItemWriter<T> = (w: Writer, item: T, field: string) => void;

/** A bounds-checked little-endian cursor over bytes[start, end). */
export class Reader {
  readonly bytes: Uint8Array;
  offset: number;
  readonly end: number;
  /** Named in every error; set by the message decoder. */
  messageName: string;
  constructor(bytes: Uint8Array, start = 0, end: number = bytes.length, messageName = "") {
    if (start < 0 || end > bytes.length || start > end) {
      throw new Sv2CodecError("invalid-value", messageName, "", start, `reader range [${start}, ${end}) outside ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.offset = start;
    this.end = end;
    this.messageName = messageName;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless n more bytes are available. */
  need(n: number, field: string): void {
    if (this.end - this.offset < n) {
      throw new Sv2CodecError("short-read", this.messageName, field, this.offset, `needs ${n} bytes, ${this.end - this.offset} left`);
    }
  }

  invalid(field: string, detail: string, offset: number = this.offset): Sv2CodecError {
    return new Sv2CodecError("invalid-value", this.messageName, field, offset, detail);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 2;
    return (b[o] as number) | ((b[o + 1] as number) << 8);
  }

  u24(field: string): number {
    this.need(3, field);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 3;
    return (b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16);
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const o = this.offset;
    this.offset = o + 4;
    return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const b = this.bytes;
    const o = this.offset;
    for (let i = 0; i < 8; i++) scratchBytes[i] = b[o + i] as number;
    this.offset = o + 8;
    return scratch.getBigUint64(0, true);
  }

  f32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const o = this.offset;
    for (let i = 0; i < 4; i++) scratchBytes[i] = b[o + i] as number;
    this.offset = o + 4;
    return scratch.getFloat32(0, true);
  }

  /** BOOL: only the least significant bit means anything (spec §3.1; SRI reads `b & 1`). */
  bool(field: string): boolean {
    return (this.u8(field) & 1) === 1;
  }

  /** `n` raw bytes, copied. */
  fixedBytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const o = this.offset;
    this.offset = o + n;
    return this.bytes.slice(o, o + n);
  }

  /** U256: 32 raw bytes (copied), as on the wire. */
  u256(field: string): Uint8Array {
    return this.fixedBytes(U256_LENGTH, field);
  }

  private lengthPrefixed(len: number, max: number, field: string, prefixAt: number): Uint8Array {
    if (len > max) throw this.invalid(field, `length ${len} exceeds ${max}`, prefixAt);
    return this.fixedBytes(len, field);
  }

  b0_32(field: string): Uint8Array {
    const at = this.offset;
    return this.lengthPrefixed(this.u8(field), B0_32_MAX, field, at);
  }

  b0_255(field: string): Uint8Array {
    return this.fixedBytes(this.u8(field), field);
  }

  b0_64k(field: string): Uint8Array {
    return this.fixedBytes(this.u16(field), field);
  }

  b0_16m(field: string): Uint8Array {
    return this.fixedBytes(this.u24(field), field);
  }

  /** STR0_255, validated as UTF-8 (the spec recommends UTF-8; we refuse anything else). */
  str0_255(field: string): string {
    const at = this.offset;
    const len = this.u8(field);
    this.need(len, field);
    const s = readUtf8(this.bytes, this.offset, this.offset + len);
    if (s === null) throw this.invalid(field, "invalid UTF-8", at);
    this.offset += len;
    return s;
  }

  /**
   * SEQ0_255[T]. `minItemSize` (bytes every element takes at least) lets an absurd count fail
   * before any element is decoded or any array is grown.
   */
  seq0_255<T>(field: string, minItemSize: number, item: ItemReader<T>): T[] {
    const count = this.u8(field);
    return this.items(count, field, minItemSize, item);
  }

  seq0_64k<T>(field: string, minItemSize: number, item: ItemReader<T>): T[] {
    const count = this.u16(field);
    return this.items(count, field, minItemSize, item);
  }

  private items<T>(count: number, field: string, minItemSize: number, item: ItemReader<T>): T[] {
    this.need(count * minItemSize, field);
    const out: T[] = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = item(this, field);
    return out;
  }

  /** SEQ0_255[U256], the merkle path shape. */
  u256Seq0_255(field: string): Uint8Array[] {
    return this.seq0_255(field, U256_LENGTH, readU256Item);
  }

  /** OPTION[T]: a count of 0 or 1, then that many elements. `null` is None. */
  option<T>(field: string, item: ItemReader<T>): T | null {
    const at = this.offset;
    const count = this.u8(field);
    if (count === 0) return null;
    if (count !== 1) throw this.invalid(field, `option count ${count} is neither 0 nor 1`, at);
    return item(this, field);
  }

  /** OPTION[U32] (min_ntime). */
  optionU32(field: string): number | null {
    return this.option(field, readU32Item);
  }

  /** Everything left (copied), for TLV fields after a message. */
  rest(): Uint8Array {
    const out = this.bytes.slice(this.offset, this.end);
    this.offset = this.end;
    return out;
  }

  /** Strict decoding: nothing may follow the last field. */
  expectEnd(): void {
    if (this.offset !== this.end) {
      throw new Sv2CodecError("trailing-bytes", this.messageName, "", this.offset, `${this.end - this.offset} unexpected bytes after the last field`);
    }
  }
}

export const readU16Item: ItemReader<number> = (r, f) => r.u16(f);
export const readU32Item: ItemReader<number> = (r, f) => r.u32(f);
export const readU256Item: ItemReader<Uint8Array> = (r, f) => r.u256(f);
export const readB0_16mItem: ItemReader<Uint8Array> = (r, f) => r.b0_16m(f);

// ---------------------------------------------------------------------------------------------

/**
 * A little-endian writer over a buffer that grows when needed. Message encoders size their output
 * exactly first, so on the normal path the buffer is allocated once and never copied.
 */
export class Writer {
  private buf: Uint8Array;
  offset: number;
  /** Named in every error; set by the message encoder. */
  messageName: string;

  /** `initial`: a capacity, or a buffer to write into from `offset`. */
  constructor(initial: number | Uint8Array = 64, offset = 0, messageName = "") {
    this.buf = typeof initial === "number" ? new Uint8Array(initial) : initial;
    this.offset = offset;
    this.messageName = messageName;
  }

  /** The bytes written so far: the buffer itself when it is exactly full, else a view of it. */
  finish(): Uint8Array {
    return this.offset === this.buf.length ? this.buf : this.buf.subarray(0, this.offset);
  }

  /** The underlying buffer (may be larger than what was written). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  private ensure(n: number): void {
    const need = this.offset + n;
    if (need <= this.buf.length) return;
    let cap = Math.max(16, this.buf.length * 2);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  invalid(field: string, detail: string): Sv2CodecError {
    return new Sv2CodecError("invalid-value", this.messageName, field, this.offset, detail);
  }

  u8(v: number, field: string): void {
    if ((v & 0xff) !== v) throw this.invalid(field, `${v} is not a U8`);
    this.ensure(1);
    this.buf[this.offset++] = v;
  }

  u16(v: number, field: string): void {
    if ((v & 0xffff) !== v) throw this.invalid(field, `${v} is not a U16`);
    this.ensure(2);
    const b = this.buf;
    const o = this.offset;
    b[o] = v;
    b[o + 1] = v >>> 8;
    this.offset = o + 2;
  }

  u24(v: number, field: string): void {
    if ((v & 0xffffff) !== v) throw this.invalid(field, `${v} is not a U24`);
    this.ensure(3);
    const b = this.buf;
    const o = this.offset;
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    this.offset = o + 3;
  }

  u32(v: number, field: string): void {
    if (v >>> 0 !== v) throw this.invalid(field, `${v} is not a U32`);
    this.ensure(4);
    const b = this.buf;
    const o = this.offset;
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    b[o + 3] = v >>> 24;
    this.offset = o + 4;
  }

  u64(v: bigint, field: string): void {
    if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw this.invalid(field, `${String(v)} is not a U64`);
    this.ensure(8);
    scratch.setBigUint64(0, v, true);
    const b = this.buf;
    const o = this.offset;
    for (let i = 0; i < 8; i++) b[o + i] = scratchBytes[i] as number;
    this.offset = o + 8;
  }

  /** F32 (nominal_hash_rate): the number is rounded to single precision, as the wire requires. */
  f32(v: number, field: string): void {
    if (typeof v !== "number") throw this.invalid(field, `${String(v)} is not a number`);
    this.ensure(4);
    scratch.setFloat32(0, v, true);
    const b = this.buf;
    const o = this.offset;
    for (let i = 0; i < 4; i++) b[o + i] = scratchBytes[i] as number;
    this.offset = o + 4;
  }

  bool(v: boolean, field: string): void {
    if (typeof v !== "boolean") throw this.invalid(field, `${String(v)} is not a boolean`);
    this.ensure(1);
    this.buf[this.offset++] = v ? 1 : 0;
  }

  /** Raw bytes with no prefix; `length` (if given) is enforced. */
  fixedBytes(v: Uint8Array, field: string, length?: number): void {
    if (!(v instanceof Uint8Array)) throw this.invalid(field, "not a Uint8Array");
    if (length !== undefined && v.length !== length) throw this.invalid(field, `${v.length} bytes where ${length} are required`);
    this.ensure(v.length);
    this.buf.set(v, this.offset);
    this.offset += v.length;
  }

  u256(v: Uint8Array, field: string): void {
    this.fixedBytes(v, field, U256_LENGTH);
  }

  private checkBytes(v: Uint8Array, max: number, field: string): void {
    if (!(v instanceof Uint8Array)) throw this.invalid(field, "not a Uint8Array");
    if (v.length > max) throw this.invalid(field, `${v.length} bytes exceed the limit of ${max}`);
  }

  b0_32(v: Uint8Array, field: string): void {
    this.checkBytes(v, B0_32_MAX, field);
    this.u8(v.length, field);
    this.fixedBytes(v, field);
  }

  b0_255(v: Uint8Array, field: string): void {
    this.checkBytes(v, B0_255_MAX, field);
    this.u8(v.length, field);
    this.fixedBytes(v, field);
  }

  b0_64k(v: Uint8Array, field: string): void {
    this.checkBytes(v, B0_64K_MAX, field);
    this.u16(v.length, field);
    this.fixedBytes(v, field);
  }

  b0_16m(v: Uint8Array, field: string): void {
    this.checkBytes(v, B0_16M_MAX, field);
    this.u24(v.length, field);
    this.fixedBytes(v, field);
  }

  str0_255(v: string, field: string): void {
    if (typeof v !== "string") throw this.invalid(field, "not a string");
    const n = utf8Length(v);
    if (n < 0) throw this.invalid(field, "string contains a lone UTF-16 surrogate");
    if (n > STR0_255_MAX) throw this.invalid(field, `${n} UTF-8 bytes exceed the limit of ${STR0_255_MAX}`);
    this.ensure(1 + n);
    this.buf[this.offset++] = n;
    this.offset = writeUtf8(this.buf, this.offset, v);
  }

  seq0_255<T>(items: readonly T[], field: string, item: ItemWriter<T>): void {
    if (!Array.isArray(items)) throw this.invalid(field, "not an array");
    if (items.length > SEQ0_255_MAX) throw this.invalid(field, `${items.length} elements exceed the limit of ${SEQ0_255_MAX}`);
    this.u8(items.length, field);
    for (const x of items) item(this, x, field);
  }

  seq0_64k<T>(items: readonly T[], field: string, item: ItemWriter<T>): void {
    if (!Array.isArray(items)) throw this.invalid(field, "not an array");
    if (items.length > SEQ0_64K_MAX) throw this.invalid(field, `${items.length} elements exceed the limit of ${SEQ0_64K_MAX}`);
    this.u16(items.length, field);
    for (const x of items) item(this, x, field);
  }

  /** SEQ0_255[U256] (merkle paths): one capacity check, then straight copies. */
  u256Seq0_255(items: readonly Uint8Array[], field: string): void {
    if (!Array.isArray(items)) throw this.invalid(field, "not an array");
    const n = items.length;
    if (n > SEQ0_255_MAX) throw this.invalid(field, `${n} elements exceed the limit of ${SEQ0_255_MAX}`);
    for (let i = 0; i < n; i++) {
      const h = items[i];
      if (!(h instanceof Uint8Array) || h.length !== U256_LENGTH) throw this.invalid(field, `element ${i} is not 32 bytes`);
    }
    this.ensure(1 + n * U256_LENGTH);
    const b = this.buf;
    let o = this.offset;
    b[o++] = n;
    for (let i = 0; i < n; i++, o += U256_LENGTH) b.set(items[i] as Uint8Array, o);
    this.offset = o;
  }

  /** OPTION[T]: `null` (or undefined) is None. */
  option<T>(v: T | null | undefined, field: string, item: ItemWriter<T>): void {
    if (v === null || v === undefined) {
      this.u8(0, field);
      return;
    }
    this.u8(1, field);
    item(this, v, field);
  }

  optionU32(v: number | null, field: string): void {
    this.option(v, field, writeU32Item);
  }
}

export const writeU16Item: ItemWriter<number> = (w, v, f) => w.u16(v, f);
export const writeU32Item: ItemWriter<number> = (w, v, f) => w.u32(v, f);
export const writeU256Item: ItemWriter<Uint8Array> = (w, v, f) => w.u256(v, f);
export const writeB0_16mItem: ItemWriter<Uint8Array> = (w, v, f) => w.b0_16m(v, f);

/** Wire size of a SEQ0_64K[B0_16M] (transaction lists). */
export function sizeB0_16mSeq(items: readonly Uint8Array[]): number {
  let n = 2;
  for (const x of items) n += 3 + x.length;
  return n;
}
