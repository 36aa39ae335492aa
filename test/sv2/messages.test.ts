// Every SV2 message: registry contents against sv2_constants.json, round trips of random messages of
// every type (deep-equal and byte-identical), exact size accounting, and strict-decoding errors.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  ALL_CODECS,
  MESSAGES,
  Sv2CodecError,
  codecOf,
  decodeFrame,
  decodePayload,
  decodePayloadWithTrailing,
  encodeFrame,
  encodePayload,
  lookupMessage,
  payloadSize,
} from "../../src/sv2/index.ts";
import type { Sv2Message } from "../../src/sv2/index.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { Gen, MESSAGE_TYPES, Prng, randomMessage } from "./samples.ts";

interface ConstantsMessage {
  extension_type: string;
  msg_type: string;
  name: string;
  channel_msg_bit: number;
  direction: string;
  protocol: string;
}
const constants = readSharedJson<{ messages: ConstantsMessage[] }>("sv2", "vectors", "sv2_constants.json");

function catchCodecError(fn: () => unknown): Sv2CodecError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Sv2CodecError) return e;
    throw e;
  }
  throw new Error("expected an Sv2CodecError");
}

describe("registry", () => {
  test("has exactly the messages of sv2_constants.json (minus reserved 0x1e), with their numbers and channel_msg bits", () => {
    let checked = 0;
    for (const m of constants.messages) {
      const ext = parseInt(m.extension_type, 16);
      const type = parseInt(m.msg_type, 16);
      const codec = lookupMessage(type, ext);
      if (m.name === "Reserved") {
        expect(codec).toBeUndefined();
        continue;
      }
      expect(codec).toBeDefined();
      if (codec === undefined) continue;
      // Our spec names drop the "(mining)" qualifier the table adds to tell the two SetNewPrevHash apart.
      expect(codec.name).toBe(m.name === "SetNewPrevHash (mining)" ? "SetNewPrevHash" : m.name);
      expect(codec.msgType).toBe(type);
      expect(codec.extensionId).toBe(ext);
      expect(codec.channelMsg).toBe(m.channel_msg_bit === 1);
      expect(codec.extensionType).toBe(ext | (m.channel_msg_bit === 1 ? 0x8000 : 0));
      checked++;
    }
    expect(checked).toBe(44);
    // One registry key per table row, nothing extra.
    expect(MESSAGES.size).toBe(44);
  });

  test("one codec per message type, and the generators cover all of them", () => {
    expect(ALL_CODECS.length).toBe(45); // 44 keys + the pre-2025 CoinbaseOutputDataSize shape of 0x70
    expect(new Set(ALL_CODECS.map((c) => c.type)).size).toBe(45);
    expect([...MESSAGE_TYPES].sort()).toEqual(ALL_CODECS.map((c) => c.type).sort());
  });

  test("hot-path numbers", () => {
    expect(codecOf("SubmitSharesStandard").msgType).toBe(0x1a);
    expect(codecOf("SubmitSharesExtended").msgType).toBe(0x1b);
    expect(codecOf("SubmitSharesSuccess").msgType).toBe(0x1c);
    expect(codecOf("NewMiningJob").extensionType).toBe(0x8000);
    expect(codecOf("NewExtendedMiningJob").msgType).toBe(0x1f);
    expect(codecOf("SetNewPrevHash").msgType).toBe(0x20);
    expect(codecOf("SetNewPrevHashTdp").msgType).toBe(0x72);
    expect(codecOf("SetTarget").extensionType).toBe(0x8000);
    expect(codecOf("SetGroupChannel").extensionType).toBe(0x0000);
    expect(codecOf("RequestExtensions").extensionType).toBe(0x0001);
  });
});

describe("round trips", () => {
  const PER_TYPE = 60;
  for (const type of MESSAGE_TYPES) {
    test(`${type}: ${PER_TYPE} random messages`, () => {
      const g = new Gen(new Prng(0x5eed0000 ^ type.length * 7919 ^ type.charCodeAt(0)));
      const codec = codecOf(type);
      for (let i = 0; i < PER_TYPE; i++) {
        const msg = randomMessage(type, g);
        const payload = encodePayload(msg);
        expect(payload.length).toBe(payloadSize(msg));
        expect(codec.encode(msg)).toEqual(payload);
        const decoded = decodePayload(codec.msgType, payload, codec.extensionType);
        expect(decoded).toEqual(msg);
        expect(encodePayload(decoded)).toEqual(payload);

        const frame = encodeFrame(msg);
        expect(frame.length).toBe(6 + payload.length);
        expect(frame.subarray(6)).toEqual(payload);
        expect(frame[0]! | (frame[1]! << 8)).toBe(codec.extensionType);
        expect(frame[2]).toBe(codec.msgType);
        expect(frame[3]! | (frame[4]! << 8) | (frame[5]! << 16)).toBe(payload.length);
        const { header, message } = decodeFrame(frame);
        expect(header).toEqual({
          extensionType: codec.extensionType,
          extensionId: codec.extensionId,
          channelMsg: codec.channelMsg,
          msgType: codec.msgType,
          msgLength: payload.length,
        });
        expect(message).toEqual(msg);
        expect(encodeFrame(message)).toEqual(frame);
      }
    });
  }

  test("decoded byte fields are copies, not views of the input", () => {
    const msg: Sv2Message = { type: "SetTarget", channelId: 7, maximumTarget: new Uint8Array(32).fill(0xab) };
    const frame = encodeFrame(msg);
    const { message } = decodeFrame(frame);
    frame.fill(0);
    expect(message).toEqual(msg);
  });

  test("the channel_msg bit is not required on input (SRI ≤ v1.9.0 SetCustomMiningJob.Success)", () => {
    const payload = hexToBytes("010000000200000003000000");
    expect(decodePayload(0x23, payload, 0x0000)).toEqual({ type: "SetCustomMiningJobSuccess", channelId: 1, requestId: 2, jobId: 3 });
    expect(decodePayload(0x23, payload, 0x8000)).toEqual({ type: "SetCustomMiningJobSuccess", channelId: 1, requestId: 2, jobId: 3 });
  });
});

describe("hand-checked encodings (spec field order, LE)", () => {
  const cases: [string, Sv2Message, string][] = [
    [
      "SubmitSharesStandard: six U32 LE",
      { type: "SubmitSharesStandard", channelId: 1, sequenceNumber: 0x0a0b0c0d, jobId: 3, nonce: 0xf0857ab8, ntime: 0x6543c2b2, version: 0x20000000 },
      "010000000d0c0b0a03000000b87a85f0b2c2436500000020",
    ],
    [
      "SubmitSharesExtended: + B0_32 extranonce",
      { type: "SubmitSharesExtended", channelId: 2, sequenceNumber: 1, jobId: 9, nonce: 0, ntime: 1, version: 4, extranonce: hexToBytes("deadbeef") },
      "02000000010000000900000000000000010000000400000004deadbeef",
    ],
    [
      "SubmitShares.Success: U64 new_shares_sum",
      { type: "SubmitSharesSuccess", channelId: 1, lastSequenceNumber: 10, newSubmitsAcceptedCount: 3, newSharesSum: 0x0102030405060708n },
      "010000000a000000030000000807060504030201",
    ],
    [
      "NewMiningJob future (OPTION None)",
      { type: "NewMiningJob", channelId: 1, jobId: 2, minNtime: null, version: 0x20000000, merkleRoot: new Uint8Array(32).fill(0x11) },
      "010000000200000000" + "00000020" + "11".repeat(32),
    ],
    [
      "NewMiningJob with min_ntime (OPTION Some)",
      { type: "NewMiningJob", channelId: 1, jobId: 2, minNtime: 0x65000000, version: 0x20000000, merkleRoot: new Uint8Array(32) },
      "01000000020000000100000065" + "00000020" + "00".repeat(32),
    ],
    [
      "NewExtendedMiningJob: BOOL, SEQ0_255[U256], two B0_64K",
      {
        type: "NewExtendedMiningJob",
        channelId: 1,
        jobId: 1,
        minNtime: null,
        version: 0x20000000,
        versionRollingAllowed: true,
        merklePath: [new Uint8Array(32).fill(0xaa), new Uint8Array(32).fill(0xbb)],
        coinbaseTxPrefix: hexToBytes("0200"),
        coinbaseTxSuffix: hexToBytes("ffffffff00"),
      },
      "0100000001000000000000002001" + "02" + "aa".repeat(32) + "bb".repeat(32) + "02000200" + "0500ffffffff00",
    ],
    [
      "SetNewPrevHash (mining)",
      { type: "SetNewPrevHash", channelId: 3, jobId: 4, prevHash: new Uint8Array(32).fill(0x5b), minNtime: 1679128496, nbits: 0x207fffff },
      "0300000004000000" + "5b".repeat(32) + "b0771564ffff7f20",
    ],
    [
      "OpenExtendedMiningChannel.Success: extranonce_size before the prefix, group_channel_id last",
      {
        type: "OpenExtendedMiningChannelSuccess",
        requestId: 1,
        channelId: 2,
        target: new Uint8Array(32).fill(0xff),
        extranonceSize: 16,
        extranoncePrefix: hexToBytes("0102"),
        groupChannelId: 0,
      },
      "0100000002000000" + "ff".repeat(32) + "1000" + "020102" + "00000000",
    ],
    [
      "OpenStandardMiningChannel: F32 10.0 = 0x41200000",
      { type: "OpenStandardMiningChannel", requestId: 89, userIdentity: "", nominalHashRate: 10, maxTarget: new Uint8Array(32).fill(1) },
      "5900000000" + "00002041" + "01".repeat(32),
    ],
    [
      "SetGroupChannel: SEQ0_64K[U32] with a U16 count",
      { type: "SetGroupChannel", groupChannelId: 9, channelIds: [1, 0x01020304] },
      "09000000" + "0200" + "01000000" + "04030201",
    ],
    [
      "SetupConnection.Error: STR0_255 UTF-8",
      { type: "SetupConnectionError", flags: 2, errorCode: "unsupported-feature-flags" },
      "02000000" + "19" + bytesToHex(new TextEncoder().encode("unsupported-feature-flags")),
    ],
    [
      "Reconnect: multi-byte UTF-8 length counts bytes",
      { type: "Reconnect", newHost: "мир", newPort: 3333 },
      "06d0bcd0b8d180" + "050d",
    ],
    [
      "CoinbaseOutputConstraints (U32 + U16)",
      { type: "CoinbaseOutputConstraints", coinbaseOutputMaxAdditionalSize: 100, coinbaseOutputMaxAdditionalSigops: 400 },
      "640000009001",
    ],
    ["CoinbaseOutputDataSize (pre-2025 0x70: U32 only)", { type: "CoinbaseOutputDataSize", coinbaseOutputMaxAdditionalSize: 100 }, "64000000"],
    [
      "RequestTransactionData.Success: SEQ0_64K[B0_16M] with U24 element lengths",
      { type: "RequestTransactionDataSuccess", templateId: 5n, excessData: new Uint8Array(0), transactionList: [hexToBytes("aabb"), new Uint8Array(0)] },
      "0500000000000000" + "0000" + "0200" + "020000aabb" + "000000",
    ],
    [
      "RequestExtensions.Error (extension 0x0001)",
      { type: "RequestExtensionsError", requestId: 7, unsupportedExtensions: [2, 3], requiredExtensions: [] },
      "0700" + "020002000300" + "0000",
    ],
  ];
  for (const [name, msg, hex] of cases) {
    test(name, () => {
      expect(bytesToHex(encodePayload(msg))).toBe(hex);
      const c = codecOf(msg.type);
      expect(decodePayload(c.msgType, hexToBytes(hex), c.extensionType)).toEqual(msg);
    });
  }
});

describe("strict decoding errors", () => {
  test("trailing bytes are an error; decodePayloadWithTrailing returns them", () => {
    const payload = hexToBytes("010000000200000003000000" + "0200010a00");
    const e = catchCodecError(() => decodePayload(0x23, payload));
    expect(e.reason).toBe("trailing-bytes");
    expect(e.kind).toBe("ProtocolError");
    expect(e.messageName).toBe("SetCustomMiningJob.Success");
    expect(e.offset).toBe(12);
    const { message, trailing } = decodePayloadWithTrailing(0x23, payload);
    expect(message).toEqual({ type: "SetCustomMiningJobSuccess", channelId: 1, requestId: 2, jobId: 3 });
    expect(bytesToHex(trailing)).toBe("0200010a00");
  });

  test("unknown message types, including the reserved 0x1e and unknown extensions", () => {
    for (const [type, ext] of [
      [0x1e, 0],
      [0x05, 0],
      [0x77, 0],
      [0xff, 0],
      [0x03, 0x0001],
      [0x00, 0x0002],
      [0x00, 0x7fff],
    ] as const) {
      const e = catchCodecError(() => decodePayload(type, new Uint8Array(0), ext));
      expect(e.reason).toBe("unknown-message");
      expect(e.field).toBe("msg_type");
    }
    const frame = hexToBytes("00001e000000");
    expect(catchCodecError(() => decodeFrame(frame)).reason).toBe("unknown-message");
  });

  test("short reads name the message, the field and the offset", () => {
    const e = catchCodecError(() => decodePayload(0x1a, new Uint8Array(10)));
    expect(e.reason).toBe("short-read");
    expect(e.messageName).toBe("SubmitSharesStandard");
    expect(e.field).toBe("jobId");
    expect(e.offset).toBe(8);
    expect(e.message).toBe("SubmitSharesStandard.jobId: needs 4 bytes, 2 left (offset 8)");

    const ext = catchCodecError(() => decodePayload(0x1b, hexToBytes("00".repeat(24) + "05aabb")));
    expect([ext.field, ext.offset, ext.reason]).toEqual(["extranonce", 25, "short-read"]);

    const path = catchCodecError(() => decodePayload(0x1f, hexToBytes("0100000001000000000000002001" + "03" + "aa".repeat(64))));
    expect([path.messageName, path.field, path.offset]).toEqual(["NewExtendedMiningJob", "merklePath", 15]);
  });

  test("B0_32 longer than 32, OPTION count > 1, invalid UTF-8", () => {
    const b032 = catchCodecError(() => decodePayload(0x19, hexToBytes("01000000" + "21" + "00".repeat(33))));
    expect([b032.reason, b032.field, b032.offset]).toEqual(["invalid-value", "extranoncePrefix", 4]);
    const opt = catchCodecError(() => decodePayload(0x15, hexToBytes("0100000002000000" + "02" + "00".repeat(44))));
    expect([opt.reason, opt.field, opt.offset]).toEqual(["invalid-value", "minNtime", 8]);
    for (const bad of ["ff", "c0af", "eda080", "f4908080", "e282"]) {
      const hex = "00000000" + (bad.length / 2).toString(16).padStart(2, "0") + bad;
      const e = catchCodecError(() => decodePayload(0x02, hexToBytes(hex)));
      expect([e.reason, e.field, e.offset]).toEqual(["invalid-value", "errorCode", 4]);
    }
  });

  test("BOOL reads only the least significant bit", () => {
    const base = "0100000001000000000000002001" + "00" + "0000" + "0000";
    const withBits = base.slice(0, 26) + "fe" + base.slice(28);
    const m = decodePayload(0x1f, hexToBytes(withBits));
    expect(m.type === "NewExtendedMiningJob" && m.versionRollingAllowed).toBe(false);
    const m2 = decodePayload(0x1f, hexToBytes(base.slice(0, 26) + "03" + base.slice(28)));
    expect(m2.type === "NewExtendedMiningJob" && m2.versionRollingAllowed).toBe(true);
  });

  test("0x70 by length: 4 bytes = CoinbaseOutputDataSize, 6 = CoinbaseOutputConstraints, 5 = short read", () => {
    expect(decodePayload(0x70, hexToBytes("64000000"))).toEqual({ type: "CoinbaseOutputDataSize", coinbaseOutputMaxAdditionalSize: 100 });
    expect(decodePayload(0x70, hexToBytes("640000000100"))).toEqual({
      type: "CoinbaseOutputConstraints",
      coinbaseOutputMaxAdditionalSize: 100,
      coinbaseOutputMaxAdditionalSigops: 1,
    });
    const e = catchCodecError(() => decodePayload(0x70, hexToBytes("6400000001")));
    expect([e.reason, e.field]).toEqual(["short-read", "coinbaseOutputMaxAdditionalSigops"]);
  });
});

describe("encoding errors", () => {
  const bad: [string, Sv2Message, string][] = [
    ["U32 out of range", { type: "ChannelEndpointChanged", channelId: 2 ** 32 }, "channelId"],
    ["negative U32", { type: "ChannelEndpointChanged", channelId: -1 }, "channelId"],
    ["fractional U32", { type: "ChannelEndpointChanged", channelId: 1.5 }, "channelId"],
    ["U16 out of range", { type: "Reconnect", newHost: "", newPort: 65536 }, "newPort"],
    ["U8 out of range", { type: "SetupConnection", protocol: 256, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "", endpointPort: 0, vendor: "", hardwareVersion: "", firmware: "", deviceId: "" }, "protocol"],
    ["U64 negative", { type: "RequestTransactionData", templateId: -1n }, "templateId"],
    ["U64 too large", { type: "RequestTransactionData", templateId: 1n << 64n }, "templateId"],
    ["U256 of 31 bytes", { type: "SetTarget", channelId: 1, maximumTarget: new Uint8Array(31) }, "maximumTarget"],
    ["B0_32 of 33 bytes", { type: "SetExtranoncePrefix", channelId: 1, extranoncePrefix: new Uint8Array(33) }, "extranoncePrefix"],
    ["STR0_255 of 256 bytes", { type: "CloseChannel", channelId: 1, reasonCode: "é".repeat(128) }, "reasonCode"],
    ["lone surrogate", { type: "CloseChannel", channelId: 1, reasonCode: "a\ud800b" }, "reasonCode"],
    ["SEQ0_255 of 256", { type: "NewTemplate", templateId: 1n, futureTemplate: false, version: 0, coinbaseTxVersion: 2, coinbasePrefix: new Uint8Array(0), coinbaseTxInputSequence: 0, coinbaseTxValueRemaining: 0n, coinbaseTxOutputsCount: 0, coinbaseTxOutputs: new Uint8Array(0), coinbaseTxLocktime: 0, merklePath: Array.from({ length: 256 }, () => new Uint8Array(32)) }, "merklePath"],
    ["B0_64K of 65536", { type: "SubmitSolution", templateId: 1n, version: 0, headerTimestamp: 0, headerNonce: 0, coinbaseTx: new Uint8Array(65536) }, "coinbaseTx"],
  ];
  for (const [name, msg, field] of bad) {
    test(name, () => {
      const e = catchCodecError(() => encodeFrame(msg));
      expect(e.reason).toBe("invalid-value");
      expect(e.field).toBe(field);
      expect(e.messageName).toBe(codecOf(msg.type).name);
    });
  }

  test("unknown type discriminant", () => {
    const e = catchCodecError(() => encodePayload({ type: "NoSuchMessage" } as unknown as Sv2Message));
    expect(e.reason).toBe("unknown-message");
  });

  test("a payload over 2^24-1 bytes does not fit a frame", () => {
    const big = new Uint8Array(0xffff);
    const txs = Array.from({ length: 257 }, () => big);
    const msg: Sv2Message = { type: "RequestTransactionDataSuccess", templateId: 1n, excessData: new Uint8Array(0), transactionList: txs };
    expect(catchCodecError(() => encodeFrame(msg)).reason).toBe("too-long");
    // The payload alone can still be produced (its size is only bounded by the frame).
    expect(encodePayload(msg).length).toBe(8 + 2 + 2 + 257 * (3 + 0xffff));
  });
});
