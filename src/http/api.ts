/**
 * The JSON views the HTTP API serves, built from the running service.
 *
 * Share counts come from two places: the pool core's live WorkerStats (since this process started;
 * they also carry the hashrate meter and the open channels) and the ledger's totals (stored plus not
 * yet flushed, so they survive restarts). Both see every share, so the ledger's figure is never below
 * the live one; each count is the larger of the two, which stays right whether or not the core was
 * restored from the ledger at start.
 */
import { internalToDisplayHex } from "../bitcoin/bytes.ts";
import type { ShareRejectReason, WorkerStats } from "../pool/stats.ts";
import type { PoolService } from "../server/pool-service.ts";
import type { BlockRecord, BlockStatus, WorkerTotals } from "../store/ledger.ts";
import { blockCounts, tipHeight } from "./metrics.ts";

/** What the process knows about itself that the service does not (addresses, keys, version). */
export interface PoolInfo {
  version: string;
  network: string;
  /** The base58check authority key SV2 miners configure, or null when SV2 is off. */
  authorityPublicKey: string | null;
  sv2Listen: string | null;
  sv1Listen: string | null;
  /** Defaults to the address the HTTP server is bound to. */
  httpListen?: string;
  startedAtMs: number;
}

/** Workers silent for longer than this are flagged (dashboard highlight, `silent` field). */
export const SILENT_AFTER_MS = 10 * 60_000;
/** Short hashrate window next to the 10-minute estimate. */
const SHORT_WINDOW_MS = 60_000;
const HASHES_PER_DIFF1 = 2 ** 32;

export interface SharesView {
  accepted: number;
  rejected: number;
  stale: number;
  total: number;
}

export interface PoolView {
  version: string;
  network: string;
  authorityPublicKey: string | null;
  sv2Listen: string | null;
  sv1Listen: string | null;
  httpListen: string | null;
  startedAtMs: number;
  uptimeSec: number;
  nowMs: number;
  /** The node's best block height (the pool mines tipHeight + 1), null before the first template. */
  tipHeight: number | null;
  /** Display-order hash of that block. */
  tipHash: string | null;
  miners: number;
  channels: number;
  /** Workers known to the ledger or the core (all time). */
  workers: number;
  workersOnline: number;
  /** H/s over the last 10 minutes, and over the last minute. */
  hashrate: number;
  hashrate1m: number;
  /** All-time totals (ledger); `sinceStart` adds the rejection reasons seen by this process. */
  shares: SharesView & { sinceStart: SharesView & { rejectedByReason: Partial<Record<ShareRejectReason, number>> } };
  blocks: { found: number; accepted: number; rejected: number; pending: number; lastFoundAtMs: number | null; lastHeight: number | null };
  node: { state: string; ok: boolean; templateHeight: number | null; templateAgeSec: number | null };
  /** The ledger's disk: the last write failure (null when writes succeed) and blocks kept only in memory. */
  store: { writeError: string | null; unsavedBlocks: number };
}

export interface WorkerView {
  name: string;
  online: boolean;
  channels: number;
  hashrate: number;
  hashrate1m: number;
  accepted: number;
  rejected: number;
  stale: number;
  /** rejected / (accepted + rejected), 0 when no share yet. */
  rejectRate: number;
  acceptedDifficulty: number;
  bestShareDifficulty: number;
  blocksFound: number;
  firstSeenMs: number | null;
  lastSeenMs: number | null;
  lastShareMs: number | null;
  /** No share or connection activity for SILENT_AFTER_MS. */
  silent: boolean;
  /** Rejections by reason since this process started. */
  rejectedByReason: Partial<Record<ShareRejectReason, number>>;
}

export interface BlockView {
  hash: string;
  height: number;
  prevHash: string;
  worker: string;
  status: BlockStatus;
  /** The node's last answer: "null" = accepted, otherwise Core's reason string; null = no answer yet. */
  nodeAnswer: string | null;
  attempts: number;
  lastError: string | null;
  foundAtMs: number;
  lastAttemptMs: number | null;
  coinbaseValue: string;
}

export interface HashratePoint {
  /** Slot start (Unix ms). */
  t: number;
  hashrate: number;
  accepted: number;
  rejected: number;
  stale: number;
}

export interface HashrateSeries {
  minutes: number;
  stepSec: number;
  nowMs: number;
  points: HashratePoint[];
}

export interface HealthView {
  ok: boolean;
  node: string;
  tipHeight: number | null;
  templateAgeSec: number | null;
  reason?: string;
}

function rate(rejected: number, accepted: number): number {
  const total = accepted + rejected;
  return total === 0 ? 0 : rejected / total;
}

/** Seconds since the last template, or null before the first one. */
function templateAgeSec(service: PoolService): number | null {
  const at = service.lastTemplateAtMs;
  return at === null ? null : (service.clock.nowMs() - at) / 1000;
}

// Called twice per worker per /api/workers request (10,000 workers on a farm): no arrays.
function maxOrNull(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== "number") return typeof b === "number" ? b : null;
  return typeof b === "number" ? Math.max(a, b) : a;
}

function minOrNull(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== "number") return typeof b === "number" ? b : null;
  return typeof b === "number" ? Math.min(a, b) : a;
}

/** When the worker last sent a share (this run or stored) and was last heard from at all. */
function lastActivity(live: WorkerStats | undefined, stored: WorkerTotals | undefined): { lastShareMs: number | null; lastSeenMs: number | null } {
  const lastShareMs = maxOrNull(live?.counters.lastShareMs, stored?.lastSeenMs);
  return { lastShareMs, lastSeenMs: maxOrNull(live?.lastSeenMs, lastShareMs) };
}

function isSilent(nowMs: number, lastSeenMs: number | null): boolean {
  return lastSeenMs === null || nowMs - lastSeenMs > SILENT_AFTER_MS;
}

function workerView(nowMs: number, live: WorkerStats | undefined, stored: WorkerTotals | undefined, name: string): WorkerView {
  const c = live?.counters;
  const accepted = Math.max(c?.accepted ?? 0, stored?.accepted ?? 0);
  const rejected = Math.max(c?.rejected ?? 0, stored?.rejected ?? 0);
  const { lastShareMs, lastSeenMs } = lastActivity(live, stored);
  const channels = live?.channels ?? 0;
  return {
    name,
    online: channels > 0,
    channels,
    hashrate: live?.meter.hashrate(nowMs) ?? 0,
    hashrate1m: live?.meter.hashrate(nowMs, SHORT_WINDOW_MS) ?? 0,
    accepted,
    rejected,
    stale: Math.max(c?.stale ?? 0, stored?.stale ?? 0),
    rejectRate: rate(rejected, accepted),
    acceptedDifficulty: Math.max(c?.acceptedDifficulty ?? 0, stored?.acceptedDifficulty ?? 0),
    bestShareDifficulty: Math.max(c?.bestShareDifficulty ?? 0, stored?.bestShareDifficulty ?? 0),
    blocksFound: Math.max(c?.blocksFound ?? 0, stored?.blocksFound ?? 0),
    firstSeenMs: minOrNull(live?.firstSeenMs, stored?.firstSeenMs),
    lastSeenMs,
    lastShareMs,
    silent: isSilent(nowMs, lastSeenMs),
    rejectedByReason: { ...(c?.rejectedByReason ?? {}) },
  };
}

/** A page of workers, busiest first, and counts over all of them. */
export interface WorkersPage {
  /** Workers the pool or the ledger knows. */
  total: number;
  /** Of those, the ones silent for longer than SILENT_AFTER_MS (or never seen). */
  silent: number;
  workers: WorkerView[];
}

/**
 * Every worker the pool or the ledger knows, busiest first (hashrate, then accepted shares, then
 * name); only the first `limit` get a full view. A farm has thousands of workers: sorting by a few
 * numbers each is cheap, building and serialising every view is what held the loop (~17 ms at 10,000).
 */
export function workersPage(service: PoolService, limit = Number.POSITIVE_INFINITY): WorkersPage {
  const nowMs = service.clock.nowMs();
  const ledger = service.ledger;
  const rows: { name: string; live: WorkerStats | undefined; stored: WorkerTotals | undefined; hashrate: number; accepted: number }[] = [];
  let silent = 0;
  const add = (name: string, live: WorkerStats | undefined, stored: WorkerTotals | undefined): void => {
    if (isSilent(nowMs, lastActivity(live, stored).lastSeenMs)) silent++;
    const hashrate = live?.meter.hashrate(nowMs) ?? 0;
    rows.push({ name, live, stored, hashrate, accepted: Math.max(live?.counters.accepted ?? 0, stored?.accepted ?? 0) });
  };
  for (const stored of ledger.workerTotals()) add(stored.name, service.pool.getWorker(stored.name), stored);
  for (const live of service.pool.getWorkers()) if (!ledger.knowsWorker(live.name)) add(live.name, live, undefined);
  rows.sort((a, b) => b.hashrate - a.hashrate || b.accepted - a.accepted || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = rows.length > limit ? rows.slice(0, limit) : rows;
  return { total: rows.length, silent, workers: shown.map((r) => workerView(nowMs, r.live, r.stored, r.name)) };
}

/** Every worker the pool or the ledger knows, busiest first. */
export function workersView(service: PoolService): WorkerView[] {
  return workersPage(service).workers;
}

/** One worker, or null when neither the pool nor the ledger has heard of it. */
export function workerByName(service: PoolService, name: string): WorkerView | null {
  const live = service.pool.getWorker(name);
  const stored = service.ledger.workerTotal(name);
  if (live === undefined && stored === undefined) return null;
  return workerView(service.clock.nowMs(), live, stored, name);
}

export function poolView(service: PoolService, info: PoolInfo, httpListen: string | null): PoolView {
  const nowMs = service.clock.nowMs();
  const pool = service.pool;
  const stats = pool.getPoolStats();
  const live = pool.totalStats.counters;
  // Workers the ledger has counted, plus those connected without a counted share yet.
  let workers = service.ledger.workerCount;
  let workersOnline = 0;
  for (const w of pool.getWorkers()) {
    if (!service.ledger.knowsWorker(w.name)) workers++;
    if (w.channels > 0) workersOnline++;
  }
  // The ledger has every share of every run; the core only this run's (see the module comment).
  const all = service.ledger.shareTotals();
  const accepted = Math.max(all.accepted, live.accepted);
  const rejected = Math.max(all.rejected, live.rejected);
  const stale = Math.max(all.stale, live.stale);
  const blocks = blockCounts(service);
  const last = service.ledger.listBlocks(1)[0];
  const tip = pool.currentTip;
  const job = pool.currentJob;
  const state = service.nodeState;
  return {
    version: info.version,
    network: info.network,
    authorityPublicKey: info.authorityPublicKey,
    sv2Listen: info.sv2Listen,
    sv1Listen: info.sv1Listen,
    httpListen: info.httpListen ?? httpListen,
    startedAtMs: info.startedAtMs,
    uptimeSec: Math.max(0, Math.floor((nowMs - info.startedAtMs) / 1000)),
    nowMs,
    tipHeight: tipHeight(service),
    tipHash: tip === null ? null : internalToDisplayHex(tip.prevHash),
    miners: pool.minerCount,
    channels: pool.channelCount,
    workers,
    workersOnline,
    hashrate: stats.hashrate,
    hashrate1m: pool.totalStats.meter.hashrate(nowMs, SHORT_WINDOW_MS),
    shares: {
      accepted,
      rejected,
      stale,
      total: accepted + rejected,
      sinceStart: {
        accepted: live.accepted,
        rejected: live.rejected,
        stale: live.stale,
        total: live.accepted + live.rejected,
        rejectedByReason: { ...live.rejectedByReason },
      },
    },
    blocks: {
      found: blocks.found,
      accepted: blocks.accepted,
      rejected: blocks.rejected,
      pending: blocks.pending,
      lastFoundAtMs: last?.foundAtMs ?? null,
      lastHeight: last?.height ?? null,
    },
    node: {
      state,
      ok: state === "ok",
      templateHeight: job === null ? null : job.template.height,
      templateAgeSec: templateAgeSec(service),
    },
    store: { writeError: service.ledger.writeError, unsavedBlocks: service.ledger.unsavedBlocks },
  };
}

export function blockView(b: BlockRecord): BlockView {
  return {
    hash: b.hash,
    height: b.height,
    prevHash: b.prevHash,
    worker: b.worker,
    status: b.status,
    nodeAnswer: b.nodeAnswer,
    attempts: b.attempts,
    lastError: b.lastError,
    foundAtMs: b.foundAtMs,
    lastAttemptMs: b.lastAttemptMs,
    coinbaseValue: b.coinbaseValue,
  };
}

export function blocksView(service: PoolService, limit: number): BlockView[] {
  return service.ledger.listBlocks(limit).map(blockView);
}

/** At most this many points per series: enough for a chart, small enough to poll every 5 s. */
export const MAX_POINTS = 240;
/**
 * Slot widths are whole minutes: the ledger keeps share counters in one-minute buckets (its default),
 * and a slot must hold whole buckets for its hashrate to be right.
 */
const MIN_STEP_MS = 60_000;
/** The current slot is still filling: its rate is over the time elapsed, but never less than this. */
const MIN_ELAPSED_MS = 15_000;

/** Pool hashrate over the last `minutes`, from the ledger's share buckets (survives restarts). */
export function hashrateSeries(service: PoolService, minutes: number, worker?: string): HashrateSeries {
  const nowMs = service.clock.nowMs();
  const spanMs = minutes * 60_000;
  const stepMs = Math.max(MIN_STEP_MS, Math.ceil(spanMs / MAX_POINTS / MIN_STEP_MS) * MIN_STEP_MS);
  const lastSlot = nowMs - (nowMs % stepMs);
  const firstSlot = lastSlot - (Math.ceil(spanMs / stepMs) - 1) * stepMs;
  const slots = new Map<number, HashratePoint & { difficulty: number }>();
  for (let t = firstSlot; t <= lastSlot; t += stepMs) slots.set(t, { t, hashrate: 0, accepted: 0, rejected: 0, stale: 0, difficulty: 0 });
  for (const b of service.ledger.shareBuckets(firstSlot, worker)) {
    const slot = slots.get(b.bucketStartMs - (b.bucketStartMs % stepMs));
    if (slot === undefined) continue;
    slot.accepted += b.accepted;
    slot.rejected += b.rejected;
    slot.stale += b.stale;
    slot.difficulty += b.acceptedDifficulty;
  }
  const points: HashratePoint[] = [];
  for (const s of slots.values()) {
    const widthMs = s.t === lastSlot ? Math.min(stepMs, Math.max(MIN_ELAPSED_MS, nowMs - s.t)) : stepMs;
    points.push({ t: s.t, hashrate: (s.difficulty * HASHES_PER_DIFF1) / (widthMs / 1000), accepted: s.accepted, rejected: s.rejected, stale: s.stale });
  }
  return { minutes, stepSec: stepMs / 1000, nowMs, points };
}

export function healthView(service: PoolService): HealthView {
  const state = service.nodeState;
  const base = { node: state, tipHeight: tipHeight(service), templateAgeSec: templateAgeSec(service) };
  if (state !== "ok") return { ok: false, ...base, reason: `node state is ${state}` };
  if (service.pool.currentJob === null) return { ok: false, ...base, reason: "no block template yet" };
  return { ok: true, ...base };
}
