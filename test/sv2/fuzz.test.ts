// Fuzzing decodeFrame with a seeded PRNG: random frames and mutations of valid frames (bit flips,
// byte overwrites, truncation, appended bytes, msg_length changes, msg_type swaps, combinations).
// Properties: decodeFrame either returns a message or throws Sv2CodecError — never anything else;
// a decoded message re-encodes to bytes that decode to the same encoding (canonical form), and to the
// exact input payload unless the message has a BOOL (only bit 0 is read) or an F32 (NaN payloads).
//
// Reproduce a failure with the seed it prints: SV2_FUZZ_SEED=<seed> npx bun test test/sv2/fuzz.test.ts
import { expect, test } from "bun:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { ALL_CODECS, Sv2CodecError, decodeFrame, decodePayload, encodeFrame, encodePayload } from "../../src/sv2/index.ts";
import type { Sv2Message } from "../../src/sv2/index.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { Gen, Prng, randomAnyMessage } from "./samples.ts";

const BASE_SEED = Number(process.env.SV2_FUZZ_SEED ?? 0x5f2c0de1) >>> 0;
const ITERATIONS = Number(process.env.SV2_FUZZ_ITERATIONS ?? 250_000);
const CORPUS_SIZE = 1500;

/** Types whose re-encoding may legitimately differ from a mutated input (BOOL high bits, F32 NaN payloads). */
const NON_CANONICAL = new Set(["NewExtendedMiningJob", "NewTemplate", "OpenStandardMiningChannel", "OpenExtendedMiningChannel", "UpdateChannel"]);

const REGISTERED: readonly [number, number][] = ALL_CODECS.map((c) => [c.extensionType, c.msgType]);

function buildCorpus(): Uint8Array[] {
  const g = new Gen(new Prng(BASE_SEED ^ 0xc0ffee));
  const corpus: Uint8Array[] = [];
  for (let i = 0; i < CORPUS_SIZE; i++) {
    let msg: Sv2Message = randomAnyMessage(g);
    // Keep frames small enough that mutations land in headers and length prefixes often.
    let frame = encodeFrame(msg);
    while (frame.length > 2048) {
      msg = randomAnyMessage(g);
      frame = encodeFrame(msg);
    }
    corpus.push(frame);
  }
  const transport = readSharedJson<{ transport_frames: { plaintext_frame_hex: string }[] }>("sv2", "vectors", "noise_handshake_derived.json");
  for (const t of transport.transport_frames) corpus.push(hexToBytes(t.plaintext_frame_hex));
  return corpus;
}

function setLength(frame: Uint8Array, len: number): void {
  frame[3] = len & 0xff;
  frame[4] = (len >>> 8) & 0xff;
  frame[5] = (len >>> 16) & 0xff;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const EDGE_BYTES = [0x00, 0x01, 0x02, 0x20, 0x21, 0x7f, 0x80, 0xfe, 0xff];

/** One mutation step; returns the (possibly new) frame and a label. */
function mutate(rng: Prng, input: Uint8Array): [Uint8Array, string] {
  let f: Uint8Array = input.slice();
  switch (rng.int(8)) {
    case 0: {
      const n = 1 + rng.int(4);
      for (let k = 0; k < n && f.length > 0; k++) {
        const i = rng.int(f.length);
        f[i] = (f[i] as number) ^ (1 << rng.int(8));
      }
      return [f, "bitflip"];
    }
    case 1: {
      const n = 1 + rng.int(4);
      for (let k = 0; k < n && f.length > 0; k++) f[rng.int(f.length)] = rng.bool() ? rng.pick(EDGE_BYTES) : rng.int(256);
      return [f, "overwrite"];
    }
    case 2: {
      f = f.slice(0, rng.int(f.length + 1));
      if (f.length >= 6 && rng.bool()) setLength(f, f.length - 6);
      return [f, "truncate"];
    }
    case 3: {
      f = concat(f, rng.bytes(1 + rng.int(16)));
      if (f.length >= 6 && rng.bool()) setLength(f, f.length - 6);
      return [f, "append"];
    }
    case 4: {
      if (f.length < 6) return [f, "length(noop)"];
      const cur = (f[3] as number) | ((f[4] as number) << 8) | ((f[5] as number) << 16);
      const k = rng.int(4);
      const len = k === 0 ? rng.int(0x1000000) : k === 1 ? 0xffffff : k === 2 ? 0 : Math.max(0, cur + rng.int(9) - 4);
      setLength(f, len);
      return [f, "length"];
    }
    case 5: {
      if (f.length < 6) return [f, "retype(noop)"];
      const [ext, type] = rng.pick(REGISTERED);
      f[0] = ext & 0xff;
      f[1] = ext >>> 8;
      f[2] = type;
      return [f, "retype"];
    }
    case 6: {
      if (f.length < 6) return [f, "header(noop)"];
      f[rng.int(3)] = rng.int(256);
      return [f, "header"];
    }
    default: {
      // Insert or delete a few bytes inside the payload, keeping the header length consistent.
      if (f.length <= 6) return [f, "splice(noop)"];
      const at = 6 + rng.int(f.length - 6);
      f = rng.bool() ? concat(concat(f.slice(0, at), rng.bytes(1 + rng.int(4))), f.slice(at)) : concat(f.slice(0, at), f.slice(Math.min(f.length, at + 1 + rng.int(4))));
      setLength(f, Math.max(0, f.length - 6));
      return [f, "splice"];
    }
  }
}

/** A frame with a valid header for a registered message and random (often short) payload bytes. */
function randomFrame(rng: Prng): [Uint8Array, string] {
  if (rng.int(4) === 0) return [rng.bytes(rng.int(40)), "random-bytes"];
  const [ext, type] = rng.pick(REGISTERED);
  const payload = rng.bytes(rng.int(rng.bool() ? 16 : 120));
  const f = new Uint8Array(6 + payload.length);
  f[0] = ext & 0xff;
  f[1] = ext >>> 8;
  f[2] = type;
  setLength(f, payload.length);
  f.set(payload, 6);
  return [f, "random-payload"];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

test(`fuzz decodeFrame: ${ITERATIONS} random and mutated frames throw only Sv2CodecError (seed 0x${BASE_SEED.toString(16)})`, () => {
  const corpus = buildCorpus();
  const stats = { decoded: 0, rejected: 0, nonCanonical: 0 };
  const reasons = new Map<string, number>();
  let failure: string | null = null;

  for (let i = 0; i < ITERATIONS && failure === null; i++) {
    // Each iteration has its own PRNG so one iteration can be replayed from (seed, i).
    const rng = new Prng((BASE_SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    let frame: Uint8Array;
    let label: string;
    if (rng.int(10) === 0) [frame, label] = randomFrame(rng);
    else {
      [frame, label] = mutate(rng, rng.pick(corpus));
      if (rng.int(4) === 0) {
        const [f2, l2] = mutate(rng, frame);
        frame = f2;
        label += `+${l2}`;
      }
    }
    try {
      const { header, message } = decodeFrame(frame);
      stats.decoded++;
      const payload = encodePayload(message);
      const again = encodePayload(decodePayload(header.msgType, payload, header.extensionType));
      if (!sameBytes(again, payload)) throw new Error("re-encoding is not canonical");
      if (!sameBytes(payload, frame.subarray(6))) {
        if (!NON_CANONICAL.has(message.type)) throw new Error(`${message.type} re-encoded to different bytes: ${bytesToHex(payload)}`);
        stats.nonCanonical++;
      }
    } catch (e) {
      if (e instanceof Sv2CodecError) {
        stats.rejected++;
        reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      } else {
        failure =
          `seed=0x${BASE_SEED.toString(16)} iteration=${i} mutation=${label}\n` +
          `frame=${bytesToHex(frame)}\n` +
          `error=${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e)}`;
      }
    }
  }
  if (failure !== null) console.error(`sv2 fuzz failure (rerun with SV2_FUZZ_SEED=0x${BASE_SEED.toString(16)}):\n${failure}`);
  expect(failure).toBeNull();
  expect(stats.decoded + stats.rejected).toBe(ITERATIONS);
  // The corpus and mutations must exercise both outcomes and every kind of rejection.
  expect(stats.decoded).toBeGreaterThan(ITERATIONS / 20);
  expect(stats.rejected).toBeGreaterThan(ITERATIONS / 4);
  for (const reason of ["short-read", "trailing-bytes", "invalid-value", "unknown-message"]) expect(reasons.get(reason) ?? 0).toBeGreaterThan(100);
});
