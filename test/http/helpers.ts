// A real pool (PoolService on the embedded regtest node) with its HTTP server on 127.0.0.1:0, real
// mining through the pool core, and a Prometheus text-format parser for /metrics.
import { expect } from "bun:test";
import { hashMeetsTarget, MAX_TARGET } from "../../src/bitcoin/target.ts";
import { resolveConfig, type RawConfig } from "../../src/config.ts";
import { HttpServer, type PoolInfo } from "../../src/http/server.ts";
import { createMemoryLogger, type LogRecord } from "../../src/log.ts";
import { Registry } from "../../src/metrics.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import type { Channel } from "../../src/pool/channel.ts";
import type { Job } from "../../src/pool/jobs.ts";
import type { ShareResult, ShareSubmission } from "../../src/pool/share.ts";
import { createPoolService } from "../../src/server/assemble.ts";
import type { PoolService } from "../../src/server/pool-service.ts";
import { mineShare } from "../helpers/grind.ts";

export const AUTHORITY_KEY = "9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72";
export const STARTED_AT_MS = Date.now();

export interface HttpTestPool {
  service: PoolService;
  node: EmbeddedNode;
  http: HttpServer;
  base: string;
  info: PoolInfo;
  logs: LogRecord[];
  stop(): Promise<void>;
}

/**
 * Starts the service and its HTTP server. `embeddedDifficulty` 1e-5 (default) puts the network
 * target below the channels' 1e-6 share target: most shares are plain shares, about one in ten a block.
 */
export async function startHttpPool(opts: { token?: string; embeddedDifficulty?: number } = {}): Promise<HttpTestPool> {
  const raw: RawConfig = {
    "": { data_dir: ":memory:" },
    node: { tip_poll_ms: 10 },
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6 },
  };
  const config = resolveConfig(raw);
  const logger = createMemoryLogger();
  const registry = new Registry();
  const node = new EmbeddedNode({ difficulty: opts.embeddedDifficulty ?? 1e-5 });
  const service = createPoolService(config, {
    logger,
    node, // createPoolService times its RPCs (instrumentNode)
    metrics: registry,
    submitRetryMinMs: 20,
    submitRetryMaxMs: 200,
  });
  service.start();
  await service.ready;
  const info: PoolInfo = {
    version: "0.1.0-test",
    network: config.network,
    authorityPublicKey: AUTHORITY_KEY,
    sv2Listen: "127.0.0.1:34254",
    sv1Listen: "127.0.0.1:3333",
    startedAtMs: STARTED_AT_MS,
  };
  const http = new HttpServer(service, { host: "127.0.0.1", port: 0, token: opts.token, info: () => info });
  const addr = await http.start();
  return {
    service,
    node,
    http,
    base: `http://127.0.0.1:${addr.port}`,
    info,
    logs: logger.records,
    async stop() {
      await http.stop();
      await service.stop("test over", 200);
    },
  };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** What `mineScenario` did, for exact assertions. */
export interface MinedScenario {
  worker: string;
  endpoint: string;
  channel: Channel;
  /** Difficulty credited per accepted share (the channel's). */
  shareDifficulty: number;
  accepted: number;
  rejected: number;
  stale: number;
  blockHash: string;
  blockHeight: number;
}

function submit(service: PoolService, endpoint: string, s: ShareSubmission): ShareResult {
  return service.submitShare(endpoint, s);
}

/** A share that meets the channel target but not the network target (grinds past block hashes). */
function plainShare(ch: Channel, job: Job, startNonce: number): ShareSubmission {
  let nonce = startNonce;
  for (;;) {
    const r = mineShare(ch, job, { startNonce: nonce });
    if (!hashMeetsTarget(r.hash, job.targetLe)) return r.submission;
    nonce = r.submission.nonce + 1;
  }
}

/**
 * Real mining through the pool path a front end uses: a session, a standard channel, `plain` plain
 * shares, one duplicate (rejected), one block (submitted to the embedded node and accepted), then a
 * share on the replaced job (stale).
 */
export async function mineScenario(t: HttpTestPool, worker = "farm.rack-03.s19", plain = 3): Promise<MinedScenario> {
  const { service } = t;
  const endpoint = "10.0.0.7:40001";
  service.registerSession(endpoint, { targetChanged() {} });
  const ch = service.pool.openStandardChannel(endpoint, { userIdentity: worker, nominalHashrate: 0, maxTarget: MAX_TARGET });
  const job = service.pool.currentJob;
  if (job === null) throw new Error("no job");
  service.pool.assignJob(ch, job, true);
  const shareDifficulty = ch.difficulty;
  const shares: ShareSubmission[] = [];
  let nonce = 0;
  for (let i = 0; i < plain; i++) {
    const s = plainShare(ch, job, nonce);
    nonce = s.nonce + 1;
    const r = submit(service, endpoint, s);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.block).toBeNull();
    shares.push(s);
  }
  const dup = submit(service, endpoint, shares[0] as ShareSubmission);
  expect(dup.ok ? "accepted" : dup.reason).toBe("duplicate-share");
  const late = plainShare(ch, job, nonce);
  const blockShare = mineShare(ch, job, { target: job.target, startNonce: late.nonce + 1 }).submission;
  const heightBefore = t.node.tipHeight;
  const r = submit(service, endpoint, blockShare);
  if (!r.ok || r.block === null) throw new Error("the block share was not a block");
  const block = r.block;
  await service.submitter.whenSettled(block.hashHex);
  expect(t.node.tipHeight).toBe(heightBefore + 1);
  expect(t.node.tipHash).toBe(block.hashHex);
  await waitFor("the pool to switch to the new tip", () => service.pool.currentTip?.height === block.height + 1);
  const stale = submit(service, endpoint, late);
  expect(stale.ok ? "accepted" : stale.reason).toBe("stale-share");
  return {
    worker,
    endpoint,
    channel: ch,
    shareDifficulty,
    accepted: plain + 1,
    rejected: 2,
    stale: 1,
    blockHash: block.hashHex,
    blockHeight: block.height,
  };
}

/** Opens a standard channel for `worker` on a new session and submits `count` accepted plain shares. */
export function mineShares(t: HttpTestPool, endpoint: string, worker: string, count: number): Channel {
  const { service } = t;
  service.registerSession(endpoint, { targetChanged() {} });
  const ch = service.pool.openStandardChannel(endpoint, { userIdentity: worker, nominalHashrate: 0, maxTarget: MAX_TARGET });
  const job = service.pool.currentJob;
  if (job === null) throw new Error("no job");
  service.pool.assignJob(ch, job, true);
  let nonce = 0;
  for (let i = 0; i < count; i++) {
    const s = plainShare(ch, job, nonce);
    nonce = s.nonce + 1;
    const r = submit(service, endpoint, s);
    if (!r.ok || r.block !== null) throw new Error(`share ${i} of ${worker}: ${r.ok ? "a block" : r.reason}`);
  }
  return ch;
}

// ---- Prometheus text format 0.0.4 ------------------------------------------------------------

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help: string | null;
  type: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export class PromParseError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text.slice(0, 120))}`);
  }
}

function parseValue(s: string): number | null {
  if (s === "NaN") return Number.NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/** Parses `name{a="b",...} value [timestamp]`; returns null when the line is not a valid sample. */
function parseSample(line: string): PromSample | null {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i] as string)) i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME.test(name)) return null;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      if (line[i] === "}") {
        i++;
        break;
      }
      const start = i;
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i] as string)) i++;
      const key = line.slice(start, i);
      if (!LABEL_NAME.test(key) || line[i] !== "=" || line[i + 1] !== '"') return null;
      i += 2;
      let value = "";
      for (;;) {
        const c = line[i];
        if (c === undefined) return null;
        if (c === '"') break;
        if (c === "\\") {
          const n = line[i + 1];
          if (n === "\\") value += "\\";
          else if (n === '"') value += '"';
          else if (n === "n") value += "\n";
          else return null;
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      if (key in labels) return null;
      labels[key] = value;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") return null;
    }
  }
  if (line[i] !== " ") return null;
  const rest = line.slice(i + 1).split(" ");
  if (rest.length < 1 || rest.length > 2) return null;
  const value = parseValue(rest[0] as string);
  if (value === null) return null;
  if (rest.length === 2 && !/^-?\d+$/.test(rest[1] as string)) return null;
  return { name, labels, value };
}

/** Strict parser: throws on any line that is not valid text format 0.0.4. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new PromParseError(0, text.slice(-40), "exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const lines = text.slice(0, -1).split("\n");
  let current: PromFamily | null = null;
  lines.forEach((line, idx) => {
    const n = idx + 1;
    if (line === "") throw new PromParseError(n, line, "empty line");
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new PromParseError(n, line, "bad metric name");
      let fam = families.get(name);
      if (fam === undefined) {
        fam = { name, help: null, type: "untyped", samples: [] };
        families.set(name, fam);
      } else if (fam.samples.length > 0) {
        throw new PromParseError(n, line, "HELP/TYPE after the family's samples");
      }
      if (kind === "HELP") {
        if (fam.help !== null) throw new PromParseError(n, line, "second HELP");
        if (/\\[^\\n]/.test(rest.replaceAll("\\\\", ""))) throw new PromParseError(n, line, "bad escape in HELP");
        fam.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new PromParseError(n, line, "unknown TYPE");
        fam.type = rest;
      }
      current = fam;
      return;
    }
    const s = parseSample(line);
    if (s === null) throw new PromParseError(n, line, "not a valid sample");
    const fam: PromFamily | null = current;
    const belongs =
      fam !== null &&
      (s.name === fam.name ||
        (fam.type === "histogram" && [`${fam.name}_bucket`, `${fam.name}_sum`, `${fam.name}_count`].includes(s.name)) ||
        (fam.type === "summary" && [`${fam.name}_sum`, `${fam.name}_count`].includes(s.name)));
    if (!belongs || fam === null) throw new PromParseError(n, line, "sample outside its family");
    if (fam.type === "histogram" && s.name === `${fam.name}_bucket` && !("le" in s.labels)) throw new PromParseError(n, line, "bucket without le");
    fam.samples.push(s);
  });
  for (const fam of families.values()) if (fam.type === "histogram") checkHistogram(fam);
  return families;
}

/** Buckets cumulative, +Inf bucket = _count, per label set. */
function checkHistogram(fam: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count: number | null }>();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [], count: null };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) g.buckets.push([parseValue(le as string) as number, s.value]);
    if (s.name.endsWith("_count")) g.count = s.value;
  }
  for (const g of groups.values()) {
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevV] = g.buckets[i - 1] as [number, number];
      const [le, v] = g.buckets[i] as [number, number];
      if (!(le > prevLe) || v < prevV) throw new Error(`${fam.name}: buckets not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (last === undefined || last[0] !== Infinity || last[1] !== g.count) throw new Error(`${fam.name}: +Inf bucket differs from _count`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sample(fams: Map<string, PromFamily>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const fam = fams.get(family);
  if (fam === undefined) return undefined;
  const hits = fam.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}
