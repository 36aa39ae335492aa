// SV2 inputs for the connection-level fuzz tests: what a miner may send (valid, aimed at the channels
// and jobs the pool handed out), and frames made from it: random garbage, mutated valid messages
// (with a consistent or a lying msg_length) and unregistered message types.
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../../src/sv2/constants.ts";
import { ALL_CODECS, encodeFrame, type MessageOf, type Sv2Message } from "../../src/sv2/messages/registry.ts";
import { Gen, randomAnyMessage, STRINGS } from "../sv2/samples.ts";
import type { Prng } from "./lib.ts";
import { mutateBytes, type LengthField } from "./mutate.ts";

/** What the pool told this connection so far (so fuzz frames can hit real channels and jobs). */
export interface Known {
  channelIds: number[];
  jobIds: number[];
  extranonceSizes: Map<number, number>;
}

export function newKnown(): Known {
  return { channelIds: [], jobIds: [], extranonceSizes: new Map() };
}

export function learn(k: Known, msg: Sv2Message): void {
  switch (msg.type) {
    case "OpenStandardMiningChannelSuccess":
      k.channelIds.push(msg.channelId);
      if (msg.groupChannelId !== 0) k.channelIds.push(msg.groupChannelId);
      k.extranonceSizes.set(msg.channelId, 0);
      return;
    case "OpenExtendedMiningChannelSuccess":
      k.channelIds.push(msg.channelId);
      k.extranonceSizes.set(msg.channelId, msg.extranonceSize);
      return;
    case "NewMiningJob":
    case "NewExtendedMiningJob":
    case "SetNewPrevHash":
      if (!k.jobIds.includes(msg.jobId)) k.jobIds.push(msg.jobId);
      return;
    default:
      return;
  }
}

export function setupConnection(flags = 0): MessageOf<"SetupConnection"> {
  return {
    type: "SetupConnection",
    protocol: Protocol.Mining,
    minVersion: SV2_VERSION,
    maxVersion: SV2_VERSION,
    flags,
    endpointHost: "127.0.0.1",
    endpointPort: 0,
    vendor: "fuzz",
    hardwareVersion: "",
    firmware: "",
    deviceId: "",
  };
}

const USERS = ["fuzz.rig", "fuzz.rig2", "", "x".repeat(255), "мир.1"];
const HASHRATES = [0, 1e9, 1e14, -1, Number.NaN, Infinity, 3.4e38];

function target(rng: Prng): Uint8Array {
  const k = rng.int(5);
  if (k === 0) return new Uint8Array(32);
  if (k === 1) return rng.bytes(32);
  return targetToLeBytes(MAX_TARGET);
}

/** A message a miner could send, aimed at what the pool told this connection. */
export function minerMessage(rng: Prng, k: Known): Sv2Message {
  const channelId = k.channelIds.length > 0 && rng.int(5) !== 0 ? rng.pick(k.channelIds) : rng.pick([0, 1, rng.u32()]);
  const jobId = k.jobIds.length > 0 && rng.int(5) !== 0 ? rng.pick(k.jobIds) : rng.u32();
  const nowSec = Math.floor(Date.now() / 1000);
  switch (rng.int(10)) {
    case 0:
      return { ...setupConnection(rng.int(3) === 0 ? rng.u32() : rng.pick([0, MiningSetupFlags.REQUIRES_STANDARD_JOBS])), protocol: rng.int(6) === 0 ? rng.int(4) : Protocol.Mining };
    case 1:
      return { type: "OpenStandardMiningChannel", requestId: rng.u32(), userIdentity: rng.pick(USERS), nominalHashRate: rng.pick(HASHRATES), maxTarget: target(rng) };
    case 2:
      return {
        type: "OpenExtendedMiningChannel",
        requestId: rng.u32(),
        userIdentity: rng.pick(USERS),
        nominalHashRate: rng.pick(HASHRATES),
        maxTarget: target(rng),
        minExtranonceSize: rng.pick([0, 4, 8, 24, 28, 32, 0xffff]),
      };
    case 3:
      return { type: "UpdateChannel", channelId, nominalHashRate: rng.pick(HASHRATES), maximumTarget: target(rng) };
    case 4:
      return { type: "CloseChannel", channelId, reasonCode: rng.pick(STRINGS) };
    case 5:
    case 6:
      return { type: "SubmitSharesStandard", channelId, sequenceNumber: rng.u32(), jobId, nonce: rng.u32(), ntime: rng.bool() ? nowSec - rng.int(60) : rng.u32(), version: rng.bool() ? 0x20000000 : rng.u32() };
    default: {
      const size = k.extranonceSizes.get(channelId) ?? rng.int(33);
      return {
        type: "SubmitSharesExtended",
        channelId,
        sequenceNumber: rng.u32(),
        jobId,
        nonce: rng.u32(),
        ntime: rng.bool() ? nowSec - rng.int(60) : rng.u32(),
        version: rng.bool() ? 0x20000000 : rng.u32(),
        extranonce: rng.bytes(rng.int(4) === 0 ? rng.int(33) : size),
      };
    }
  }
}

function setLength(f: Uint8Array, len: number): void {
  f[3] = len & 0xff;
  f[4] = (len >>> 8) & 0xff;
  f[5] = (len >>> 16) & 0xff;
}

const FRAME_LENGTH: LengthField[] = [{ offset: 3, size: 3 }];
const REGISTERED: readonly [number, number][] = ALL_CODECS.map((c) => [c.extensionType, c.msgType]);

export interface FuzzFrame {
  /** 6-byte header ‖ payload; msg_length may disagree with the payload when `lying`. */
  frame: Uint8Array;
  label: string;
  lying: boolean;
}

function lengthOf(f: Uint8Array): number {
  return f.length < 6 ? -1 : (f[3] as number) | ((f[4] as number) << 8) | ((f[5] as number) << 16);
}

/**
 * One frame to send after the handshake. `maxPayload` bounds the payloads generated (the server's
 * frame limit is tested by lying lengths, not by sending megabytes).
 */
export function fuzzFrame(rng: Prng, k: Known, maxPayload = 2048): FuzzFrame {
  const r = rng.int(20);
  if (r === 0) {
    // A registered or random header with random payload bytes.
    const [ext, type] = rng.bool() ? rng.pick(REGISTERED) : [rng.int(0x10000), rng.int(256)];
    const payload = rng.bytes(rng.int(rng.bool() ? 16 : 200));
    const f = new Uint8Array(6 + payload.length);
    f[0] = ext & 0xff;
    f[1] = ext >>> 8;
    f[2] = type;
    setLength(f, payload.length);
    f.set(payload, 6);
    return { frame: f, label: "random-payload", lying: false };
  }
  if (r === 1) {
    // Any message of the protocol (most are ones a pool never receives).
    return { frame: encodeFrame(randomAnyMessage(new Gen(rng))), label: "any-message", lying: false };
  }
  const valid = encodeFrame(minerMessage(rng, k));
  if (r < 7) return { frame: valid, label: "valid", lying: false };
  const m = mutateBytes(rng, valid, { lengthFields: () => FRAME_LENGTH });
  let f = m.value;
  if (f.length < 6) f = new Uint8Array([...f, ...new Uint8Array(6 - f.length)]);
  if (f.length - 6 > maxPayload) f = f.slice(0, 6 + maxPayload);
  // Mostly keep msg_length consistent (the payload decoder is the target), sometimes let it lie.
  if (rng.int(4) !== 0) setLength(f, f.length - 6);
  return { frame: f, label: m.label, lying: lengthOf(f) !== f.length - 6 };
}
