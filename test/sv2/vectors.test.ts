// Known answers from ../shared/sv2/vectors: message_encodings.json (sv2-tp and SRI test bytes),
// the plaintext frames of noise_handshake_derived.json, and the constants of sv2_constants.json.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  CHANNEL_MSG_BIT,
  FRAME_HEADER_SIZE,
  JobDeclarationSetupFlags,
  MAX_PAYLOAD_SIZE,
  MiningSetupFlags,
  MiningSuccessFlags,
  OpenMiningChannelErrorCode,
  Protocol,
  SV2_VERSION,
  SetCustomMiningJobErrorCode,
  SetupConnectionErrorCode,
  SubmitSharesErrorCode,
  UpdateChannelErrorCode,
  VERSION_ROLLING_MASK_BIP320,
  VERSION_ROLLING_MASK_BIP323,
  decodeFrame,
  decodeFrameHeader,
  decodePayload,
  encodeFrame,
  encodeFrameHeader,
  encodePayload,
} from "../../src/sv2/index.ts";
import type { Sv2Message } from "../../src/sv2/index.ts";
import { readSharedJson } from "../helpers/shared.ts";

interface EncodingVector {
  name: string;
  msg_type?: string;
  payload_hex?: string;
  header_hex?: string;
  frame_hex?: string;
  hex?: string;
  fields?: Record<string, unknown>;
}
const encodings = readSharedJson<EncodingVector[]>("sv2", "vectors", "message_encodings.json");

function vector(name: string): EncodingVector {
  const v = encodings.find((e) => e.name === name);
  if (v === undefined) throw new Error(`no vector ${name}`);
  return v;
}

function reversedHex(hex: string): string {
  return bytesToHex(hexToBytes(hex).reverse());
}

/** Decodes a payload vector, checks the fields, and re-encodes it byte for byte. */
function roundTripPayload(v: EncodingVector, expected: Sv2Message): void {
  const payload = hexToBytes(v.payload_hex as string);
  const msg = decodePayload(parseInt(v.msg_type as string, 16), payload);
  expect(msg).toEqual(expected);
  expect(bytesToHex(encodePayload(msg))).toBe(v.payload_hex as string);
}

describe("message_encodings.json", () => {
  test("every entry is used by this file", () => {
    expect(encodings.map((e) => e.name)).toEqual([
      "SetupConnection payload",
      "Frame header for the SetupConnection above",
      "SetupConnection.Success payload",
      "sv2-tp internal Sv2NetMsg serialisation (msg_type byte + payload; NOT a wire frame)",
      "SetupConnection.Error payload",
      "NewTemplate payload (Template Distribution)",
      "NewTemplate payload, 3 outputs",
      "Frame header NewTemplate with msg_length 0",
      "SetNewPrevHash payload (Template Distribution)",
      "Frame header SetNewPrevHash with msg_length 0",
      "Frame header parse",
      "PushSolution full frame (Job Declaration 0x60)",
    ]);
  });

  test("SetupConnection (82 bytes) and its frame header", () => {
    const v = vector("SetupConnection payload");
    const f = v.fields as Record<string, string | number>;
    const expected: Sv2Message = {
      type: "SetupConnection",
      protocol: f.protocol as number,
      minVersion: f.min_version as number,
      maxVersion: f.max_version as number,
      flags: f.flags as number,
      endpointHost: f.endpoint_host as string,
      endpointPort: f.endpoint_port as number,
      vendor: f.vendor as string,
      hardwareVersion: f.hardware_version as string,
      firmware: f.firmware as string,
      deviceId: f.device_id as string,
    };
    roundTripPayload(v, expected);
    const header = vector("Frame header for the SetupConnection above").header_hex as string;
    expect(header).toBe("000000520000");
    const frame = encodeFrame(expected);
    expect(frame.length).toBe(6 + 82);
    expect(bytesToHex(frame.subarray(0, 6))).toBe(header);
    expect(bytesToHex(frame.subarray(6))).toBe(v.payload_hex as string);
    expect(decodeFrameHeader(hexToBytes(header))).toEqual({ extensionType: 0, extensionId: 0, channelMsg: false, msgType: 0, msgLength: 82 });
  });

  test("SetupConnection.Success, also inside sv2-tp's msg_type||payload serialisation", () => {
    const expected: Sv2Message = { type: "SetupConnectionSuccess", usedVersion: 2, flags: 3 };
    roundTripPayload(vector("SetupConnection.Success payload"), expected);
    const internal = hexToBytes(vector("sv2-tp internal Sv2NetMsg serialisation (msg_type byte + payload; NOT a wire frame)").hex as string);
    expect(decodePayload(internal[0] as number, internal.subarray(1))).toEqual(expected);
  });

  test("SetupConnection.Error", () => {
    roundTripPayload(vector("SetupConnection.Error payload"), { type: "SetupConnectionError", flags: 0, errorCode: "protocol-version-mismatch" });
  });

  for (const name of ["NewTemplate payload (Template Distribution)", "NewTemplate payload, 3 outputs"]) {
    test(name, () => {
      const v = vector(name);
      const f = v.fields as Record<string, unknown>;
      roundTripPayload(v, {
        type: "NewTemplate",
        templateId: BigInt(f.template_id as number),
        futureTemplate: f.future_template as boolean,
        version: f.version as number,
        coinbaseTxVersion: f.coinbase_tx_version as number,
        coinbasePrefix: hexToBytes(f.coinbase_prefix_hex as string),
        coinbaseTxInputSequence: f.coinbase_tx_input_sequence as number,
        coinbaseTxValueRemaining: BigInt(f.coinbase_tx_value_remaining as number),
        coinbaseTxOutputsCount: f.coinbase_tx_outputs_count as number,
        coinbaseTxOutputs: hexToBytes(f.coinbase_tx_outputs_hex as string),
        coinbaseTxLocktime: f.coinbase_tx_locktime as number,
        merklePath: (f.merkle_path_hex as string[]).map(hexToBytes),
      });
    });
  }

  test("SetNewPrevHash (Template Distribution)", () => {
    const v = vector("SetNewPrevHash payload (Template Distribution)");
    const f = v.fields as Record<string, unknown>;
    roundTripPayload(v, {
      type: "SetNewPrevHashTdp",
      templateId: BigInt(f.template_id as number),
      prevHash: hexToBytes(f.prev_hash_u256_wire_hex as string),
      headerTimestamp: f.header_timestamp as number,
      nBits: f.n_bits as number,
      target: hexToBytes(f.target_u256_wire_hex as string),
    });
  });

  test("frame headers: msg_length 0, and SRI's header parse test", () => {
    expect(bytesToHex(encodeFrameHeader(0, 0x71, 0))).toBe(vector("Frame header NewTemplate with msg_length 0").header_hex as string);
    expect(bytesToHex(encodeFrameHeader(0, 0x72, 0))).toBe(vector("Frame header SetNewPrevHash with msg_length 0").header_hex as string);
    const parse = vector("Frame header parse");
    expect(parse.fields).toEqual({ extension_type: 513, msg_type: 3, msg_length: 394500 });
    expect(decodeFrameHeader(hexToBytes(parse.header_hex as string))).toEqual({
      extensionType: 513,
      extensionId: 513,
      channelMsg: false,
      msgType: 3,
      msgLength: 394500,
    });
    expect(bytesToHex(encodeFrameHeader(513, 3, 394500))).toBe(parse.header_hex as string);
  });

  test("PushSolution full frame (SRI parsers-sv2)", () => {
    const v = vector("PushSolution full frame (Job Declaration 0x60)");
    const f = v.fields as Record<string, string | number>;
    const { header, message } = decodeFrame(hexToBytes(v.frame_hex as string));
    expect(header).toEqual({ extensionType: 0, extensionId: 0, channelMsg: false, msgType: 0x60, msgLength: 53 });
    expect(message).toEqual({
      type: "PushSolution",
      extranonce: hexToBytes(f.extranonce_hex as string),
      prevHash: hexToBytes(f.prev_hash_hex as string),
      nonce: f.nonce as number,
      ntime: f.ntime as number,
      nbits: f.nbits as number,
      version: f.version as number,
    });
    expect(bytesToHex(encodeFrame(message))).toBe(v.frame_hex as string);
  });
});

describe("noise_handshake_derived.json transport_frames (plaintext frames)", () => {
  interface TransportFrame {
    name: string;
    fields: Record<string, unknown>;
    plaintext_frame_hex: string;
  }
  const frames = readSharedJson<{ transport_frames: TransportFrame[] }>("sv2", "vectors", "noise_handshake_derived.json").transport_frames;

  function expectedOf(t: TransportFrame): Sv2Message {
    const f = t.fields;
    switch (t.name) {
      case "SetupConnection":
        return {
          type: "SetupConnection",
          protocol: f.protocol as number,
          minVersion: f.min_version as number,
          maxVersion: f.max_version as number,
          flags: f.flags as number,
          endpointHost: f.endpoint_host as string,
          endpointPort: f.endpoint_port as number,
          vendor: f.vendor as string,
          hardwareVersion: f.hardware_version as string,
          firmware: f.firmware as string,
          deviceId: f.device_id as string,
        };
      case "OpenStandardMiningChannel":
        return {
          type: "OpenStandardMiningChannel",
          requestId: f.request_id as number,
          userIdentity: f.user_identity as string,
          nominalHashRate: f.nominal_hash_rate_f32 as number,
          maxTarget: hexToBytes(f.max_target_u256_le_hex as string),
        };
      case "SetupConnection.Success":
        return { type: "SetupConnectionSuccess", usedVersion: f.used_version as number, flags: f.flags as number };
      case "OpenStandardMiningChannel.Success":
        return {
          type: "OpenStandardMiningChannelSuccess",
          requestId: f.request_id as number,
          channelId: f.channel_id as number,
          // The vector gives the target as a big-endian integer; the wire holds it little-endian.
          target: hexToBytes(reversedHex(f.target_be_hex as string)),
          extranoncePrefix: hexToBytes(f.extranonce_prefix_hex as string),
          groupChannelId: f.group_channel_id as number,
        };
      case "SetTarget (channel message: extension_type 0x8000)":
        return { type: "SetTarget", channelId: f.channel_id as number, maximumTarget: hexToBytes(reversedHex(f.maximum_target_be_hex as string)) };
      default:
        throw new Error(`unexpected frame ${t.name}`);
    }
  }

  test("all five frames decode to their fields and re-encode byte for byte", () => {
    expect(frames.length).toBe(5);
    for (const t of frames) {
      const bytes = hexToBytes(t.plaintext_frame_hex);
      const { header, message } = decodeFrame(bytes);
      expect(message).toEqual(expectedOf(t));
      expect(header.msgLength).toBe(bytes.length - FRAME_HEADER_SIZE);
      expect(bytesToHex(encodeFrame(message))).toBe(t.plaintext_frame_hex);
    }
    // Only SetTarget is a channel message among them.
    expect(frames.map((t) => decodeFrame(hexToBytes(t.plaintext_frame_hex)).header.extensionType)).toEqual([0, 0, 0, 0, CHANNEL_MSG_BIT]);
  });
});

describe("sv2_constants.json", () => {
  interface Constants {
    frame: Record<string, number | string>;
    setup_connection: {
      protocol: Record<string, number>;
      mining_client_flags: Record<string, number>;
      mining_server_success_flags: Record<string, number>;
      job_declaration_client_flags: Record<string, number>;
      version: number;
    };
    version_rolling_masks: Record<string, string>;
    sri_error_codes: Record<string, string[] | string>;
  }
  const c = readSharedJson<Constants>("sv2", "vectors", "sv2_constants.json");

  test("frame sizes", () => {
    expect(c.frame.header_size).toBe(FRAME_HEADER_SIZE);
    expect(parseInt(c.frame.channel_msg_mask_in_extension_type as string, 16)).toBe(CHANNEL_MSG_BIT);
    expect(c.frame.max_payload_len_u24).toBe(MAX_PAYLOAD_SIZE);
  });

  test("protocols, flags, version, version masks", () => {
    expect(c.setup_connection.protocol).toEqual({ mining: Protocol.Mining, job_declaration: Protocol.JobDeclaration, template_distribution: Protocol.TemplateDistribution });
    expect(c.setup_connection.mining_client_flags).toEqual({ ...MiningSetupFlags });
    expect(c.setup_connection.mining_server_success_flags).toEqual({ ...MiningSuccessFlags });
    expect(c.setup_connection.job_declaration_client_flags).toEqual({ ...JobDeclarationSetupFlags });
    expect(c.setup_connection.version).toBe(SV2_VERSION);
    expect(Object.values(c.version_rolling_masks).map((h) => parseInt(h, 16))).toEqual([VERSION_ROLLING_MASK_BIP320, VERSION_ROLLING_MASK_BIP323]);
  });

  test("error codes", () => {
    expect([...(c.sri_error_codes["SetupConnection.Error"] as string[])].sort()).toEqual([...Object.values(SetupConnectionErrorCode)].sort());
    expect([...(c.sri_error_codes["OpenMiningChannel.Error"] as string[])].sort()).toEqual([...Object.values(OpenMiningChannelErrorCode)].sort());
    expect(
      (c.sri_error_codes["UpdateChannel.Error"] as string[]).map((s) => s.replace(" (historic spec)", "")).sort(),
    ).toEqual([...Object.values(UpdateChannelErrorCode)].sort());
    expect([...(c.sri_error_codes["SubmitShares.Error"] as string[])].sort()).toEqual([...Object.values(SubmitSharesErrorCode)].sort());
    expect([...(c.sri_error_codes["SetCustomMiningJob.Error"] as string[])].sort()).toEqual([...Object.values(SetCustomMiningJobErrorCode)].sort());
    expect(SubmitSharesErrorCode.INVALID_JOB_ID).toBe("invalid-job-id");
    expect(SubmitSharesErrorCode.STALE_SHARE).toBe("stale-share");
    expect(SubmitSharesErrorCode.DIFFICULTY_TOO_LOW).toBe("difficulty-too-low");
    expect(SubmitSharesErrorCode.DUPLICATE_SHARE).toBe("duplicate-share");
    expect(SetupConnectionErrorCode.UNSUPPORTED_PROTOCOL).toBe("unsupported-protocol");
    expect(SetupConnectionErrorCode.PROTOCOL_VERSION_MISMATCH).toBe("protocol-version-mismatch");
    expect(OpenMiningChannelErrorCode.MAX_TARGET_OUT_OF_RANGE).toBe("max-target-out-of-range");
  });
});
