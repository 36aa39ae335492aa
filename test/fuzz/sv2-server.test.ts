// Fuzzing a live Sv2Server through real sockets. Before the handshake: random bytes, mutated act 1,
// foreign-protocol text. After it: valid encryptions of garbage frames, of mutated valid messages
// (some with a lying msg_length) and of valid messages aimed at the connection's own channels and
// jobs, in the setup, ready and channel states. Every connection must end up answered with spec
// messages or closed (a probe and then garbage bytes check that none is left hanging), the pool
// never sends anything malformed, no handler throws (a throw would show up as a "socket error" log),
// and a healthy miner next to them keeps getting shares accepted between batches.
import { concatBytes } from "../../src/bitcoin/bytes.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import { decodeAuthorityPublicKey } from "../../src/noise/keys.ts";
import { ACT2_LENGTH } from "../../src/noise/handshake.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import type { Sv2Message } from "../../src/sv2/messages/registry.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startTestSv2, waitFor, type TestSv2 } from "../helpers/sv2.ts";
import { failureReport, FuzzFailure, fuzzCount, hexOf, iterationRng, iterations, REPLAYING, seedHex, type Prng } from "./lib.ts";
import { mutateBytes, mutateText } from "./mutate.ts";
import { fuzzFrame, learn, newKnown, setupConnection, type Known } from "./sv2-inputs.ts";
import { FuzzSv2Client } from "./sv2-wire.ts";

const FILE = "test/fuzz/sv2-server.test.ts";
const MAX_FRAME = 16_384;
const HANDSHAKE_TIMEOUT_MS = 800;

let t: TestService;
let sv2: TestSv2;
let healthy: Sv2Miner;
let authorityXonly: Uint8Array;

beforeAll(async () => {
  // A difficulty cap and a high share goal keep the healthy miner's shares frequent all run long.
  t = await startTestService({ mining: { shares_per_minute: 600, max_difficulty: 2e-6 } }, { embeddedDifficulty: 10 });
  sv2 = await startTestSv2(t, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxFrameBytes: MAX_FRAME, maxChannelsPerConnection: 4 });
  authorityXonly = decodeAuthorityPublicKey(sv2.identity.authorityPublicKey);
  healthy = sv2.miner({ user: "farm.healthy", maxHashrate: 200_000 });
  await healthy.start();
  await waitFor("the healthy miner's first share", () => healthy.stats.accepted > 0, 15_000);
});

afterAll(async () => {
  healthy.stop();
  await t.service.stop("test over", 200);
});

/** Everything that says a handler failed: a throw in a socket callback is logged as "socket error". */
function handlerFailures(): string[] {
  return t.logs.filter((r) => r.msg === "socket error" || r.level === "error").map((r) => `${r.level} ${r.msg} ${JSON.stringify(r.fields)}`);
}

function closeReasons(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of t.logs) if (r.msg === "closing SV2 connection") m.set(String(r.fields["reason"]), (m.get(String(r.fields["reason"])) ?? 0) + 1);
  return m;
}

async function healthyStillMining(after: string): Promise<void> {
  const before = healthy.stats.accepted;
  try {
    await waitFor("healthy miner shares", () => healthy.stats.accepted > before, 15_000);
  } catch {
    throw new FuzzFailure(`the healthy miner got no share accepted for 15 s after ${after} (seed ${seedHex()})`);
  }
}

function fail(name: string, i: number, label: string, input: string, problem: string): never {
  const msg = failureReport({ name, file: FILE }, i, label, input, problem);
  console.error(msg);
  throw new FuzzFailure(msg);
}

// ---- before the handshake --------------------------------------------------------------------------

const TEXTS = ['{"id":1,"method":"mining.subscribe","params":["cgminer/4.10"]}\n', "GET /metrics HTTP/1.1\r\nHost: pool\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"];

function preHandshakeInput(rng: Prng, act1: Uint8Array): { bytes: Uint8Array; label: string } {
  switch (rng.int(6)) {
    case 0:
      return { bytes: rng.bytes(rng.int(200)), label: "random" };
    case 1: {
      const m = mutateText(rng, rng.pick(TEXTS));
      return { bytes: new TextEncoder().encode(m.value), label: `text-${m.label}` };
    }
    case 2:
      return { bytes: concatBytes(act1, rng.bytes(1 + rng.int(100))), label: "act1+garbage" };
    case 3:
      return { bytes: act1, label: "act1" };
    default: {
      const m = mutateBytes(rng, act1);
      return { bytes: m.value, label: `act1-${m.label}` };
    }
  }
}

const N_PRE = fuzzCount(400);
const PRE_BATCH = 200;
test(`fuzz Sv2Server before the handshake: ${N_PRE} connections with random bytes, mutated act 1 and foreign text are answered with act 2 at most, then closed`, async () => {
  const t0 = performance.now();
  const outcomes = new Map<string, number>();
  const all = iterations(N_PRE);
  for (let b = 0; b < all.length; b += PRE_BATCH) {
    await Promise.all(
      all.slice(b, b + PRE_BATCH).map(async (i) => {
        const rng = iterationRng("sv2-server-pre", i);
        const c = new FuzzSv2Client(authorityXonly);
        await c.connect(sv2.port);
        const { bytes, label } = preHandshakeInput(rng, c.act1());
        const cut = rng.int(bytes.length + 1);
        c.writeRaw(bytes.subarray(0, cut));
        if (rng.bool()) await Bun.sleep(rng.int(20));
        c.writeRaw(bytes.subarray(cut));
        // Nothing more is sent: the pool must close (foreign protocol, MAC failure or the deadline).
        const closed = await c.until(() => c.closed, HANDSHAKE_TIMEOUT_MS + 3000);
        const input = `${label} ${hexOf(bytes)}`;
        if (!closed) {
          c.close();
          fail("sv2-server-pre", i, label, input, `connection still open ${HANDSHAKE_TIMEOUT_MS + 3000} ms after the input`);
        }
        const got = c.preHandshake.length;
        if (got !== 0 && got !== ACT2_LENGTH) fail("sv2-server-pre", i, label, input, `pool sent ${got} bytes before the handshake (only a ${ACT2_LENGTH}-byte act 2 is allowed): ${hexOf(c.preHandshake)}`);
        if (c.problems.length > 0) fail("sv2-server-pre", i, label, input, c.problems.join("; "));
        const outcome = `${got === ACT2_LENGTH ? "act2" : "none"}${c.handshakeDone ? "+handshake" : ""}:closed`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
    );
    const failures = handlerFailures();
    if (failures.length > 0) throw new FuzzFailure(`handler failures after pre-handshake batch ${b / PRE_BATCH} (seed ${seedHex()}): ${failures.join("\n")}`);
    await healthyStillMining(`pre-handshake batch ${b / PRE_BATCH}`);
  }
  await waitFor("fuzz connections gone", () => sv2.server.connectionCount === 1, 10_000);
  console.log(
    `[fuzz] sv2-server-pre: ${all.length} connections in ${((performance.now() - t0) / 1000).toFixed(2)} s (seed ${seedHex()})\n` +
      `        outcomes: ${[...outcomes.entries()].map(([k, v]) => `${k}=${v}`).join(", ")}\n` +
      `        close reasons: ${[...closeReasons().entries()].map(([k, v]) => `${k}=${v}`).join(", ")}`,
  );
  if (!REPLAYING) {
    expect(outcomes.get("act2:closed") ?? 0).toBeGreaterThan(0);
    expect(outcomes.get("none:closed") ?? 0).toBeGreaterThan(0);
    expect(closeReasons().get("noise-not-a-handshake") ?? 0).toBeGreaterThan(0);
    expect(closeReasons().get("handshake-timeout") ?? 0).toBeGreaterThan(0);
  }
});

// ---- after the handshake ---------------------------------------------------------------------------

type Start = "setup" | "ready" | "standard-jobs" | "channel";

/** Brings the connection to `start` with valid messages and learns its channel and jobs (a close meanwhile is fine). */
async function prepare(c: FuzzSv2Client, start: Start, rng: Prng, known: Known): Promise<void> {
  if (start === "setup") return;
  c.sendMessage(setupConnection(start === "standard-jobs" ? MiningSetupFlags.REQUIRES_STANDARD_JOBS : 0));
  await c.next((m) => m.type === "SetupConnectionSuccess");
  if (start === "ready") return;
  const maxTarget = new Uint8Array(32).fill(0xff);
  c.sendMessage(
    rng.bool()
      ? { type: "OpenStandardMiningChannel", requestId: 7, userIdentity: "fuzz.rig", nominalHashRate: 0, maxTarget }
      : { type: "OpenExtendedMiningChannel", requestId: 7, userIdentity: "fuzz.rig", nominalHashRate: 0, maxTarget, minExtranonceSize: 8 },
  );
  const open = await c.next((m) => m.type === "OpenStandardMiningChannelSuccess" || m.type === "OpenExtendedMiningChannelSuccess");
  if (open !== null) learn(known, open);
  // The channel's jobs follow the success at once.
  await c.until(() => c.messages.some((m) => m.type === "SetNewPrevHash"), 500);
  for (const m of c.messages) learn(known, m);
}

function isProbeAnswer(m: Sv2Message, probe: "setup" | "open"): boolean {
  if (probe === "setup") return m.type === "SetupConnectionSuccess" || m.type === "SetupConnectionError";
  return (m.type === "OpenStandardMiningChannelSuccess" || m.type === "OpenMiningChannelError") && m.requestId === 0xc0ffee;
}

const N_CONN = fuzzCount(800);
const BATCH = 30;
test(`fuzz Sv2Server after the handshake: ${N_CONN} connections x 1-6 encrypted garbage, mutated and valid frames get spec answers or a close; the healthy miner keeps mining`, async () => {
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed / (1 << 20);
  const t0 = performance.now();
  const outcomes = new Map<string, number>();
  const answers = new Map<string, number>();
  let frames = 0;
  const all = iterations(N_CONN);
  for (let b = 0; b < all.length; b += BATCH) {
    await Promise.all(
      all.slice(b, b + BATCH).map(async (i) => {
        const rng = iterationRng("sv2-server-frames", i);
        const start = rng.pick<Start>(["setup", "ready", "standard-jobs", "channel", "channel"]);
        const c = new FuzzSv2Client(authorityXonly);
        await c.connect(sv2.port);
        const sent: string[] = [];
        const report = (problem: string): never => fail("sv2-server-frames", i, start, sent.join(" | "), problem);
        if (!(await c.handshake())) report(`handshake failed: closed=${c.closed} error=${c.handshakeError}`);
        const known = newKnown();
        await prepare(c, start, rng, known);
        let lying = false;
        const n = 1 + rng.int(6);
        for (let k = 0; k < n && !c.closed; k++) {
          for (const m of c.messages) learn(known, m);
          const f = fuzzFrame(rng, known);
          lying ||= f.lying;
          sent.push(`${f.label}${f.lying ? "(lying)" : ""}:${hexOf(f.frame, 96)}`);
          c.sendFrame(f.frame);
          frames++;
          if (rng.bool()) await Bun.sleep(rng.int(3));
        }
        // The probe: a connection still open must still answer (unless a lying msg_length may have left
        // the pool waiting for payload bytes, which the garbage below then completes).
        const setUp = c.messages.some((m) => m.type === "SetupConnectionSuccess") || start !== "setup";
        const probe = setUp ? "open" : "setup";
        let outcome = "";
        if (c.closed) outcome = "closed-by-fuzz";
        else if (lying) outcome = "lying-frame";
        else {
          if (probe === "setup") c.sendMessage(setupConnection());
          else c.sendMessage({ type: "OpenStandardMiningChannel", requestId: 0xc0ffee, userIdentity: "fuzz.probe", nominalHashRate: 0, maxTarget: new Uint8Array(32).fill(0xff) });
          const answer = await c.next((m) => isProbeAnswer(m, probe), 5000);
          if (answer !== null) outcome = "answered-probe";
          else if (c.closed) outcome = "closed-on-probe";
          else report(`the connection neither answered the probe (${probe}) nor closed within 5 s`);
        }
        // Garbage must end any connection: a frame header (or the rest of a pending frame) that fails its MAC.
        c.writeRaw(new Uint8Array(MAX_FRAME + 128));
        if (!(await c.until(() => c.closed, 5000))) report("the pool did not close the connection within 5 s of garbage bytes");
        if (c.problems.length > 0) report(c.problems.join("; "));
        for (const m of c.messages) {
          const key = m.type === "SubmitSharesError" || m.type === "OpenMiningChannelError" || m.type === "UpdateChannelError" || m.type === "SetupConnectionError" ? `${m.type}:${m.errorCode}` : m.type;
          answers.set(key, (answers.get(key) ?? 0) + 1);
        }
        outcomes.set(`${start}:${outcome}`, (outcomes.get(`${start}:${outcome}`) ?? 0) + 1);
      }),
    );
    const failures = handlerFailures();
    if (failures.length > 0) throw new FuzzFailure(`handler failures after batch ${b / BATCH} (seed ${seedHex()}): ${failures.join("\n")}`);
    await healthyStillMining(`post-handshake batch ${b / BATCH}`);
  }
  await waitFor("fuzz connections gone", () => sv2.server.connectionCount === 1, 10_000);
  // Only the healthy miner's channel is left in the pool.
  expect(t.service.pool.channelCount).toBe(1);
  Bun.gc(true);
  const heapMb = process.memoryUsage().heapUsed / (1 << 20);
  console.log(
    `[fuzz] sv2-server-frames: ${all.length} connections, ${frames} fuzz frames in ${((performance.now() - t0) / 1000).toFixed(2)} s (seed ${seedHex()}); healthy miner accepted ${healthy.stats.accepted}; heap ${heapMb - heapBefore >= 0 ? "+" : ""}${(heapMb - heapBefore).toFixed(1)} MB\n` +
      `        outcomes: ${[...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(", ")}\n` +
      `        pool answers: ${[...answers.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(", ")}\n` +
      `        close reasons: ${[...closeReasons().entries()].map(([k, v]) => `${k}=${v}`).join(", ")}`,
  );
  // Closed connections leave nothing behind (a generous bound: logs and metrics grow a little).
  expect(heapMb - heapBefore).toBeLessThan(64);
  if (!REPLAYING) {
    expect([...outcomes.keys()].some((k) => k.endsWith("answered-probe"))).toBe(true);
    expect([...outcomes.keys()].some((k) => k.endsWith("closed-by-fuzz") || k.endsWith("closed-on-probe"))).toBe(true);
    expect(closeReasons().get("bad-message") ?? 0).toBeGreaterThan(0);
    expect(closeReasons().get("noise-mac-mismatch") ?? 0).toBeGreaterThan(0);
  }
});
