// The data types of spec §3.1 through Reader/Writer, and the frame header helpers.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  Reader,
  Sv2CodecError,
  Writer,
  decodeFrame,
  decodeFrameHeader,
  encodeFrameHeader,
  encodeRawFrame,
  extensionTypeOf,
  frameSizeAt,
  readU32Item,
  utf8Length,
  writeU32Item,
} from "../../src/sv2/index.ts";
import { StratumV2Error } from "../../src/errors.ts";

function written(fn: (w: Writer) => void): string {
  const w = new Writer(1, 0, "Test");
  fn(w);
  return bytesToHex(w.finish());
}

function codecError(fn: () => unknown): Sv2CodecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Sv2CodecError) return e;
    throw e;
  }
  throw new Error("expected an Sv2CodecError");
}

describe("Writer", () => {
  test("integers are little-endian", () => {
    expect(written((w) => w.u8(0xab, "a"))).toBe("ab");
    expect(written((w) => w.u16(0x1234, "a"))).toBe("3412");
    expect(written((w) => w.u24(0x123456, "a"))).toBe("563412");
    expect(written((w) => w.u32(0x12345678, "a"))).toBe("78563412");
    expect(written((w) => w.u32(0xffffffff, "a"))).toBe("ffffffff");
    expect(written((w) => w.u64(0x0102030405060708n, "a"))).toBe("0807060504030201");
    expect(written((w) => w.u64((1n << 64n) - 1n, "a"))).toBe("ffffffffffffffff");
    expect(written((w) => w.f32(1000, "a"))).toBe("00007a44");
    expect(written((w) => w.bool(true, "a"))).toBe("01");
    expect(written((w) => w.bool(false, "a"))).toBe("00");
  });

  test("length-prefixed types, sequences, options", () => {
    expect(written((w) => w.str0_255("", "a"))).toBe("00");
    expect(written((w) => w.str0_255("ab", "a"))).toBe("026162");
    expect(written((w) => w.str0_255("🙂", "a"))).toBe("04f09f9982");
    expect(written((w) => w.b0_32(hexToBytes("0102"), "a"))).toBe("020102");
    expect(written((w) => w.b0_255(new Uint8Array(255), "a"))).toBe("ff" + "00".repeat(255));
    expect(written((w) => w.b0_64k(hexToBytes("aa"), "a"))).toBe("0100aa");
    expect(written((w) => w.b0_16m(hexToBytes("aa"), "a"))).toBe("010000aa");
    expect(written((w) => w.seq0_255([1, 2], "a", writeU32Item))).toBe("020100000002000000");
    expect(written((w) => w.seq0_64k([1], "a", writeU32Item))).toBe("010001000000");
    expect(written((w) => w.optionU32(null, "a"))).toBe("00");
    expect(written((w) => w.optionU32(7, "a"))).toBe("0107000000");
    expect(written((w) => w.u256(new Uint8Array(32).fill(9), "a"))).toBe("09".repeat(32));
  });

  test("grows from a tiny buffer and finish() returns exactly what was written", () => {
    const w = new Writer(0);
    for (let i = 0; i < 1000; i++) w.u32(i, "i");
    const out = w.finish();
    expect(out.length).toBe(4000);
    expect(new Reader(out).u32("x")).toBe(0);
    const r = new Reader(out, 3996);
    expect(r.u32("last")).toBe(999);
  });

  test("a B0_16M of 2^24-1 bytes is accepted, one more is not", () => {
    const big = new Uint8Array(0xffffff);
    const w = new Writer(4 + big.length);
    w.b0_16m(big, "big");
    expect(w.finish().length).toBe(3 + 0xffffff);
    expect(codecError(() => new Writer().b0_16m(new Uint8Array(0x1000000), "big")).reason).toBe("invalid-value");
  });

  test("out-of-range values throw with the field name", () => {
    const e = codecError(() => new Writer(8, 0, "Msg").u24(0x1000000, "len"));
    expect([e.messageName, e.field, e.reason]).toEqual(["Msg", "len", "invalid-value"]);
    expect(e).toBeInstanceOf(StratumV2Error);
    expect(e.kind).toBe("ProtocolError");
    expect(codecError(() => new Writer().u8(Number.NaN, "x")).field).toBe("x");
    expect(codecError(() => new Writer().u16(-1, "x")).field).toBe("x");
    expect(codecError(() => new Writer().bool(1 as unknown as boolean, "x")).field).toBe("x");
  });
});

describe("Reader", () => {
  test("reads what the Writer wrote", () => {
    const w = new Writer(0);
    w.u8(1, "a");
    w.u16(0xbeef, "b");
    w.u24(0xabcdef, "c");
    w.u32(0xdeadbeef, "d");
    w.u64(0xfedcba9876543210n, "e");
    w.u64(12345n, "e2");
    w.f32(-2.5, "f");
    w.bool(true, "g");
    w.str0_255("héllo", "h");
    w.seq0_64k([5, 6, 7], "i", writeU32Item);
    w.optionU32(9, "j");
    w.optionU32(null, "k");
    const r = new Reader(w.finish(), 0, undefined, "T");
    expect(r.u8("a")).toBe(1);
    expect(r.u16("b")).toBe(0xbeef);
    expect(r.u24("c")).toBe(0xabcdef);
    expect(r.u32("d")).toBe(0xdeadbeef);
    expect(r.u64("e")).toBe(0xfedcba9876543210n);
    expect(r.u64("e2")).toBe(12345n);
    expect(r.f32("f")).toBe(-2.5);
    expect(r.bool("g")).toBe(true);
    expect(r.str0_255("h")).toBe("héllo");
    expect(r.seq0_64k("i", 4, readU32Item)).toEqual([5, 6, 7]);
    expect(r.optionU32("j")).toBe(9);
    expect(r.optionU32("k")).toBe(null);
    expect(r.remaining).toBe(0);
    r.expectEnd();
  });

  test("never reads past `end`, even when the underlying array continues", () => {
    const bytes = hexToBytes("01020304050607");
    const r = new Reader(bytes, 1, 4, "Window");
    const e = codecError(() => r.u32("x"));
    expect([e.reason, e.field, e.offset, e.messageName]).toEqual(["short-read", "x", 1, "Window"]);
    expect(r.offset).toBe(1);
    expect(r.u24("y")).toBe(0x040302);
    expect(codecError(() => r.u8("z")).reason).toBe("short-read");
  });

  test("sequence counts are checked against the bytes left before decoding elements", () => {
    // Count 0xffff of B0_16M (≥ 3 bytes each) with 4 bytes present fails at the count.
    const e = codecError(() => new Reader(hexToBytes("ffff00000000")).seq0_64k("txs", 3, (r, f) => r.b0_16m(f)));
    expect([e.reason, e.field, e.offset]).toEqual(["short-read", "txs", 2]);
  });

  test("a huge B0_16M length does not allocate before failing", () => {
    const e = codecError(() => new Reader(hexToBytes("ffffff00")).b0_16m("tx"));
    expect([e.reason, e.offset]).toEqual(["short-read", 3]);
  });

  test("UTF-8: BOM kept, 4-byte sequences, strict rejection", () => {
    expect(new Reader(hexToBytes("03efbbbf")).str0_255("s")).toBe("\ufeff");
    expect(new Reader(hexToBytes("04f09f9982")).str0_255("s")).toBe("🙂");
    expect(codecError(() => new Reader(hexToBytes("02c0af")).str0_255("s")).reason).toBe("invalid-value");
    expect(utf8Length("a\udc00")).toBe(-1);
    expect(utf8Length("\ud83d\ude42")).toBe(4);
    expect(utf8Length("\ud83d")).toBe(-1);
  });

  test("the Reader rejects a range outside its bytes", () => {
    expect(codecError(() => new Reader(new Uint8Array(4), 2, 5)).reason).toBe("invalid-value");
  });
});

describe("frame header", () => {
  test("channel_msg is bit 15 of the LE extension_type (byte 1 bit 7)", () => {
    expect(extensionTypeOf(0, true)).toBe(0x8000);
    expect(extensionTypeOf(1, false)).toBe(1);
    expect(bytesToHex(encodeFrameHeader(0x8000, 0x1a, 24))).toBe("00801a180000");
    expect(decodeFrameHeader(hexToBytes("00801a180000"))).toEqual({ extensionType: 0x8000, extensionId: 0, channelMsg: true, msgType: 0x1a, msgLength: 24 });
    expect(decodeFrameHeader(hexToBytes("0180ffffffff"))).toEqual({
      extensionType: 0x8001,
      extensionId: 1,
      channelMsg: true,
      msgType: 0xff,
      msgLength: 0xffffff,
    });
  });

  test("encodeRawFrame wraps an encoded payload", () => {
    expect(bytesToHex(encodeRawFrame(0x8000, 0x21, hexToBytes("01020304")))).toBe("008021040000" + "01020304");
    expect(bytesToHex(encodeRawFrame(0x0001, 0x00, new Uint8Array(0)))).toBe("010000000000");
  });

  test("header at an offset; frameSizeAt", () => {
    const bytes = hexToBytes("aaaa" + "000070060000");
    expect(decodeFrameHeader(bytes, 2).msgLength).toBe(6);
    expect(frameSizeAt(bytes, 2)).toBe(12);
    expect(frameSizeAt(bytes, 3)).toBe(-1);
  });

  test("errors: short header, bad fields, frames with missing or extra bytes", () => {
    expect(codecError(() => decodeFrameHeader(new Uint8Array(5))).reason).toBe("short-read");
    expect(codecError(() => encodeFrameHeader(0x10000, 0, 0)).field).toBe("extension_type");
    expect(codecError(() => encodeFrameHeader(0, 256, 0)).field).toBe("msg_type");
    expect(codecError(() => encodeFrameHeader(0, 0, 0x1000000)).reason).toBe("too-long");
    const ok = hexToBytes("000001060000" + "020000000000");
    expect(decodeFrame(ok).message).toEqual({ type: "SetupConnectionSuccess", usedVersion: 2, flags: 0 });
    const short = codecError(() => decodeFrame(ok.subarray(0, 11)));
    expect([short.reason, short.field]).toEqual(["short-read", "payload"]);
    const long = codecError(() => decodeFrame(hexToBytes("000001060000" + "020000000000" + "00")));
    expect([long.reason, long.offset]).toEqual(["trailing-bytes", 12]);
    // The declared length is shorter than the message needs: the message runs out inside the frame.
    const inside = codecError(() => decodeFrame(hexToBytes("000001050000" + "0200000000")));
    expect([inside.reason, inside.messageName, inside.field]).toEqual(["short-read", "SetupConnection.Success", "flags"]);
  });
});
