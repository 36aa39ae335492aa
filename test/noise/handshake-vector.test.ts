// Replays shared/sv2/vectors/noise_handshake_derived.json exactly: both handshake messages, every
// traced h/ck/k, the certificate signature, both transport keys and the five encrypted frames.
import { describe, expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { readSharedJson } from "../helpers/shared.ts";
import { InitiatorHandshake, ResponderHandshake } from "../../src/noise/handshake.ts";
import type { ResponderIdentity } from "../../src/noise/handshake.ts";
import type { HandshakeTraceEvent } from "../../src/noise/symmetric-state.ts";
import { certificateSignedBytes, certificateMessageHash, encodeCertificate, signCertificate } from "../../src/noise/certificate.ts";
import { CipherState } from "../../src/noise/cipher-state.ts";
import { FrameDecoder, encryptSerializedFrame, isChannelMessage } from "../../src/noise/transport.ts";
import { ellswiftDecode, xonlyPublicKey } from "../../src/noise/ellswift.ts";
import { authorityPublicKey, encodeAuthorityPublicKey } from "../../src/noise/keys.ts";

interface TraceStep {
  step: string;
  [field: string]: string;
}
interface VectorFrame {
  name: string;
  direction: string;
  cipher_state: "c1" | "c2";
  header_nonce: number;
  payload_nonce: number;
  plaintext_frame_hex: string;
  encrypted_header_22_hex: string;
  encrypted_payload_hex: string;
  wire_bytes_hex: string;
}
interface Vector {
  keys: Record<string, string>;
  certificate: { version: number; valid_from: number; not_valid_after: number; aux_rand_hex: string; verify_at_unix_time: number };
  handshake_message_1_hex: string;
  handshake_message_2_hex: string;
  final_handshake_hash_hex: string;
  final_chaining_key_hex: string;
  transport_key_c1_initiator_to_responder_hex: string;
  transport_key_c2_responder_to_initiator_hex: string;
  trace: TraceStep[];
  transport_frames: VectorFrame[];
}

const v = readSharedJson<Vector>("sv2", "vectors", "noise_handshake_derived.json");
const k = (name: string): Uint8Array => hexToBytes(v.keys[name] as string);

const initiatorEphemeral = { secret: k("initiator_ephemeral_secret_hex"), encoding: k("initiator_ephemeral_ellswift_hex") };
const responderEphemeral = { secret: k("responder_ephemeral_secret_hex"), encoding: k("responder_ephemeral_ellswift_hex") };
const responderStatic = { secret: k("responder_static_secret_hex"), encoding: k("responder_static_ellswift_hex") };
const authoritySecret = k("authority_secret_hex");
const authorityXonly = k("authority_xonly_hex");

const certificate = signCertificate({
  authoritySecret,
  staticXonly: k("responder_static_xonly_hex"),
  validFrom: v.certificate.valid_from,
  notValidAfter: v.certificate.not_valid_after,
  version: v.certificate.version,
  auxRand: hexToBytes(v.certificate.aux_rand_hex),
});
const identity: ResponderIdentity = { staticKey: responderStatic, staticXonly: k("responder_static_xonly_hex"), certificate };

/** The vector's trace as a list of comparable steps (the certificate step is checked on its own). */
function expectedSteps(): string[] {
  const steps: string[] = [];
  for (const s of v.trace) {
    if (s.step === "init") steps.push(`init ck=${s.ck} h=${s.h}`);
    else if (s.x_shared !== undefined) steps.push(`ecdh x=${s.x_shared} secret=${s.ecdh_ee ?? s.ecdh_es}`);
    else if (s.ck !== undefined && s.k !== undefined) steps.push(`mix-key ck=${s.ck} k=${s.k}`);
    else if (s.ciphertext !== undefined) steps.push(`cipher ${s.ciphertext}`);
    else if (s.k_c1 !== undefined) steps.push(`split k1=${s.k_c1} k2=${s.k_c2}`);
    else if (s.h !== undefined) steps.push(`mix-hash h=${s.h}`);
    else if (s.step !== "certificate") throw new Error(`unrecognised trace step ${s.step}`);
  }
  return steps;
}

function recordSteps(events: HandshakeTraceEvent[]): string[] {
  return events.map((e) => {
    switch (e.op) {
      case "init":
        return `init ck=${bytesToHex(e.ck)} h=${bytesToHex(e.h)}`;
      case "mix-hash":
        return `mix-hash h=${bytesToHex(e.h)}`;
      case "ecdh":
        return `ecdh x=${bytesToHex(e.sharedX)} secret=${bytesToHex(e.secret)}`;
      case "mix-key":
        return `mix-key ck=${bytesToHex(e.ck)} k=${bytesToHex(e.k)}`;
      case "encrypt-and-hash":
      case "decrypt-and-hash":
        return `cipher ${bytesToHex(e.ciphertext)}`;
      case "split":
        return `split k1=${bytesToHex(e.k1)} k2=${bytesToHex(e.k2)}`;
    }
  });
}

describe("derived SV2 Noise NX vector (noise_handshake_derived.json)", () => {
  test("the fixed keys are consistent: encodings decode to the listed x-only keys, authority string", () => {
    expect(bytesToHex(ellswiftDecode(initiatorEphemeral.encoding))).toBe(v.keys.initiator_ephemeral_xonly_hex as string);
    expect(bytesToHex(ellswiftDecode(responderStatic.encoding))).toBe(v.keys.responder_static_xonly_hex as string);
    expect(bytesToHex(xonlyPublicKey(responderStatic.secret))).toBe(v.keys.responder_static_xonly_hex as string);
    expect(bytesToHex(authorityPublicKey(authoritySecret))).toBe(v.keys.authority_xonly_hex as string);
    expect(encodeAuthorityPublicKey(authorityXonly)).toBe(v.keys.authority_base58check as string);
  });

  test("certificate: signed bytes, message hash, BIP340 signature with zero aux_rand, 74-byte message", () => {
    const step = v.trace.find((s) => s.step === "certificate") as TraceStep;
    const signed = certificateSignedBytes(0, v.certificate.valid_from, v.certificate.not_valid_after, identity.staticXonly);
    expect(bytesToHex(signed)).toBe(step.signed_bytes as string);
    expect(bytesToHex(certificateMessageHash(0, v.certificate.valid_from, v.certificate.not_valid_after, identity.staticXonly))).toBe(
      step.signed_msg_sha256 as string,
    );
    expect(bytesToHex(certificate.signature)).toBe(step.signature as string);
    expect(bytesToHex(encodeCertificate(certificate))).toBe(step.signature_noise_message as string);
  });

  test("responder: act 2 byte-exact, every traced value, split keys (pool sends with k2)", () => {
    const events: HandshakeTraceEvent[] = [];
    const responder = new ResponderHandshake({ identity, ephemeralKey: responderEphemeral, trace: (e) => events.push(e) });
    const { act2, keys } = responder.respond(hexToBytes(v.handshake_message_1_hex));
    expect(act2.length).toBe(234);
    expect(bytesToHex(act2)).toBe(v.handshake_message_2_hex);
    expect(recordSteps(events)).toEqual(expectedSteps());
    expect(bytesToHex(keys.receiveKey)).toBe(v.transport_key_c1_initiator_to_responder_hex);
    expect(bytesToHex(keys.sendKey)).toBe(v.transport_key_c2_responder_to_initiator_hex);
    expect(bytesToHex(keys.handshakeHash)).toBe(v.final_handshake_hash_hex);
    const lastMixKey = events.filter((e) => e.op === "mix-key").at(-1);
    expect(lastMixKey?.op === "mix-key" ? bytesToHex(lastMixKey.ck) : "").toBe(v.final_chaining_key_hex);
    expect(responder.state).toBe("complete");
  });

  test("initiator: act 1 byte-exact, accepts act 2 at verify_at_unix_time, same trace and keys", () => {
    const events: HandshakeTraceEvent[] = [];
    const initiator = new InitiatorHandshake({ authorityXonly, ephemeralKey: initiatorEphemeral, trace: (e) => events.push(e) });
    const act1 = initiator.start();
    expect(act1.length).toBe(64);
    expect(bytesToHex(act1)).toBe(v.handshake_message_1_hex);
    const result = initiator.finish(hexToBytes(v.handshake_message_2_hex), v.certificate.verify_at_unix_time);
    expect(recordSteps(events)).toEqual(expectedSteps());
    expect(bytesToHex(result.keys.sendKey)).toBe(v.transport_key_c1_initiator_to_responder_hex);
    expect(bytesToHex(result.keys.receiveKey)).toBe(v.transport_key_c2_responder_to_initiator_hex);
    expect(bytesToHex(result.responderStaticXonly)).toBe(v.keys.responder_static_xonly_hex as string);
    expect(result.certificate.validFrom).toBe(v.certificate.valid_from);
    expect(result.certificate.notValidAfter).toBe(v.certificate.not_valid_after);
  });

  test("the five transport frames: wire bytes, 22-byte headers, payload ciphertexts and nonces", () => {
    const c1 = new CipherState(hexToBytes(v.transport_key_c1_initiator_to_responder_hex));
    const c2 = new CipherState(hexToBytes(v.transport_key_c2_responder_to_initiator_hex));
    expect(v.transport_frames.length).toBe(5);
    for (const f of v.transport_frames) {
      const cs = f.cipher_state === "c1" ? c1 : c2;
      expect(cs.nonce).toBe(BigInt(f.header_nonce));
      const wire = encryptSerializedFrame(cs, hexToBytes(f.plaintext_frame_hex));
      expect(bytesToHex(wire.subarray(0, 22))).toBe(f.encrypted_header_22_hex);
      expect(bytesToHex(wire.subarray(22))).toBe(f.encrypted_payload_hex);
      expect(bytesToHex(wire)).toBe(f.wire_bytes_hex);
      // One header call and one payload call (all payloads here are under 65 519 bytes).
      expect(cs.nonce).toBe(BigInt(f.payload_nonce + 1));
    }
  });

  test("the receiving sides decrypt the same frames; SetTarget carries the channel_msg bit", () => {
    const fromInitiator = new FrameDecoder(new CipherState(hexToBytes(v.transport_key_c1_initiator_to_responder_hex)));
    const fromResponder = new FrameDecoder(new CipherState(hexToBytes(v.transport_key_c2_responder_to_initiator_hex)));
    const seen: string[] = [];
    for (const f of v.transport_frames) {
      const decoder = f.cipher_state === "c1" ? fromInitiator : fromResponder;
      const frames = decoder.push(hexToBytes(f.wire_bytes_hex));
      expect(frames.length).toBe(1);
      const frame = frames[0]!;
      const plain = hexToBytes(f.plaintext_frame_hex);
      expect(frame.extensionType).toBe((plain[0] as number) | ((plain[1] as number) << 8));
      expect(frame.msgType).toBe(plain[2] as number);
      expect(bytesToHex(frame.payload)).toBe(bytesToHex(plain.subarray(6)));
      seen.push(`${frame.msgType.toString(16)}:${isChannelMessage(frame)}`);
    }
    expect(seen).toEqual(["0:false", "10:false", "1:false", "11:false", "21:true"]);
  });
});
