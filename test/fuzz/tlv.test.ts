// Fuzzing the seed's TLV envelope (TlvDecoder.decode / decodeRaw), the SV2 extension TLV fields and
// the tolerant payload decoders (decodeMessage, which the connection uses, and decodePayloadWithTrailing), and the seed's
// message path StratumV2Server.handleMessage over a real pool on the embedded node. Only
// Sv2CodecError / StratumV2Error of kind "ProtocolError" may come out.
import { concatBytes } from "../../src/bitcoin/bytes.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { StratumV2Server } from "../../src/server/stratum-v2-server.ts";
import { MsgType, Protocol } from "../../src/sv2/constants.ts";
import { Sv2CodecError } from "../../src/sv2/errors.ts";
import { decodeTlvFields, encodeTlvFields, findWorkerIdentity } from "../../src/sv2/extension-tlv.ts";
import { ALL_CODECS, decodeMessage, decodePayload, decodePayloadWithTrailing, encodePayload, type Sv2Message } from "../../src/sv2/messages/registry.ts";
import { TlvDecoder, TlvEncoder } from "../../src/sv2/tlv.ts";
import { Gen, randomAnyMessage } from "../sv2/samples.ts";
import { countOutcomes, fuzzCount, hexOf, instanceOf, Prng, REPLAYING, runFuzz, stratumError } from "./lib.ts";
import { mutateBytes, type LengthField } from "./mutate.ts";

const FILE = "test/fuzz/tlv.test.ts";
const encoder = new TlvEncoder();

function tagOf(msg: Sv2Message): number {
  const codec = ALL_CODECS.find((c) => c.type === msg.type);
  return codec?.msgType ?? 0;
}

function envelope(msg: Sv2Message): Uint8Array {
  return encoder.encode(tagOf(msg), encodePayload(msg));
}

/** Outer length at 0 (u32), tag at 4 (u16), inner length at 6 (u32). */
function envelopeLengths(b: Uint8Array): LengthField[] {
  const out: LengthField[] = [];
  if (b.length >= 4) out.push({ offset: 0, size: 4 });
  if (b.length >= 10) out.push({ offset: 6, size: 4 });
  return out;
}

function messageCorpus(seed: number, n: number): Sv2Message[] {
  const g = new Gen(new Prng(seed));
  const out: Sv2Message[] = [];
  for (let i = 0; i < n; i++) {
    const m = randomAnyMessage(g);
    if (encodePayload(m).length <= 1024) out.push(m);
  }
  return out;
}

const N_DECODE = fuzzCount(40_000);
test(`fuzz TlvDecoder.decode/decodeRaw and decodeTlvFields: ${N_DECODE} random and mutated envelopes throw only Sv2CodecError`, async () => {
  const corpus = messageCorpus(0x71f, 600).map(envelope);
  const stats = await runFuzz<Uint8Array>({
    name: "tlv-decode",
    file: FILE,
    count: N_DECODE,
    generate: (rng) => {
      if (rng.int(10) === 0) return { input: rng.bytes(rng.int(40)), label: "random" };
      // Several envelopes back to back, then mutated.
      const parts: Uint8Array[] = [rng.pick(corpus)];
      while (rng.int(4) === 0) parts.push(rng.pick(corpus));
      const m = mutateBytes(rng, concatBytes(...parts), { corpus, lengthFields: envelopeLengths });
      return { input: m.value, label: m.label };
    },
    run: (bytes) => {
      let outcome = "";
      // Stream decoding: consecutive envelopes until one fails or the bytes run out.
      const d = new TlvDecoder(bytes);
      let n = 0;
      try {
        while (d.remaining > 0) {
          const [tag, payload] = d.decode();
          if (tag < 0 || tag > 0xffff) throw new Error(`tag ${tag} out of range`);
          // The answer must be what the encoder makes of (tag, payload)... re-encoding is exact.
          if (encoder.encode(tag, payload).length !== payload.length + 10) throw new Error("re-encoded length differs");
          n++;
        }
        outcome = `decoded:${Math.min(n, 3)}`;
      } catch (e) {
        if (!(e instanceof Sv2CodecError)) throw e;
        outcome = `stream-error:${e.reason}`;
      }
      // decodeRaw over the same bytes without the outer length, and the SV2 TLV fields reader.
      try {
        TlvDecoder.decodeRaw(bytes.subarray(4));
      } catch (e) {
        if (!(e instanceof Sv2CodecError)) throw e;
      }
      try {
        const fields = decodeTlvFields(bytes.subarray(Math.min(bytes.length, 10)));
        if (encodeTlvFields(fields).length !== Math.max(0, bytes.length - 10)) throw new Error("TLV fields re-encode to another length");
        findWorkerIdentity(fields);
      } catch (e) {
        if (!(e instanceof Sv2CodecError)) throw e;
      }
      return outcome;
    },
    classify: instanceOf(Sv2CodecError, (e) => (e as Sv2CodecError).reason),
    show: (b) => hexOf(b),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_DECODE);
  if (!REPLAYING) expect(countOutcomes(stats, "decoded")).toBeGreaterThan(N_DECODE / 500);
});

const N_TRAILING = fuzzCount(40_000);
test(`fuzz decodeMessage (the connection's decoder) and decodePayloadWithTrailing: ${N_TRAILING} mutated payloads decode alike or throw only Sv2CodecError`, async () => {
  const msgs = messageCorpus(0x7a11, 800);
  const corpus = msgs.map(encodePayload);
  const stats = await runFuzz<{ msgType: number; ext: number; payload: Uint8Array }>({
    name: "decode-trailing",
    file: FILE,
    count: N_TRAILING,
    generate: (rng) => {
      const i = rng.int(msgs.length);
      const msg = msgs[i] as Sv2Message;
      const codec = ALL_CODECS.find((c) => c.type === msg.type);
      let msgType = codec?.msgType ?? 0;
      let ext = codec?.extensionType ?? 0;
      if (rng.int(10) === 0) {
        msgType = rng.int(256);
        ext = rng.bool() ? 0 : rng.int(0x10000);
      }
      const m = mutateBytes(rng, corpus[i] as Uint8Array, { corpus });
      return { input: { msgType, ext, payload: m.value }, label: m.label };
    },
    run: ({ msgType, ext, payload }) => {
      // The connection's decoder (decodeMessage) must read the same message, or fail alike.
      let lenient: Sv2Message | Error;
      try {
        lenient = decodeMessage(msgType, payload, ext & 0x7fff);
      } catch (e) {
        lenient = e as Error;
      }
      let decoded: { message: Sv2Message; trailing: Uint8Array };
      try {
        decoded = decodePayloadWithTrailing(msgType, payload, ext & 0x7fff);
      } catch (e) {
        if (!(lenient instanceof Sv2CodecError)) throw new Error(`decodeMessage accepted what decodePayloadWithTrailing refused: ${String(e)}`);
        throw e;
      }
      if (lenient instanceof Error || !Bun.deepEquals(lenient, decoded.message)) throw new Error("decodeMessage disagrees with decodePayloadWithTrailing");
      const { message, trailing } = decoded;
      // Decoded fields re-encode; the trailing bytes are what the fields left.
      const again = encodePayload(message);
      if (again.length + trailing.length !== payload.length) return "decoded-noncanonical";
      decodePayload(msgType, again, ext & 0x7fff);
      return trailing.length > 0 ? "decoded+trailing" : "decoded";
    },
    classify: instanceOf(Sv2CodecError, (e) => (e as Sv2CodecError).reason),
    show: ({ msgType, ext, payload }) => `ext=0x${ext.toString(16)} type=0x${msgType.toString(16)} payload=${hexOf(payload)}`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_TRAILING);
});

let server: StratumV2Server;
let node: EmbeddedNode;

beforeAll(async () => {
  node = new EmbeddedNode({ difficulty: 10 });
  server = await StratumV2Server.create({ config: { "": { data_dir: ":memory:" }, mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 } } }, node);
});

afterAll(async () => {
  await server.stop();
});

const ENDPOINTS = Array.from({ length: 8 }, (_, i) => `fuzz-${i}`);

function setupMsg(rng: Prng): Sv2Message {
  return {
    type: "SetupConnection",
    protocol: rng.int(8) === 0 ? rng.int(4) : Protocol.Mining,
    minVersion: 2,
    maxVersion: rng.int(8) === 0 ? 1 : 2,
    flags: rng.int(4) === 0 ? rng.u32() : 0,
    endpointHost: "127.0.0.1",
    endpointPort: 0,
    vendor: "fuzz",
    hardwareVersion: "",
    firmware: "",
    deviceId: "",
  };
}

/** Valid seed-path messages with ids the pool knows (channels and jobs it handed out). */
function seedMessage(rng: Prng, channelIds: readonly number[], jobIds: readonly number[]): Sv2Message {
  switch (rng.int(4)) {
    case 0:
      return setupMsg(rng);
    case 1:
      return { type: "OpenStandardMiningChannel", requestId: rng.u32(), userIdentity: rng.pick(["fuzz.a", "fuzz.b", "", "x".repeat(255)]), nominalHashRate: rng.pick([0, 1e12, -1, Number.NaN, Infinity]), maxTarget: rng.bool() ? targetToLeBytes(MAX_TARGET) : rng.bytes(32) };
    default:
      return {
        type: "SubmitSharesStandard",
        channelId: channelIds.length > 0 && rng.int(4) !== 0 ? rng.pick(channelIds) : rng.u32(),
        sequenceNumber: rng.u32(),
        jobId: jobIds.length > 0 && rng.int(4) !== 0 ? rng.pick(jobIds) : rng.u32(),
        nonce: rng.u32(),
        ntime: rng.int(3) === 0 ? rng.u32() : Math.floor(Date.now() / 1000) - rng.int(100),
        version: rng.bool() ? 0x20000000 : rng.u32(),
      };
  }
}

const N_HANDLE = fuzzCount(15_000);
test(`fuzz StratumV2Server.handleMessage: ${N_HANDLE} random, valid and mutated envelopes reject only with ProtocolError`, async () => {
  const others = messageCorpus(0x5eed, 300).map(envelope);
  // Every endpoint set up, each with a channel, so shares reach the pool's validation.
  const channelIds: number[] = [];
  for (const ep of ENDPOINTS) {
    await server.handleMessage(envelope({ type: "SetupConnection", protocol: Protocol.Mining, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: "", endpointPort: 0, vendor: "", hardwareVersion: "", firmware: "", deviceId: "" }), ep);
    const [, payload] = new TlvDecoder(
      await server.handleMessage(envelope({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "fuzz.rig", nominalHashRate: 0, maxTarget: targetToLeBytes(MAX_TARGET) }), ep),
    ).decode();
    const open = decodePayload(MsgType.OpenStandardMiningChannelSuccess, payload);
    if (open.type === "OpenStandardMiningChannelSuccess") channelIds.push(open.channelId);
  }
  expect(channelIds.length).toBe(ENDPOINTS.length);
  const job = server.getPool().currentJob;
  const jobIds = job === null ? [] : [job.id];
  const answers = new Map<string, number>();
  const stats = await runFuzz<{ bytes: Uint8Array; endpoint: string }>({
    name: "handleMessage",
    file: FILE,
    count: N_HANDLE,
    generate: (rng) => {
      const endpoint = rng.int(20) === 0 ? `fresh-${rng.int(4)}` : rng.pick(ENDPOINTS);
      const k = rng.int(10);
      if (k === 0) return { input: { bytes: rng.bytes(rng.int(64)), endpoint }, label: "random" };
      const valid = k <= 3 ? envelope(seedMessage(rng, channelIds, jobIds)) : k === 4 ? rng.pick(others) : envelope(seedMessage(rng, channelIds, jobIds));
      if (k <= 2) return { input: { bytes: valid, endpoint }, label: "valid" };
      const m = mutateBytes(rng, valid, { corpus: others, lengthFields: envelopeLengths });
      return { input: { bytes: m.value, endpoint }, label: m.label };
    },
    run: async ({ bytes, endpoint }) => {
      const answer = await server.handleMessage(bytes, endpoint);
      // Every answer is one well-formed envelope with a decodable SV2 message.
      const d = new TlvDecoder(answer);
      const [tag, payload] = d.decode();
      if (d.remaining !== 0) throw new Error("answer has bytes after its envelope");
      const msg = decodePayload(tag, payload);
      const key = msg.type === "SubmitSharesError" || msg.type === "OpenMiningChannelError" || msg.type === "SetupConnectionError" ? `${msg.type}:${msg.errorCode}` : msg.type;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      return `answer:${msg.type}`;
    },
    classify: stratumError("ProtocolError"),
    show: ({ bytes, endpoint }) => `${endpoint} ${hexOf(bytes)}`,
  });
  console.log(`        answers: ${[...answers.entries()].map(([k, v]) => `${k}=${v}`).join(", ")}`);
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_HANDLE);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "answer:SubmitShares")).toBeGreaterThan(N_HANDLE / 20);
    expect(countOutcomes(stats, "error:")).toBeGreaterThan(N_HANDLE / 10);
  }
});
