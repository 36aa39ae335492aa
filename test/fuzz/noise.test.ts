// Fuzzing the Noise layer: ResponderHandshake fed random and mutated act 1, InitiatorHandshake fed
// mutated act 2 (and valid ones at the wrong time or for another authority), both sessions fed the
// same in random chunks, the transport FrameDecoder fed mutated ciphertext, and the key, certificate
// and first-bytes decoders. Only NoiseError (CertificateError, KeyDecodeError, NotAHandshakeError are
// NoiseErrors) may come out, and nothing forged may get through.
import { concatBytes, equalBytes } from "../../src/bitcoin/bytes.ts";
import { expect, test } from "bun:test";
import { CipherState } from "../../src/noise/cipher-state.ts";
import { decodeCertificate, encodeCertificate, verifyCertificate } from "../../src/noise/certificate.ts";
import { generateEllSwiftKeyPair, type EllSwiftKeyPair } from "../../src/noise/ellswift.ts";
import { NoiseError } from "../../src/noise/errors.ts";
import { classifyFirstBytes } from "../../src/noise/foreign-protocol.ts";
import { ACT1_LENGTH, ACT2_LENGTH, createResponderIdentity, InitiatorHandshake, ResponderHandshake, type ResponderIdentity } from "../../src/noise/handshake.ts";
import { decodeAuthorityPublicKey, decodeSecretKey, encodeAuthorityPublicKey, encodeSecretKey, generateAuthorityKeyPair, type AuthorityKeyPair } from "../../src/noise/keys.ts";
import { InitiatorSession, ResponderSession } from "../../src/noise/session.ts";
import { encryptedFrameLength, encryptFrame, FrameDecoder, type Sv2Frame } from "../../src/noise/transport.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { seededRandom } from "../noise/helpers.ts";
import { countOutcomes, fuzzCount, hexOf, instanceOf, REPLAYING, runFuzz } from "./lib.ts";
import { mutateBytes, mutateText } from "./mutate.ts";

const FILE = "test/fuzz/noise.test.ts";
const NOW_SEC = 1_750_000_000;
const noiseErrors = instanceOf(NoiseError, (e) => (e as NoiseError).code);

// Fixed keys: every handshake of the run is reproducible from the seed.
const authority: AuthorityKeyPair = generateAuthorityKeyPair(seededRandom(11));
const otherAuthority: AuthorityKeyPair = generateAuthorityKeyPair(seededRandom(12));
const identity: ResponderIdentity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: NOW_SEC, rng: seededRandom(13) });
const responderEphemeral: EllSwiftKeyPair = generateEllSwiftKeyPair(seededRandom(14));
const initiatorEphemerals: EllSwiftKeyPair[] = Array.from({ length: 8 }, (_, i) => generateEllSwiftKeyPair(seededRandom(100 + i)));

/** A valid act 1 per initiator key, and the act 2 our responder answers it with. */
const VALID: { act1: Uint8Array; act2: Uint8Array; ephemeral: EllSwiftKeyPair }[] = initiatorEphemerals.map((ephemeral) => {
  const act1 = new InitiatorHandshake({ authorityXonly: authority.xonly, ephemeralKey: ephemeral }).start();
  const { act2 } = new ResponderHandshake({ identity, ephemeralKey: responderEphemeral }).respond(act1);
  return { act1, act2, ephemeral };
});

const ACT1_CORPUS = VALID.map((v) => v.act1);
/** Field elements at and above p, zeros, all-ones: the edges of the ElligatorSwift decoding. */
const EDGE_ACT1: Uint8Array[] = [
  new Uint8Array(64),
  new Uint8Array(64).fill(0xff),
  concatBytes(new Uint8Array(32).fill(0xff), new Uint8Array(32)),
  concatBytes(new Uint8Array(32), new Uint8Array(32).fill(0xff)),
  concatBytes(Uint8Array.from([...new Uint8Array(27).fill(0xff), 0xfe, 0xff, 0xff, 0xfc, 0x2f]), new Uint8Array(32).fill(1)),
];

const N_ACT1 = fuzzCount(700);
test(`fuzz ResponderHandshake.respond: ${N_ACT1} random and mutated act 1 messages give act 2 or NoiseError`, async () => {
  const stats = await runFuzz<Uint8Array>({
    name: "noise-act1",
    file: FILE,
    count: N_ACT1,
    generate: (rng) => {
      const k = rng.int(10);
      if (k === 0) return { input: rng.bytes(ACT1_LENGTH), label: "random64" };
      if (k === 1) return { input: rng.pick(EDGE_ACT1), label: "edge" };
      if (k === 2) return { input: rng.bytes(rng.int(200)), label: "random" };
      const m = mutateBytes(rng, rng.pick(ACT1_CORPUS), { corpus: ACT1_CORPUS });
      return { input: m.value, label: m.label };
    },
    run: (act1) => {
      const { act2, keys } = new ResponderHandshake({ identity, ephemeralKey: responderEphemeral }).respond(act1);
      if (act2.length !== ACT2_LENGTH || keys.sendKey.length !== 32 || keys.receiveKey.length !== 32) throw new Error("malformed act 2 or keys");
      return "act2";
    },
    classify: noiseErrors,
    show: hexOf,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_ACT1);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "act2")).toBeGreaterThan(N_ACT1 / 4);
    expect(countOutcomes(stats, "error:NoiseError:handshake-failed")).toBeGreaterThan(N_ACT1 / 10);
  }
});

const N_ACT2 = fuzzCount(700);
test(`fuzz InitiatorHandshake.finish: ${N_ACT2} mutated act 2 messages (and valid ones at the wrong time or authority) give only NoiseError`, async () => {
  const ACT2_CORPUS = VALID.map((v) => v.act2);
  const stats = await runFuzz<{ which: number; act2: Uint8Array; nowSec: number; authority: Uint8Array }>({
    name: "noise-act2",
    file: FILE,
    count: N_ACT2,
    generate: (rng) => {
      const which = rng.int(VALID.length);
      const valid = (VALID[which] as (typeof VALID)[number]).act2;
      const k = rng.int(12);
      if (k === 0) return { input: { which, act2: valid, nowSec: NOW_SEC, authority: authority.xonly }, label: "valid" };
      if (k === 1) return { input: { which, act2: valid, nowSec: rng.pick([0, NOW_SEC - 10 * 86400, NOW_SEC + 10 * 86400, 0xffffffff]), authority: authority.xonly }, label: "wrong-time" };
      if (k === 2) return { input: { which, act2: valid, nowSec: NOW_SEC, authority: otherAuthority.xonly }, label: "wrong-authority" };
      if (k === 3) return { input: { which, act2: rng.bytes(ACT2_LENGTH), nowSec: NOW_SEC, authority: authority.xonly }, label: "random234" };
      // Other initiators' act 2 (valid for someone else) is in the splice corpus.
      const m = mutateBytes(rng, valid, { corpus: ACT2_CORPUS });
      return { input: { which, act2: m.value, nowSec: NOW_SEC, authority: authority.xonly }, label: m.label };
    },
    run: ({ which, act2, nowSec, authority: xonly }) => {
      const ephemeral = (VALID[which] as (typeof VALID)[number]).ephemeral;
      const hs = new InitiatorHandshake({ authorityXonly: xonly, ephemeralKey: ephemeral });
      hs.start();
      const r = hs.finish(act2, nowSec);
      // Only the genuine act 2 may complete, and it must name our static key.
      if (!equalBytes(act2, (VALID[which] as (typeof VALID)[number]).act2)) throw new Error("a modified act 2 completed the handshake");
      if (!equalBytes(r.responderStaticXonly, identity.staticXonly)) throw new Error("wrong static key");
      return "complete";
    },
    classify: noiseErrors,
    show: ({ which, act2, nowSec }) => `initiator #${which} now=${nowSec} act2=${hexOf(act2)}`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_ACT2);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "complete")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "error:CertificateError")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "error:NoiseError:mac-mismatch")).toBeGreaterThan(N_ACT2 / 4);
  }
});

/** Splits bytes into 1..6 random chunks. */
function chunks(rng: import("./lib.ts").Prng, bytes: Uint8Array): Uint8Array[] {
  const cuts = Array.from({ length: rng.int(6) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.slice(at, c));
    at = c;
  }
  return out;
}

const N_SESSION = fuzzCount(500);
test(`fuzz ResponderSession/InitiatorSession.receive: ${N_SESSION} chunked handshakes with mutated bytes never throw; errors are NoiseError`, async () => {
  const TEXT_STARTS = ['{"id":1,"method":"mining.subscribe","params":[]}\n', "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"];
  const encoder = new TextEncoder();
  const stats = await runFuzz<{ role: "responder" | "initiator"; which: number; parts: Uint8Array[] }>({
    name: "noise-session",
    file: FILE,
    count: N_SESSION,
    generate: (rng) => {
      const which = rng.int(VALID.length);
      const v = VALID[which] as (typeof VALID)[number];
      const role = rng.bool() ? "responder" : "initiator";
      const base = role === "responder" ? v.act1 : v.act2;
      let bytes: Uint8Array;
      let label: string;
      if (role === "responder" && rng.int(5) === 0) {
        const m = mutateText(rng, rng.pick(TEXT_STARTS));
        bytes = encoder.encode(m.value);
        label = `text-${m.label}`;
      } else if (rng.int(6) === 0) {
        bytes = base;
        label = "valid";
      } else {
        const m = mutateBytes(rng, base);
        bytes = m.value;
        label = m.label;
      }
      // Transport bytes after the handshake message: garbage (a MAC failure) or nothing.
      if (rng.bool()) bytes = concatBytes(bytes, rng.bytes(rng.int(80)));
      return { input: { role, which, parts: chunks(rng, bytes) }, label };
    },
    run: ({ role, which, parts }) => {
      const v = VALID[which] as (typeof VALID)[number];
      const session =
        role === "responder"
          ? new ResponderSession({ identity, ephemeralKey: responderEphemeral })
          : new InitiatorSession({ authorityXonly: authority.xonly, clock: { nowMs: () => NOW_SEC * 1000 }, ephemeralKey: v.ephemeral });
      if (session instanceof InitiatorSession) session.start();
      let outcome = "pending";
      let completed = 0;
      for (const part of parts) {
        const out = session.receive(part);
        if (out.error !== null && !(out.error instanceof NoiseError)) throw new Error("session error is not a NoiseError");
        for (const o of out.outgoing) if (o.length !== ACT2_LENGTH) throw new Error(`responder wrote ${o.length} bytes`);
        if (out.handshakeCompleted) completed++;
        if (out.frames.length > 0) throw new Error("garbage after the handshake decoded as a frame");
        if (out.error !== null) outcome = `error:NoiseError:${out.error.code}`;
        else if (out.handshakeCompleted) outcome = "complete";
      }
      if (completed > 1) throw new Error("handshake completed twice");
      return outcome;
    },
    classify: () => null,
    show: ({ role, which, parts }) => `${role} #${which} parts=[${parts.map((p) => hexOf(p, 160)).join(", ")}]`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_SESSION);
  if (!REPLAYING) expect(countOutcomes(stats, "error:NoiseError:not-a-handshake")).toBeGreaterThan(0);
});

const N_FRAMES = fuzzCount(15_000);
test(`fuzz FrameDecoder.push: ${N_FRAMES} mutated and re-chunked encrypted streams give a prefix of the sent frames, then only NoiseError`, async () => {
  const key = seededRandom(21)(32);
  const stats = await runFuzz<{ frames: Sv2Frame[]; wire: Uint8Array; parts: Uint8Array[]; max: number }>({
    name: "noise-transport",
    file: FILE,
    count: N_FRAMES,
    generate: (rng) => {
      const send = new CipherState(key);
      const frames: Sv2Frame[] = [];
      const wires: Uint8Array[] = [];
      const n = 1 + rng.int(4);
      for (let k = 0; k < n; k++) {
        // Mostly small payloads; now and then one over a ciphertext chunk (65 519 bytes).
        const len = rng.int(200) === 0 ? 65_519 + rng.int(3000) : rng.int(4) === 0 ? 0 : rng.int(300);
        const f: Sv2Frame = { extensionType: rng.int(3) === 0 ? 0x8000 : 0, msgType: rng.int(256), payload: rng.bytes(len) };
        frames.push(f);
        wires.push(encryptFrame(send, f));
      }
      const wire = concatBytes(...wires);
      const max = rng.int(5) === 0 ? rng.int(400) : 0xffffff;
      if (rng.int(6) === 0) return { input: { frames, wire, parts: chunks(rng, wire), max }, label: "valid" };
      const m = mutateBytes(rng, wire, { lengthFields: () => [] });
      return { input: { frames, wire, parts: chunks(rng, m.value), max }, label: m.label };
    },
    run: ({ frames, parts, max }) => {
      const decoder = new FrameDecoder(new CipherState(key), { maxPayloadLength: max });
      const got: Sv2Frame[] = [];
      let outcome = "ok";
      try {
        for (const p of parts) got.push(...decoder.push(p));
      } catch (e) {
        if (!(e instanceof NoiseError)) throw e;
        outcome = `error:NoiseError:${e.code}`;
        // A failed decoder stays failed.
        try {
          decoder.push(new Uint8Array(1));
          throw new Error("the decoder accepted bytes after failing");
        } catch (again) {
          if (!(again instanceof NoiseError)) throw again;
        }
      }
      // Authenticated encryption: whatever decoded is exactly the first frames that were sent.
      if (got.length > frames.length) throw new Error("more frames than were sent");
      got.forEach((f, i) => {
        const s = frames[i] as Sv2Frame;
        if (f.msgType !== s.msgType || f.extensionType !== s.extensionType || !equalBytes(f.payload, s.payload)) throw new Error(`frame ${i} differs from what was sent`);
      });
      // A working decoder holds at most the rest of one frame it is waiting for.
      if (outcome === "ok" && decoder.bufferedBytes > encryptedFrameLength(Math.min(max, 70_000))) throw new Error(`decoder buffers ${decoder.bufferedBytes} bytes`);
      return got.length === frames.length ? `${outcome}:all` : `${outcome}:prefix`;
    },
    classify: () => null,
    show: ({ frames, parts, max }) => `frames=${frames.map((f) => `${f.msgType}/${f.payload.length}`).join(",")} max=${max} parts=[${parts.map((p) => hexOf(p, 128)).join(", ")}]`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_FRAMES);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "ok:all")).toBeGreaterThan(N_FRAMES / 20);
    expect(countOutcomes(stats, "error:NoiseError:mac-mismatch")).toBeGreaterThan(N_FRAMES / 4);
  }
});

interface AuthorityVector {
  base58check?: string;
  secret_key_base58check?: string;
}

const N_KEYS = fuzzCount(12_000);
test(`fuzz decodeAuthorityPublicKey / decodeSecretKey: ${N_KEYS} mutated key strings give only NoiseError`, async () => {
  const corpus: string[] = [];
  for (const v of readSharedJson<AuthorityVector[]>("sv2", "vectors", "authority_keys.json")) {
    if (v.base58check !== undefined) corpus.push(v.base58check);
    if (v.secret_key_base58check !== undefined) corpus.push(v.secret_key_base58check);
  }
  for (let i = 0; i < 4; i++) {
    const k = generateAuthorityKeyPair(seededRandom(300 + i));
    corpus.push(encodeAuthorityPublicKey(k.xonly), encodeSecretKey(k.secret));
  }
  const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const stats = await runFuzz<string>({
    name: "noise-keys",
    file: FILE,
    count: N_KEYS,
    generate: (rng) => {
      const m = mutateText(rng, rng.pick(corpus), { alphabet: BASE58, corpus });
      return rng.int(15) === 0 ? { input: rng.pick(corpus), label: "valid" } : { input: m.value, label: m.label };
    },
    run: (text) => {
      let ok = 0;
      for (const decode of [decodeAuthorityPublicKey, decodeSecretKey]) {
        try {
          if (decode(text).length !== 32) throw new Error("a decoded key is not 32 bytes");
          ok++;
        } catch (e) {
          if (!(e instanceof NoiseError)) throw e;
        }
      }
      return ok > 0 ? "decoded" : "rejected";
    },
    classify: () => null,
    show: (t) => JSON.stringify(t),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_KEYS);
  if (!REPLAYING) expect(countOutcomes(stats, "decoded")).toBeGreaterThan(0);
});

const N_CERT = fuzzCount(2_000);
test(`fuzz decodeCertificate / verifyCertificate: ${N_CERT} mutated certificates never verify unless genuine`, async () => {
  const genuine = encodeCertificate(identity.certificate);
  const stats = await runFuzz<Uint8Array>({
    name: "noise-certificate",
    file: FILE,
    count: N_CERT,
    generate: (rng) => {
      if (rng.int(20) === 0) return { input: genuine, label: "valid" };
      const m = mutateBytes(rng, genuine);
      return { input: m.value, label: m.label };
    },
    run: (bytes) => {
      const cert = decodeCertificate(bytes);
      const verdict = verifyCertificate(cert, identity.staticXonly, authority.xonly, NOW_SEC);
      if (verdict.ok && !equalBytes(encodeCertificate(cert), genuine)) throw new Error("a forged certificate verified");
      return verdict.ok ? "valid" : `refused:${verdict.reason}`;
    },
    classify: noiseErrors,
    show: hexOf,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_CERT);
});

const N_CLASSIFY = fuzzCount(20_000);
test(`fuzz classifyFirstBytes: ${N_CLASSIFY} random and text-like first bytes never throw`, async () => {
  const KINDS = new Set(["sv1-json", "http", "tls", "act1", "need-more"]);
  const texts = ['{"id":1,"method":"mining.subscribe","params":[]}\n', "GET / HTTP/1.1\r\n\r\n", "POST /x HTTP/1.1\r\n", "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"];
  const enc = new TextEncoder();
  const stats = await runFuzz<Uint8Array>({
    name: "noise-classify",
    file: FILE,
    count: N_CLASSIFY,
    generate: (rng) => {
      if (rng.bool()) return { input: rng.bytes(rng.int(130)), label: "random" };
      const m = mutateBytes(rng, enc.encode(rng.pick(texts)));
      return { input: m.value, label: m.label };
    },
    run: (bytes) => {
      const kind = classifyFirstBytes(bytes);
      if (!KINDS.has(kind)) throw new Error(`unknown classification ${kind}`);
      return kind;
    },
    classify: () => null,
    show: hexOf,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_CLASSIFY);
});
