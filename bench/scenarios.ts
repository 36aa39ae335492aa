/**
 * The pool measured from outside: a pool process (bench/pool.ts) and load processes
 * (bench/load/fleet.ts) talking real SV2 over real Noise on loopback, coordinated from here.
 *
 *   handshakes   handshakes_per_sec
 *   shares       shares_per_sec (saturation), share_rtt_p50_us / p99 (fixed 10,000 shares/s)
 *   fanout 1k    fanout_1k_ms
 *   fanout 10k   connect_10k_s (the initial connect is the storm), rss_per_miner_kb, fanout_10k_ms
 *
 * Every scenario also reports how busy the pool process was (cores) and how much CPU other
 * processes on the machine took meanwhile, because on a shared 2-core box that decides the figures.
 */
import { join } from "node:path";
import { percentile } from "./lib.ts";
import { cpuAccount, cpuSample, LagMonitor, listenDrops } from "./machine.ts";
import { JsonChild, num, pinningAvailable, type Json } from "./proc.ts";

export type Figures = Record<string, number | null>;

const POOL_SCRIPT = join(import.meta.dir, "pool.ts");
const FLEET_SCRIPT = join(import.meta.dir, "load", "fleet.ts");

/** Difficulty pinned at 1e-10 (min = max, so vardiff cannot raise it): every distinct share is accepted. */
const ACCEPT_ALL = { min_difficulty: 1e-10, max_difficulty: 1e-10, initial_difficulty: 1e-10 };
const NO_LIMITS = { max_shares_per_second: 1_000_000, max_connections_per_ip: 1_000_000, max_connections: 1_000_000 };

export interface ScenarioOptions {
  quick: boolean;
  /** Write a CPU profile of the pool process per scenario into this directory. */
  profileDir?: string;
  log: (line: string) => void;
}

interface Pool {
  child: JsonChild;
  port: number;
  authority: string;
}

async function startPool(name: string, opts: ScenarioOptions, config: Json, extraArgs: string[] = []): Promise<Pool> {
  const bunArgs = opts.profileDir === undefined ? [] : ["--cpu-prof-md", `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=pool-${name}.md`];
  const child = new JsonChild(POOL_SCRIPT, ["--config", JSON.stringify(config), ...extraArgs], { name: `pool:${name}`, cpu: 0, bunArgs });
  const ready = await child.next((o) => o["ev"] === "ready", 60_000);
  if (typeof ready["port"] !== "number") throw new Error(`pool:${name} did not start: ${String(ready["error"])}`);
  return { child, port: ready["port"] as number, authority: String(ready["authority"]) };
}

/**
 * Source addresses of the load connections (node:net with localAddress). BENCH_SOURCES=""
 * uses Bun.connect from 127.0.0.1 instead (cheaper per message, one address's port range).
 */
const SOURCES = process.env["BENCH_SOURCES"] ?? "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9";

async function startFleet(name: string, pool: Pool): Promise<JsonChild> {
  const child = new JsonChild(FLEET_SCRIPT, ["--port", String(pool.port), "--authority", pool.authority, "--tag", name, "--sources", SOURCES], { name, cpu: 1 });
  const ready = await child.next((o) => o["ev"] === "ready", 60_000);
  if (ready["ev"] !== "ready") throw new Error(`${name} did not start`);
  return child;
}

async function stopAll(pool: Pool, fleets: JsonChild[]): Promise<void> {
  for (const f of fleets) await f.stop({ cmd: "close" });
  await pool.child.stop({ cmd: "stop" });
}

/** Runs `fn` and reports the CPU taken by the pool, the load and everything else meanwhile. */
async function accounted<T>(pool: Pool, fleets: JsonChild[], fn: () => Promise<T>): Promise<{ result: T; poolCores: number | null; loadCores: number; otherCores: number }> {
  const pids = [pool.child.pid, ...fleets.map((f) => f.pid)];
  const a = cpuSample(pids);
  const result = await fn();
  const acc = cpuAccount(a, cpuSample(pids));
  let loadCores = 0;
  for (const f of fleets) loadCores += acc.perProcess[f.pid] ?? 0;
  return { result, poolCores: acc.perProcess[pool.child.pid] ?? null, loadCores: Number(loadCores.toFixed(2)), otherCores: acc.otherCores };
}

// ---- handshakes and shares --------------------------------------------------------------------

export async function handshakesAndShares(opts: ScenarioOptions): Promise<Figures> {
  const f: Figures = {};
  const pool = await startPool("shares", opts, { mining: ACCEPT_ALL, limits: NO_LIMITS }, ["--embedded-difficulty", "1000"]);
  const fleet = await startFleet("load:shares", pool);
  try {
    // Handshakes: connect, Noise NX, SetupConnection.Success, close; `concurrency` at a time.
    const hsMs = opts.quick ? 1500 : 4000;
    const hs = await accounted(pool, [fleet], () => fleet.request({ cmd: "handshakes", concurrency: opts.quick ? 32 : 64, ms: hsMs, warmMs: 500 }, 60_000));
    const completed = num(hs.result, "completed");
    const hsSeconds = num(hs.result, "seconds");
    f.handshakes_per_sec = Math.round(completed / hsSeconds);
    f.handshakes_pool_cores = hs.poolCores;
    f.handshakes_load_cores = hs.loadCores;
    f.handshakes_other_cores = hs.otherCores;
    if (hs.poolCores !== null && hs.poolCores > 0) f.handshakes_per_pool_core_sec = Math.round(completed / hsSeconds / hs.poolCores);
    f.handshakes_failed = num(hs.result, "failed");
    opts.log(`handshakes: ${f.handshakes_per_sec}/s (pool ${hs.poolCores} cores, load ${hs.loadCores}, other processes ${hs.otherCores}), ${f.handshakes_failed} failed`);

    const miners = opts.quick ? 200 : 1000;
    const conn = await fleet.request({ cmd: "connect", count: miners, timeoutMs: 60_000 }, 90_000);
    if (num(conn, "mining") < miners) opts.log(`shares: only ${num(conn, "mining")} of ${miners} miners mining`);
    f.shares_connections = num(conn, "mining");

    // Saturation: every connection keeps `window` shares in flight.
    const window = 16;
    const sat = await accounted(pool, [fleet], () => fleet.request({ cmd: "saturate", ms: opts.quick ? 1500 : 4000, window, warmMs: 500 }, 60_000));
    const answered = num(sat.result, "answered");
    f.shares_per_sec = num(sat.result, "perSec");
    f.share_accept_ratio = answered > 0 ? Number((num(sat.result, "accepted") / answered).toFixed(4)) : null;
    f.shares_window = window;
    f.shares_saturated_rtt_p50_us = num(sat.result, "rttP50Us");
    f.shares_saturated_rtt_p99_us = num(sat.result, "rttP99Us");
    f.shares_pool_cores = sat.poolCores;
    f.shares_load_cores = sat.loadCores;
    f.shares_other_cores = sat.otherCores;
    if (sat.poolCores !== null && sat.poolCores > 0) f.shares_per_pool_core_sec = Math.round((f.shares_per_sec as number) / sat.poolCores);
    const rejected = sat.result["rejected"] as Record<string, number>;
    if (Object.keys(rejected).length > 0) opts.log(`shares: rejected ${JSON.stringify(rejected)}`);
    opts.log(`shares: ${f.shares_per_sec}/s at saturation over ${miners} connections x ${window} in flight (pool ${sat.poolCores} cores, load ${sat.loadCores}, other ${sat.otherCores}); accepted ${(((f.share_accept_ratio as number) ?? 0) * 100).toFixed(2)} %`);

    // Round trip at a fixed offered load.
    const rate = 10_000;
    const tk = await accounted(pool, [fleet], () => fleet.request({ cmd: "rate", rate, ms: opts.quick ? 1500 : 4000, connections: miners, warmMs: 500, pacing: "tick" }, 60_000));
    f.share_rtt_tick_p50_us = num(tk.result, "rttP50Us");
    f.share_rtt_tick_p99_us = num(tk.result, "rttP99Us");
    opts.log(`share RTT at ${num(tk.result, "offeredPerSec")}/s offered in 1 ms bursts: p50 ${f.share_rtt_tick_p50_us} µs, p99 ${f.share_rtt_tick_p99_us} µs (pool ${tk.poolCores} cores, other ${tk.otherCores})`);
    // Who stalled meanwhile: the pool's and this idle process's monitors cover the whole request
    // (warm-up and settling included), the load's only the measured window.
    await pool.child.request({ cmd: "lag" });
    const idle = new LagMonitor();
    const rt = await accounted(pool, [fleet], () => fleet.request({ cmd: "rate", rate, ms: opts.quick ? 1500 : 4000, connections: miners, warmMs: 500, pacing: "poisson" }, 60_000));
    const stalls = idle.take();
    idle.stop();
    const poolLag = await pool.child.request({ cmd: "lag" });
    const loadLag = rt.result["loadLag"] as Json;
    f.share_rtt_pool_lag_max_ms = num(poolLag, "worstMs");
    f.share_rtt_load_lag_max_ms = num(loadLag, "worstMs");
    f.share_rtt_machine_stalls = stalls.lags;
    f.share_rtt_machine_stall_max_ms = stalls.worstMs;
    f.share_rtt_machine_stalled_ms = stalls.totalMs;
    f.share_rtt_p50_us = num(rt.result, "rttP50Us");
    f.share_rtt_p99_us = num(rt.result, "rttP99Us");
    f.share_rtt_p999_us = num(rt.result, "rttP999Us");
    f.share_rtt_max_us = num(rt.result, "rttMaxUs");
    f.share_rtt_offered_per_sec = num(rt.result, "offeredPerSec");
    f.share_rtt_pool_cores = rt.poolCores;
    f.share_rtt_other_cores = rt.otherCores;
    opts.log(
      `share RTT at ${f.share_rtt_offered_per_sec}/s offered (Poisson arrivals): p50 ${f.share_rtt_p50_us} µs, p99 ${f.share_rtt_p99_us} µs (pool ${rt.poolCores} cores, other ${rt.otherCores}); ` +
        `event loops late by > 2 ms meanwhile: pool ${num(poolLag, "lags")} times (worst ${f.share_rtt_pool_lag_max_ms} ms), load ${num(loadLag, "lags")} (worst ${f.share_rtt_load_lag_max_ms} ms), ` +
        `an idle process ${stalls.lags} (worst ${stalls.worstMs} ms)`,
    );
    opts.log(`share RTT: late timer turns by how late, pool ${JSON.stringify(poolLag["over"])}, load ${JSON.stringify(loadLag["over"])}`);
    const slow = rt.result["slowBuckets"] as [number, number, number][] | undefined;
    if (slow !== undefined && slow.length > 0) opts.log(`share RTT: answers slower than 5 ms by send time [ms into the run, count, worst µs]: ${JSON.stringify(slow.slice(0, 20))}`);
  } finally {
    await stopAll(pool, [fleet]);
  }
  return f;
}

// ---- fan-out (and, for the big fleet, the reconnect storm and memory) ---------------------------

interface FanoutRound {
  toLastMs: number;
  toP50Ms: number;
  fromBlockMs: number;
  serverMs: number | null;
  received: number;
  expected: number;
  answeredDuring: number;
  maxAnswerGapMs: number | null;
}

async function fanoutRound(pool: Pool, fleet: JsonChild, probe: { connections: number; rate: number } | null): Promise<FanoutRound> {
  await pool.child.request({ cmd: "prepare" }, 60_000);
  fleet.send({ cmd: "arm", timeoutMs: 30_000, probe });
  const armed = await fleet.next((o) => o["ev"] === "armed", 30_000);
  // Let the probe's share stream reach a steady state before the block.
  if (probe !== null) await Bun.sleep(200);
  const mined = await pool.child.request({ cmd: "mine" }, 60_000);
  const got = await fleet.next((o) => o["ev"] === "arm", 60_000);
  const tip = num(mined, "tipEpoch");
  const last = num(got, "lastEpoch");
  const answers = ((got["probeAnswerEpochs"] as number[] | undefined) ?? []).filter((t) => t >= tip && t <= last);
  let gap: number | null = null;
  if (probe !== null) {
    const points = [tip, ...answers, last];
    gap = 0;
    for (let i = 1; i < points.length; i++) gap = Math.max(gap, (points[i] as number) - (points[i - 1] as number));
  }
  return {
    toLastMs: last - tip,
    toP50Ms: num(got, "p50Epoch") - tip,
    fromBlockMs: last - num(mined, "submitEpoch"),
    serverMs: typeof mined["serverFanoutMs"] === "number" ? (mined["serverFanoutMs"] as number) : null,
    received: num(got, "received"),
    expected: num(armed, "expected"),
    answeredDuring: answers.length,
    maxAnswerGapMs: gap,
  };
}

const r1 = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10) / 10);

/**
 * `miners` connected at once (the storm), RSS per miner, then `rounds` blocks; the median round is
 * the figure. `key` names the figures (fanout_1k_ms, fanout_10k_ms).
 */
/** The hard descriptor limit the children get (they raise their soft limit to it). */
function hardFdLimit(): number {
  const r = Bun.spawnSync(["sh", "-c", "ulimit -Hn"]);
  const v = r.stdout.toString().trim();
  return v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v);
}

export async function fanout(opts: ScenarioOptions, miners: number, key: string, storm: boolean): Promise<Figures> {
  const f: Figures = {};
  const limit = hardFdLimit();
  if (miners + 64 > limit) {
    opts.log(`${key}: ${miners} miners need ${miners + 64} descriptors per process but the hard limit here is ${limit}: not reachable on this machine without raising it (LimitNOFILE / ulimit -Hn as root)`);
  }
  // Network difficulty 1e-4: the pool solves its next block in ~0.2 s, while a random share is a
  // block only once in ~430,000 (the probe sends a few thousand).
  const pool = await startPool(key, opts, { mining: ACCEPT_ALL, limits: NO_LIMITS }, ["--embedded-difficulty", "1e-4"]);
  const fleet = await startFleet(`load:${key}`, pool);
  try {
    const before = await pool.child.request({ cmd: "gc" });
    const drops0 = listenDrops();
    const conn = await accounted(pool, [fleet], () => fleet.request({ cmd: "connect", count: miners, timeoutMs: opts.quick ? 20_000 : 60_000 }, 90_000));
    const drops = listenDrops() - drops0;
    const mining = num(conn.result, "mining");
    if (mining < miners) opts.log(`${key}: only ${mining} of ${miners} miners mining after the connect`);
    if (storm) {
      const sec = num(conn.result, "ms") / 1000;
      f.connect_10k_s = mining >= miners ? Math.round(sec * 100) / 100 : null;
      if (f.connect_10k_s === null) opts.log(`connect_10k_s: not all ${miners} connections got mining (${mining}); see above`);
      f.connect_miners = miners;
      f.connect_reconnects = num(conn.result, "reconnects");
      f.connect_listen_drops = Number.isFinite(drops) ? drops : null;
      f.connect_handshake_p50_ms = num(conn.result, "handshakeP50Ms");
      f.connect_mining_p50_ms = num(conn.result, "miningP50Ms");
      f.connect_pool_cores = conn.poolCores;
      f.connect_other_cores = conn.otherCores;
      opts.log(`storm: ${mining}/${miners} mining in ${sec.toFixed(2)} s (${f.connect_reconnects} reconnects, ${f.connect_listen_drops} listen-queue drops; pool ${conn.poolCores} cores, other ${conn.otherCores})`);
    }
    const afterConnect = await pool.child.request({ cmd: "gc" });
    const rssPer = (num(afterConnect, "rssKb") - num(before, "rssKb")) / Math.max(1, mining);
    const heapPer = (num(afterConnect, "heapUsedKb") - num(before, "heapUsedKb")) / Math.max(1, mining);
    f[`${key.replace(/_ms$/, "")}_rss_per_miner_kb`] = r1(rssPer);
    f[`${key.replace(/_ms$/, "")}_heap_per_miner_kb`] = r1(heapPer);
    opts.log(`${key}: pool RSS ${num(before, "rssKb")} KB -> ${num(afterConnect, "rssKb")} KB with ${mining} miners (${rssPer.toFixed(2)} KB/miner, JS heap ${heapPer.toFixed(2)} KB/miner)`);

    const rounds = opts.quick ? 3 : 5;
    const results: FanoutRound[] = [];
    for (let i = 0; i < rounds; i++) {
      // Every other round with a share probe: 50 miners submitting 5,000 shares/s through the fan-out.
      const probe = i % 2 === 1 ? { connections: Math.min(50, mining), rate: 5000 } : null;
      const r = await fanoutRound(pool, fleet, probe);
      results.push(r);
      opts.log(
        `${key} round ${i + 1}: last of ${r.received}/${r.expected} miners ${r.toLastMs.toFixed(1)} ms after the tip (median miner ${r.toP50Ms.toFixed(1)} ms, from block submit ${r.fromBlockMs.toFixed(1)} ms, server first-to-last write ${r.serverMs?.toFixed(1) ?? "-"} ms)` +
          (probe === null ? "" : `; ${r.answeredDuring} probe shares answered during it, longest gap ${r.maxAnswerGapMs?.toFixed(1)} ms`),
      );
      // Let the full-template fan-out that follows the tip finish before the next block.
      await Bun.sleep(opts.quick ? 300 : 600);
    }
    const complete = results.filter((r) => r.received === r.expected);
    if (complete.length < results.length) opts.log(`${key}: ${results.length - complete.length} rounds missed some miners`);
    const med = (xs: number[]): number | null => (xs.length === 0 ? null : r1(percentile(xs, 50)));
    f[key] = med(complete.map((r) => r.toLastMs));
    const stem = key.replace(/_ms$/, "");
    f[`${stem}_max_ms`] = complete.length === 0 ? null : r1(Math.max(...complete.map((r) => r.toLastMs)));
    f[`${stem}_median_miner_ms`] = med(complete.map((r) => r.toP50Ms));
    f[`${stem}_from_block_ms`] = med(complete.map((r) => r.fromBlockMs));
    f[`${stem}_server_ms`] = med(complete.map((r) => r.serverMs).filter((v): v is number => v !== null));
    f[`${stem}_miners`] = mining;
    const probed = results.filter((r) => r.maxAnswerGapMs !== null);
    if (probed.length > 0) {
      f[`${stem}_probe_answered`] = Math.min(...probed.map((r) => r.answeredDuring));
      f[`${stem}_probe_max_gap_ms`] = r1(Math.max(...probed.map((r) => r.maxAnswerGapMs as number)));
    }
    const stats = await pool.child.request({ cmd: "stats" });
    if (num(stats, "connections") < mining) opts.log(`${key}: the pool dropped ${mining - num(stats, "connections")} connections during the fan-out rounds`);
  } finally {
    await stopAll(pool, [fleet]);
  }
  return f;
}

export function pinningNote(): string {
  return pinningAvailable() ? "pool pinned to CPU 0, load to CPU 1 (taskset)" : "no CPU pinning (taskset missing, 1 core, or BENCH_NO_PIN=1)";
}

/**
 * The same saturation with `mining.share_batch_size` 1000: one SubmitShares.Success per channel per
 * read burst instead of one per share (fewer frames and socket writes). Full runs only.
 */
export async function batchedShares(opts: ScenarioOptions): Promise<Figures> {
  const pool = await startPool("shares-batched", opts, { mining: { ...ACCEPT_ALL, share_batch_size: 1000 }, limits: NO_LIMITS }, ["--embedded-difficulty", "1000"]);
  const fleet = await startFleet("load:shares-batched", pool);
  try {
    const miners = 1000;
    await fleet.request({ cmd: "connect", count: miners, timeoutMs: 60_000 }, 90_000);
    const sat = await accounted(pool, [fleet], () => fleet.request({ cmd: "saturate", ms: 4000, window: 16, warmMs: 500 }, 60_000));
    const perSec = num(sat.result, "perSec");
    opts.log(`shares, Success batched per read: ${perSec}/s (pool ${sat.poolCores} cores, load ${sat.loadCores}, other ${sat.otherCores})`);
    return {
      shares_per_sec_batched_success: perSec,
      shares_batched_pool_cores: sat.poolCores,
      shares_batched_other_cores: sat.otherCores,
      shares_batched_rtt_p50_us: num(sat.result, "rttP50Us"),
    };
  } finally {
    await stopAll(pool, [fleet]);
  }
}
