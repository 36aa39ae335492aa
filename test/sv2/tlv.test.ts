// The seed's TLV envelope, SV2 extension TLV fields, and the seed's StratumV2Message classes.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  NewMiningJobMessage,
  OpenMiningChannelErrorMessage,
  OpenMiningChannelMessage,
  OpenMiningChannelSuccessMessage,
  SetNewPrevHashMessage,
  SetupConnectionErrorMessage,
  SetupConnectionMessage,
  SetupConnectionSuccessMessage,
  SubmitSharesErrorMessage,
  SubmitSharesMessage,
  SubmitSharesSuccessMessage,
  Sv2CodecError,
  TlvDecoder,
  TlvEncoder,
  decodePayloadWithTrailing,
  decodeTlvFields,
  encodePayload,
  encodeTlvFields,
  findWorkerIdentity,
  workerIdentityField,
} from "../../src/sv2/index.ts";
import type { StratumV2Message, StratumV2MessageClass, Sv2Message } from "../../src/sv2/index.ts";

function codecError(fn: () => unknown): Sv2CodecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Sv2CodecError) return e;
    throw e;
  }
  throw new Error("expected an Sv2CodecError");
}

describe("seed TLV envelope", () => {
  test("layout: [u32 LE outer = 6 + len][u16 LE tag][u32 LE len][payload]", () => {
    const out = new TlvEncoder().encode(0x0102, hexToBytes("aabbcc"));
    expect(bytesToHex(out)).toBe("09000000" + "0201" + "03000000" + "aabbcc");
    expect(bytesToHex(new TlvEncoder().encode(0xffff, new Uint8Array(0)))).toBe("06000000ffff00000000");
  });

  test("decode() walks consecutive envelopes; decodeRaw() reads the form without the outer length", () => {
    const enc = new TlvEncoder();
    const a = enc.encode(1, new TextEncoder().encode("test payload"));
    const b = enc.encode(0x0030, new Uint8Array(300).fill(7));
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const dec = new TlvDecoder(both);
    const [tag1, p1] = dec.decode();
    expect(tag1).toBe(1);
    expect(new TextDecoder().decode(p1)).toBe("test payload");
    const [tag2, p2] = dec.decode();
    expect(tag2).toBe(0x30);
    expect(p2).toEqual(new Uint8Array(300).fill(7));
    expect(dec.remaining).toBe(0);
    expect(codecError(() => dec.decode()).reason).toBe("short-read");

    expect(TlvDecoder.decodeRaw(a.subarray(4))).toEqual([1, new TextEncoder().encode("test payload")]);
    // Like the seed, bytes after the payload are ignored by decodeRaw.
    expect(TlvDecoder.decodeRaw(hexToBytes("0200" + "02000000" + "abcd" + "ffff"))).toEqual([2, hexToBytes("abcd")]);
  });

  test("errors", () => {
    expect(codecError(() => TlvDecoder.decodeRaw(hexToBytes("0100050000"))).field).toBe("payloadLength");
    const short = codecError(() => TlvDecoder.decodeRaw(hexToBytes("0100" + "05000000" + "aabb")));
    expect([short.reason, short.field, short.offset, short.messageName]).toEqual(["short-read", "payload", 6, "TLV"]);
    const outer = codecError(() => new TlvDecoder(hexToBytes("07000000" + "0100" + "00000000")).decode());
    expect([outer.reason, outer.field, outer.offset]).toEqual(["invalid-value", "length", 0]);
    // A huge declared length fails without allocating.
    expect(codecError(() => new TlvDecoder(hexToBytes("0a000000" + "0100" + "ffffffff" + "00")).decode()).reason).toBe("short-read");
    expect(codecError(() => new TlvEncoder().encode(0x10000, new Uint8Array(0))).field).toBe("tag");
  });
});

describe("SV2 extension TLV fields (LE, per SRI)", () => {
  test("worker name after SubmitSharesExtended (extension 0x0002, field 0x01)", () => {
    const tlv = encodeTlvFields([workerIdentityField("Worker_001")]);
    expect(bytesToHex(tlv)).toBe("0200010a00" + bytesToHex(new TextEncoder().encode("Worker_001")));
    const share: Sv2Message = {
      type: "SubmitSharesExtended",
      channelId: 1,
      sequenceNumber: 2,
      jobId: 3,
      nonce: 4,
      ntime: 5,
      version: 6,
      extranonce: hexToBytes("00112233"),
    };
    const body = encodePayload(share);
    const payload = new Uint8Array(body.length + tlv.length);
    payload.set(body);
    payload.set(tlv, body.length);
    const { message, trailing } = decodePayloadWithTrailing(0x1b, payload, 0x8000);
    expect(message).toEqual(share);
    const fields = decodeTlvFields(trailing);
    expect(fields).toEqual([{ extensionType: 2, fieldType: 1, value: new TextEncoder().encode("Worker_001") }]);
    expect(findWorkerIdentity(fields)).toBe("Worker_001");
    expect(findWorkerIdentity([])).toBe(null);
  });

  test("errors: truncated field, over-long or non-UTF-8 worker name", () => {
    expect(codecError(() => decodeTlvFields(hexToBytes("0200010a00aabb"))).field).toBe("value");
    expect(codecError(() => decodeTlvFields(hexToBytes("0200"))).field).toBe("fieldType");
    expect(codecError(() => workerIdentityField("w".repeat(33))).reason).toBe("invalid-value");
    expect(codecError(() => findWorkerIdentity([{ extensionType: 2, fieldType: 1, value: new Uint8Array(33) }])).reason).toBe("invalid-value");
    expect(codecError(() => findWorkerIdentity([{ extensionType: 2, fieldType: 1, value: hexToBytes("ff") }])).reason).toBe("invalid-value");
  });
});

describe("seed StratumV2Message classes over the real codec", () => {
  const u256 = new Uint8Array(32).fill(0x42);
  const cases: [StratumV2MessageClass<StratumV2Message>, StratumV2Message, number, string][] = [
    [
      SetupConnectionMessage,
      new SetupConnectionMessage({
        type: "SetupConnection",
        protocol: 0,
        minVersion: 2,
        maxVersion: 2,
        flags: 4,
        endpointHost: "127.0.0.1",
        endpointPort: 34254,
        vendor: "sv2pool-test",
        hardwareVersion: "cpu",
        firmware: "0.1",
        deviceId: "",
      }),
      0x00,
      // Same payload as noise_handshake_derived.json's plaintext SetupConnection frame.
      "00" + "0200" + "0200" + "04000000" + "09" + "3132372e302e302e31" + "ce85" + "0c737632706f6f6c2d74657374" + "03637075" + "03302e31" + "00",
    ],
    [SetupConnectionSuccessMessage, new SetupConnectionSuccessMessage({ type: "SetupConnectionSuccess", usedVersion: 2, flags: 0 }), 0x01, "020000000000"],
    [
      SetupConnectionErrorMessage,
      new SetupConnectionErrorMessage({ type: "SetupConnectionError", flags: 0, errorCode: "unsupported-protocol" }),
      0x02,
      "00000000" + "14" + bytesToHex(new TextEncoder().encode("unsupported-protocol")),
    ],
    [
      OpenMiningChannelMessage,
      new OpenMiningChannelMessage({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "worker.1", nominalHashRate: 1000, maxTarget: u256 }),
      0x10,
      "01000000" + "08776f726b65722e31" + "00007a44" + "42".repeat(32),
    ],
    [
      OpenMiningChannelSuccessMessage,
      new OpenMiningChannelSuccessMessage({
        type: "OpenStandardMiningChannelSuccess",
        requestId: 1,
        channelId: 1,
        target: u256,
        extranoncePrefix: hexToBytes("00000001"),
        groupChannelId: 0,
      }),
      0x11,
      "0100000001000000" + "42".repeat(32) + "0400000001" + "00000000",
    ],
    [
      OpenMiningChannelErrorMessage,
      new OpenMiningChannelErrorMessage({ type: "OpenMiningChannelError", requestId: 3, errorCode: "unknown-user" }),
      0x12,
      "03000000" + "0c" + bytesToHex(new TextEncoder().encode("unknown-user")),
    ],
    [
      NewMiningJobMessage,
      new NewMiningJobMessage({ type: "NewMiningJob", channelId: 1, jobId: 1, minNtime: null, version: 0x20000000, merkleRoot: u256 }),
      0x15,
      "010000000100000000" + "00000020" + "42".repeat(32),
    ],
    [
      SetNewPrevHashMessage,
      new SetNewPrevHashMessage({ type: "SetNewPrevHash", channelId: 1, jobId: 1, prevHash: u256, minNtime: 1, nbits: 0x1d00ffff }),
      0x20,
      "0100000001000000" + "42".repeat(32) + "01000000" + "ffff001d",
    ],
    [
      SubmitSharesMessage,
      new SubmitSharesMessage({ type: "SubmitSharesStandard", channelId: 1, sequenceNumber: 2, jobId: 3, nonce: 4, ntime: 5, version: 6 }),
      0x1a,
      "010000000200000003000000040000000500000006000000",
    ],
    [
      SubmitSharesSuccessMessage,
      new SubmitSharesSuccessMessage({ type: "SubmitSharesSuccess", channelId: 1, lastSequenceNumber: 2, newSubmitsAcceptedCount: 1, newSharesSum: 1n }),
      0x1c,
      "0100000002000000010000000100000000000000",
    ],
    [
      SubmitSharesErrorMessage,
      new SubmitSharesErrorMessage({ type: "SubmitSharesError", channelId: 1, sequenceNumber: 2, errorCode: "stale-share" }),
      0x1d,
      "0100000002000000" + "0b" + bytesToHex(new TextEncoder().encode("stale-share")),
    ],
  ];

  for (const [cls, msg, msgType, hex] of cases) {
    test(`${msg.constructor.name}: messageType 0x${msgType.toString(16)}, toBytes/fromBytes`, () => {
      expect(msg.messageType()).toBe(msgType);
      expect(bytesToHex(msg.toBytes())).toBe(hex);
      const back = cls.fromBytes(msg.toBytes());
      expect(back).toEqual(msg);
      expect(back.constructor).toBe(msg.constructor);
      // The seed carried messages in its TLV envelope tagged with message_type().
      const [tag, payload] = new TlvDecoder(new TlvEncoder().encode(msg.messageType(), msg.toBytes())).decode();
      expect(tag).toBe(msgType);
      expect(cls.fromBytes(payload)).toEqual(msg);
    });
  }

  test("fromBytes is strict and typed: wrong or truncated bytes are Sv2CodecErrors", () => {
    expect(codecError(() => SubmitSharesMessage.fromBytes(new Uint8Array(23))).reason).toBe("short-read");
    expect(codecError(() => SubmitSharesMessage.fromBytes(new Uint8Array(25))).reason).toBe("trailing-bytes");
  });

  test("toFrame is the full plaintext frame", () => {
    const m = new SubmitSharesMessage({ type: "SubmitSharesStandard", channelId: 1, sequenceNumber: 2, jobId: 3, nonce: 4, ntime: 5, version: 6 });
    expect(bytesToHex(m.toFrame())).toBe("00801a180000" + bytesToHex(m.toBytes()));
  });
});
