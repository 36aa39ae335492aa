// Fuzzing Stratum V1: the pure wire helpers (parseRequest, parseNotify, parseConfigure,
// parsePassword, parseDifficulty, parseU32Hex, parseHexBytes, LineSplitter), Sv1Session driven
// without sockets (the real Sv1Server as its context, on a real pool), and a live Sv1Server over TCP
// fed random, mutated and over-long lines, binary junk, partial UTF-8, huge numbers and deeply nested
// JSON. The pool answers only well-formed JSON-RPC lines (results, errors, notifications) or closes
// the connection; no handler throws; another V1 session keeps mining between batches.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { StratumV2Error } from "../../src/errors.ts";
import {
  LineSplitter,
  parseConfigure,
  parseDifficulty,
  parseHexBytes,
  parseIncoming,
  parseNotify,
  parsePassword,
  parseRequest,
  parseU32Hex,
} from "../../src/server/sv1/protocol.ts";
import { Sv1Server } from "../../src/server/sv1/server.ts";
import { Sv1Session } from "../../src/server/sv1/session.ts";
import { readSharedText, sharedPath } from "../helpers/shared.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { RawV1Client, grindV1, notifyOf, startV1Pool, submitParams, type V1Pool, type V1Share } from "../sv1/helpers.ts";
import { countOutcomes, failureReport, FuzzFailure, fuzzCount, iterationRng, iterations, REPLAYING, runFuzz, seedHex, TRACE, type Prng } from "./lib.ts";
import { mutateJson, mutateText, showJson } from "./mutate.ts";

const FILE = "test/fuzz/sv1.test.ts";
const MAX_LINE = 4096;
const encoder = new TextEncoder();

// ---- corpus ------------------------------------------------------------------------------------------

/** Requests as firmware sends them, plus every recorded stratum message in ../shared. */
function requestCorpus(): unknown[] {
  const out: unknown[] = [
    { id: 1, method: "mining.subscribe", params: ["cgminer/4.10.0"] },
    { id: 2, method: "mining.authorize", params: ["farm.w1", "x"] },
    { id: 3, method: "mining.authorize", params: ["farm.w2", "d=0.001"] },
    {
      id: 4,
      method: "mining.configure",
      params: [["version-rolling", "minimum-difficulty", "subscribe-extranonce"], { "version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2, "minimum-difficulty.value": 2048 }],
    },
    { id: 5, method: "mining.submit", params: ["farm.w1", "1", "00000000", "6650a1b2", "12345678", "00002000"] },
    { id: 6, method: "mining.suggest_difficulty", params: [0.5] },
    { id: 7, method: "mining.suggest_target", params: ["00000000ffff0000000000000000000000000000000000000000000000000000"] },
    { id: 8, method: "mining.extranonce.subscribe", params: [] },
    { id: 9, method: "mining.ping", params: [] },
    { id: "abc", method: "mining.unknown", params: {} },
    { id: null, method: "mining.submit" },
  ];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".json")) {
        const v: unknown = JSON.parse(readSharedText(p.slice(sharedPath().length + 1)));
        if (typeof v === "object" && v !== null && !Array.isArray(v) && "request" in v) out.push((v as Record<string, unknown>)["request"]);
        else out.push(v);
      }
    }
  };
  walk(sharedPath("bitcoin", "gbt", "signet-p2poolv2", "stratum"));
  return out;
}

const REQUESTS = requestCorpus();
const REQUEST_LINES = REQUESTS.map((r) => JSON.stringify(r));
const JSON_TOKENS = ['{"', '"}', "[", "]", "{", "}", ":", ",", '"method"', '"params"', '"id"', "null", "true", "1e400", "-1e400", "1e-400", "123456789012345678901234567890", '"\\u0000"', '"\\ud800"', "\\", '"mining.submit"'];

/** One fuzz line (without its line ending unless the label says so) as bytes. */
function fuzzLine(rng: Prng, extra: { submit?: () => unknown }): { bytes: Uint8Array; label: string } {
  switch (rng.int(14)) {
    case 0:
      return { bytes: rng.bytes(rng.int(120)), label: "binary" };
    case 1: {
      // Partial or invalid UTF-8 inside an otherwise plausible line.
      const junk = rng.pick([[0xc3], [0xf0, 0x9f], [0xe2, 0x82], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0x80]]);
      const line = encoder.encode(rng.pick(REQUEST_LINES));
      const at = rng.int(line.length + 1);
      return { bytes: new Uint8Array([...line.subarray(0, at), ...junk, ...line.subarray(at)]), label: "bad-utf8" };
    }
    case 2: {
      // Deep but (mostly) within the line limit, so the JSON parser sees it.
      const open = rng.bool() ? "[" : '{"a":';
      const depth = 10 + rng.int(Math.floor((MAX_LINE - 80) / (open.length + 1)) - 10);
      const close = open === "[" ? "]" : "}";
      return { bytes: encoder.encode(`{"id":1,"method":"mining.submit","params":${open.repeat(depth)}1${close.repeat(depth)}}`), label: "nested" };
    }
    case 3:
      return { bytes: encoder.encode(`{"id":${rng.pick(["1e400", "-0", "1.5", "9007199254740993", "[1]", '{"x":1}', '"' + "z".repeat(300) + '"'])},"method":"mining.ping","params":[${rng.pick(["1e400", "-1e400", "1e-400", "123456789012345678901234567890"])}]}`), label: "numbers" };
    case 4:
      return { bytes: encoder.encode(`{"id":1,"method":"mining.ping","params":["${"x".repeat(MAX_LINE + rng.int(2000))}"]}`), label: "over-long" };
    case 5:
      return { bytes: encoder.encode(rng.pick(["", " ", "\r", "null", "[]", "{}", "1", '"str"', "[1,2,3]", '{"method":1}', '{"method":null,"id":1}'])), label: "not-a-request" };
    case 6:
    case 7:
      if (extra.submit !== undefined) {
        const m = mutateJson(rng, extra.submit(), false);
        return { bytes: encoder.encode(JSON.stringify(m.value) ?? "null"), label: `submit-${m.label}` };
      }
      return { bytes: encoder.encode(rng.pick(REQUEST_LINES)), label: "valid" };
    case 8:
    case 9: {
      const m = mutateJson(rng, rng.pick(REQUESTS), false);
      return { bytes: encoder.encode(JSON.stringify(m.value) ?? "null"), label: `json-${m.label}` };
    }
    case 10:
      return { bytes: encoder.encode(rng.pick(REQUEST_LINES)), label: "valid" };
    default: {
      const m = mutateText(rng, rng.pick(REQUEST_LINES), { tokens: JSON_TOKENS, corpus: REQUEST_LINES });
      return { bytes: encoder.encode(m.value), label: `text-${m.label}` };
    }
  }
}

// ---- what the pool may send ------------------------------------------------------------------------

/** Checks one line from the pool: a JSON-RPC response (id, result, error = null | [code, message, null]) or a notification. */
function checkPoolLine(line: string): string | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `pool sent a line that is not JSON: ${JSON.stringify(line.slice(0, 300))}`;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `pool sent a non-object: ${line.slice(0, 300)}`;
  const o = v as Record<string, unknown>;
  if (typeof o["method"] === "string") return Array.isArray(o["params"]) && o["id"] === null ? null : `malformed notification: ${line.slice(0, 300)}`;
  if (!("id" in o) || !("result" in o) || !("error" in o)) return `response without id/result/error: ${line.slice(0, 300)}`;
  const e = o["error"];
  if (e === null) return null;
  if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== "number" || typeof e[1] !== "string" || e[2] !== null || o["result"] !== null) return `malformed error: ${line.slice(0, 300)}`;
  return null;
}

// ---- pure helpers ------------------------------------------------------------------------------------

const N_PURE = fuzzCount(20_000);
test(`fuzz SV1 wire helpers: ${N_PURE} mutated lines through parseRequest/parseIncoming/parseNotify/parseConfigure/parse* (typed errors only)`, async () => {
  const notifies = REQUESTS.filter((r) => typeof r === "object" && r !== null && (r as Record<string, unknown>)["method"] === "mining.notify");
  expect(notifies.length).toBeGreaterThan(0);
  const stats = await runFuzz<string>({
    name: "sv1-pure",
    file: FILE,
    count: N_PURE,
    generate: (rng) => {
      if (rng.int(3) === 0) {
        const m = mutateJson(rng, rng.pick(notifies), rng.int(20) === 0);
        return { input: JSON.stringify(m.value) ?? "null", label: `notify-${m.label}` };
      }
      const l = fuzzLine(rng, {});
      return { input: new TextDecoder().decode(l.bytes), label: l.label };
    },
    run: (line) => {
      let req;
      try {
        req = parseRequest(line);
        parseIncoming(line);
      } catch (e) {
        // Documented: non-JSON is a SyntaxError from JSON.parse (deep nesting may be a RangeError).
        if (e instanceof SyntaxError || e instanceof RangeError) return "not-json";
        throw e;
      }
      if (req === null) return "not-a-request";
      const p = req.params;
      parseConfigure(p);
      for (const v of p.slice(0, 8)) {
        parsePassword(v);
        parseDifficulty(v);
        parseU32Hex(v);
        parseHexBytes(v, 4);
      }
      if (req.method === "mining.notify") {
        try {
          parseNotify(p);
          return "notify";
        } catch (e) {
          if (e instanceof StratumV2Error) return `error:notify:${e.kind}`;
          throw e;
        }
      }
      return "request";
    },
    classify: () => null,
    show: (l) => JSON.stringify(l.slice(0, 1500)),
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_PURE);
  if (!REPLAYING) expect(countOutcomes(stats, "notify")).toBeGreaterThan(0);
});

const N_SPLIT = fuzzCount(5_000);
test(`fuzz LineSplitter: ${N_SPLIT} random streams in random chunks give exactly the stream's lines, or refuse an over-long one`, async () => {
  const stats = await runFuzz<{ stream: Uint8Array; cuts: number[]; max: number }>({
    name: "sv1-splitter",
    file: FILE,
    count: N_SPLIT,
    generate: (rng) => {
      const parts: Uint8Array[] = [];
      const n = 1 + rng.int(8);
      for (let k = 0; k < n; k++) {
        parts.push(fuzzLine(rng, {}).bytes);
        parts.push(encoder.encode(rng.pick(["\n", "\r\n", "\n\n", "\r", ""])));
      }
      const stream = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) {
        stream.set(p, at);
        at += p.length;
      }
      const cuts = Array.from({ length: rng.int(6) }, () => rng.int(stream.length + 1)).sort((a, b) => a - b);
      return { input: { stream, cuts, max: rng.pick([16, 512, MAX_LINE]) }, label: "stream" };
    },
    run: ({ stream, cuts, max }) => {
      const splitter = new LineSplitter(max);
      const got: string[] = [];
      let ok = true;
      let at = 0;
      for (const c of [...cuts, stream.length]) {
        ok = splitter.push(stream.slice(at, c), (line) => {
          got.push(line);
          return true;
        });
        at = c;
        if (!ok) break;
      }
      // The reference: split on LF, drop a CR before it, skip empty lines; the unterminated tail stays pending.
      const text = new TextDecoder().decode(stream);
      const raw = stream.lastIndexOf(10) < 0 ? [] : Array.from(splitLines(stream));
      const tooLong = raw.some((l) => l.length > max) || stream.length - (stream.lastIndexOf(10) + 1) > max;
      if (!ok) {
        if (!tooLong) throw new Error("refused a stream without an over-long line");
        return "refused";
      }
      if (tooLong) throw new Error(`accepted an over-long line (max ${max})`);
      const expected = raw.filter((l) => l.length > 0).map((l) => new TextDecoder().decode(l));
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`lines differ: got ${JSON.stringify(got).slice(0, 300)} expected ${JSON.stringify(expected).slice(0, 300)} (${text.length} chars)`);
      if (splitter.pendingBytes > max) throw new Error("splitter holds more than a line");
      return "lines";
    },
    classify: () => null,
    show: ({ stream, cuts, max }) => `max=${max} cuts=${cuts.join(",")} stream=${JSON.stringify(new TextDecoder().decode(stream).slice(0, 800))}`,
  });
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_SPLIT);
});

/** Complete lines of a byte stream (LF-terminated, CR before LF removed). */
function* splitLines(stream: Uint8Array): Generator<Uint8Array> {
  let start = 0;
  for (let nl = stream.indexOf(10, start); nl >= 0; nl = stream.indexOf(10, start)) {
    let end = nl;
    if (end > start && stream[end - 1] === 13) end--;
    yield stream.subarray(start, end);
    start = nl + 1;
  }
}

// ---- sessions without sockets ------------------------------------------------------------------------

let t: TestService;
let ctx: Sv1Server;

beforeAll(async () => {
  t = await startTestService({}, { embeddedDifficulty: 10 });
  // Not listening: the sessions' context (options, counters, notify lines).
  ctx = new Sv1Server(t.service, { host: "127.0.0.1", port: 0, extranonce2Size: 4, maxLineBytes: MAX_LINE });
});

afterAll(async () => {
  await t.service.stop("test over", 200);
});

const N_SESSIONS = fuzzCount(3_000);
test(`fuzz Sv1Session.onData (no sockets, real pool): ${N_SESSIONS} sessions of 1-10 fuzz lines answer only well-formed JSON-RPC`, async () => {
  let lines = 0;
  let n = 0;
  const answers = new Map<string, number>();
  const stats = await runFuzz<{ seed: number }>({
    name: "sv1-session",
    file: FILE,
    count: N_SESSIONS,
    generate: (rng) => ({ input: { seed: rng.u32() }, label: "session" }),
    run: (_input, rng) => {
      const endpoint = `sv1-fuzz:${n++}`;
      const out: string[] = [];
      let closed: string | null = null;
      const session = new Sv1Session(
        ctx,
        {
          write: (bytes) => {
            out.push(new TextDecoder().decode(bytes));
            return true;
          },
          close: (graceful) => {
            closed = graceful ? "graceful" : "abort";
          },
        },
        { endpoint, remoteIp: "127.0.0.1", sessionNumber: 1 + rng.int(1000), nowMs: Date.now() },
      );
      t.service.registerSession(endpoint, { targetChanged: (ch) => session.onTargetChanged(ch) });
      // Half the sessions get subscribed and authorized first, so submits reach the pool.
      const job = t.service.pool.currentJob;
      if (rng.bool()) {
        session.onData(encoder.encode(`{"id":1,"method":"mining.subscribe","params":[]}\n{"id":2,"method":"mining.authorize","params":["fuzz.v1","x"]}\n`), Date.now());
      }
      const submit = (): unknown => ({
        id: rng.u32(),
        method: "mining.submit",
        params: ["fuzz.v1", job === null ? "1" : (job.id >>> 0).toString(16), "0000000" + rng.int(10), Math.floor(Date.now() / 1000).toString(16), rng.u32().toString(16).padStart(8, "0")],
      });
      const count = 1 + rng.int(10);
      for (let k = 0; k < count && closed === null; k++) {
        const l = fuzzLine(rng, { submit });
        lines++;
        const ending = encoder.encode(rng.pick(["\n", "\r\n", "\n", ""]));
        const bytes = new Uint8Array([...l.bytes, ...ending]);
        // Random read boundaries.
        const cut = rng.int(bytes.length + 1);
        if (TRACE) console.log(`  ${l.label} ${JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 300)))}`);
        session.onData(bytes.subarray(0, cut), Date.now());
        session.onData(bytes.subarray(cut), Date.now());
      }
      session.onData(encoder.encode("\n"), Date.now());
      for (const chunk of out) {
        for (const line of chunk.split("\n").slice(0, -1)) {
          const problem = checkPoolLine(line);
          if (problem !== null) throw new Error(problem);
          const o = JSON.parse(line) as Record<string, unknown>;
          const key = typeof o["method"] === "string" ? (o["method"] as string) : o["error"] === null ? "result" : `error:${(o["error"] as unknown[])[1]}`;
          answers.set(key, (answers.get(key) ?? 0) + 1);
        }
        if (!chunk.endsWith("\n")) throw new Error(`pool wrote a chunk not ending in a newline: ${JSON.stringify(chunk.slice(-100))}`);
      }
      const outcome = closed === null ? "open" : `closed:${closed}`;
      session.close("test-over", true);
      session.onClosed();
      t.service.unregisterSession(endpoint);
      if (t.service.pool.channelsOf(endpoint).length !== 0) throw new Error("channel left open after the session closed");
      return outcome;
    },
    classify: () => null,
    show: () => "a session (replay the iteration; SV2POOL_FUZZ_TRACE=1 shows its labels)",
  });
  console.log(`        ${lines} fuzz lines; answers: ${[...answers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 24).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_SESSIONS);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "open")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "closed")).toBeGreaterThan(0);
    expect(t.service.pool.channelCount).toBe(0);
  }
});

// ---- a live Sv1Server --------------------------------------------------------------------------------

/** A line client that checks every line the pool sends instead of parsing it (RawV1Client would throw on bad JSON in its callback). */
class FuzzV1Client extends RawV1Client {
  readonly problems: string[] = [];

  protected override onLine(line: string): void {
    const problem = checkPoolLine(line);
    if (problem !== null) this.problems.push(problem);
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.sendRaw(bytes);
  }

  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) return false;
      await Bun.sleep(2);
    }
    return true;
  }

  override close(): void {
    this.terminate();
  }
}

let pool: V1Pool;
let healthy: RawV1Client;
let healthyShare = 0;

async function healthyShareAccepted(after: string): Promise<void> {
  // The newest job and difficulty; a fresh extranonce2 per share so none is a duplicate.
  const job = notifyOf(healthy.all("mining.notify").at(-1) as Record<string, never>);
  const difficulty = (healthy.all("mining.set_difficulty").at(-1)?.["params"] as number[])[0] as number;
  const n = ++healthyShare;
  const share: V1Share = { extranonce1: healthyExtranonce1, extranonce2: (n >>> 0).toString(16).padStart(8, "0") };
  const found = grindV1(job, share, difficulty);
  const r = await healthy.call(10_000 + n, "mining.submit", submitParams("farm.v1healthy", job, share, found.nonce));
  if (r["result"] !== true) throw new FuzzFailure(`the healthy V1 session's share was refused after ${after}: ${JSON.stringify(r)} (seed ${seedHex()})`);
}

let healthyExtranonce1 = "";

const N_V1_CONN = fuzzCount(1_500);
const V1_BATCH = 50;
test(`fuzz Sv1Server over TCP: ${N_V1_CONN} connections of 1-8 hostile lines get JSON-RPC answers or a close; another session keeps mining`, async () => {
  pool = await startV1Pool({ embeddedDifficulty: 10 });
  healthy = await RawV1Client.connect(pool.port);
  const sub = await healthy.call(1, "mining.subscribe", ["healthy/1.0"]);
  healthyExtranonce1 = (sub["result"] as unknown[])[1] as string;
  await healthy.call(2, "mining.authorize", ["farm.v1healthy", "x"]);
  await healthy.notification("mining.notify");
  await healthyShareAccepted("start");
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed / (1 << 20);
  const t0 = performance.now();
  const outcomes = new Map<string, number>();
  let lines = 0;
  const all = iterations(N_V1_CONN);
  try {
    for (let b = 0; b < all.length; b += V1_BATCH) {
      await Promise.all(
        all.slice(b, b + V1_BATCH).map(async (i) => {
          const rng = iterationRng("sv1-server", i);
          const c = await FuzzV1Client.connect(pool.port);
          const sent: string[] = [];
          const fail = (problem: string): never => {
            const msg = failureReport({ name: "sv1-server", file: FILE }, i, "connection", sent.join(" | "), problem);
            console.error(msg);
            c.close();
            throw new FuzzFailure(msg);
          };
          if (rng.bool()) c.write(encoder.encode('{"id":1,"method":"mining.subscribe","params":[]}\n{"id":2,"method":"mining.authorize","params":["fuzz.v1","x"]}\n'));
          const n = 1 + rng.int(8);
          for (let k = 0; k < n && !c.closed; k++) {
            const l = fuzzLine(rng, {});
            lines++;
            sent.push(`${l.label}:${JSON.stringify(new TextDecoder().decode(l.bytes.subarray(0, 200)))}`);
            c.write(new Uint8Array([...l.bytes, ...encoder.encode(rng.pick(["\n", "\r\n", "\n", ""]))]));
            if (rng.bool()) await Bun.sleep(rng.int(3));
          }
          // The probe: an open connection still answers a ping.
          c.write(encoder.encode('\n{"id":"probe","method":"mining.ping","params":[]}\n'));
          await c.until(() => c.closed || c.lines.some((l) => l.includes('"probe"')), 5000);
          const answered = c.lines.some((l) => l.startsWith('{"id":"probe","result":"pong"'));
          if (!answered && !c.closed) fail("the connection neither answered the probe nor closed within 5 s");
          if (c.problems.length > 0) fail(c.problems.join("; "));
          const outcome = answered ? "answered-probe" : "closed";
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          c.close();
        }),
      );
      const failures = pool.t.logs.filter((r) => r.msg === "socket error" || r.level === "error");
      if (failures.length > 0) throw new FuzzFailure(`handler failures after V1 batch ${b / V1_BATCH} (seed ${seedHex()}): ${failures.map((r) => `${r.msg} ${showJson(r.fields)}`).join("\n")}`);
      await healthyShareAccepted(`V1 batch ${b / V1_BATCH}`);
    }
    Bun.gc(true);
    const heapGrowth = process.memoryUsage().heapUsed / (1 << 20) - heapBefore;
    console.log(
      `[fuzz] sv1-server: ${all.length} connections, ${lines} fuzz lines in ${((performance.now() - t0) / 1000).toFixed(2)} s (seed ${seedHex()}); heap ${heapGrowth >= 0 ? "+" : ""}${heapGrowth.toFixed(1)} MB\n` +
        `        outcomes: ${[...outcomes.entries()].map(([k, v]) => `${k}=${v}`).join(", ")}`,
    );
    expect(heapGrowth).toBeLessThan(64);
    if (!REPLAYING) {
      expect(outcomes.get("answered-probe") ?? 0).toBeGreaterThan(0);
      expect(outcomes.get("closed") ?? 0).toBeGreaterThan(0);
    }
    const deadline = Date.now() + 5000;
    while (pool.server.sessionCount > 1 && Date.now() < deadline) await Bun.sleep(10);
    expect(pool.server.sessionCount).toBe(1);
  } finally {
    healthy.close();
    await pool.stop();
  }
});
