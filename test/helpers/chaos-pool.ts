// The whole pool (startPool: keys, service, SV2 listener, HTTP API) on a temp data dir, with its node
// in "rpc" mode pointing at a ChaosCore, a memory logger, and a fleet of real CPU miners whose
// hashrate is capped so the CPU is not saturated. Used by every test in test/chaos.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPool, type RunningPool } from "../../src/app.ts";
import { resolveConfig, type Config, type RawConfig } from "../../src/config.ts";
import { createMemoryLogger, type LogRecord } from "../../src/log.ts";
import { Sv2Miner, type Sv2MinerOptions } from "../../src/miner/sv2-miner.ts";
import type { Clock } from "../../src/pool/clock.ts";
import { CHAOS_RPC_USER, type ChaosCore } from "./chaos-core.ts";

/** A regtest address for the payout (node.mode = "rpc" needs one). */
export const CHAOS_PAYOUT = "bcrt1q65nhlm4hf2ptg3t264al57p7wjxj2c3s6kyt83";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sv2-chaos-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Config layers for a pool on `core`: every listener on 127.0.0.1 port 0, tips polled every 10 ms. */
export function chaosLayers(core: ChaosCore, dataDir: string, extra: RawConfig = {}): RawConfig {
  const base: RawConfig = {
    "": { data_dir: dataDir },
    node: { mode: "rpc", rpc_url: core.url, rpc_user: CHAOS_RPC_USER, rpc_password: core.password, tip_poll_ms: 10, rpc_timeout_ms: 3000 },
    sv2: { listen: "127.0.0.1:0" },
    sv1: { enabled: false },
    http: { listen: "127.0.0.1:0" },
    payout: { address: CHAOS_PAYOUT },
    // Shares come quickly from a few thousand H/s; vardiff aims at 10 a second per channel.
    mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6, shares_per_minute: 600 },
  };
  const merged: RawConfig = { ...base };
  for (const [section, values] of Object.entries(extra)) merged[section] = { ...(merged[section] ?? {}), ...values };
  return merged;
}

export interface ChaosPool {
  running: RunningPool;
  config: Config;
  logs: LogRecord[];
  sv2Port: number;
  httpUrl: string;
  miners: Sv2Miner[];
  /** Starts `count` capped miners (workers farm.<prefix><i>) and waits for their channels. */
  fleet(count: number, opts?: Partial<Sv2MinerOptions> & { prefix?: string }): Promise<Sv2Miner[]>;
  miner(opts?: Partial<Sv2MinerOptions>): Sv2Miner;
  metrics(): Promise<string>;
  /** Log lines (messages) at warn or error whose text contains `part`. */
  logged(part: string, level?: LogRecord["level"]): LogRecord[];
  stop(): Promise<void>;
}

export interface ChaosPoolOptions {
  dataDir: string;
  layers?: RawConfig;
  clock?: Clock;
  ledgerPath?: string;
}

export async function startChaosPool(core: ChaosCore, options: ChaosPoolOptions): Promise<ChaosPool> {
  const config = resolveConfig(chaosLayers(core, options.dataDir, options.layers));
  const logger = createMemoryLogger("debug");
  const start: Parameters<typeof startPool>[1] = { logger };
  if (options.clock !== undefined) start.clock = options.clock;
  if (options.ledgerPath !== undefined) start.ledgerPath = options.ledgerPath;
  const running = await startPool(config, start);
  await running.service.ready;
  const sv2Port = Number((running.sv2Address ?? ":0").split(":").pop());
  const httpUrl = `http://${running.httpAddress ?? ""}`;
  const miners: Sv2Miner[] = [];
  const miner = (o: Partial<Sv2MinerOptions> = {}): Sv2Miner => {
    const m = new Sv2Miner({
      host: "127.0.0.1",
      port: sv2Port,
      authorityPublicKey: running.identity.authorityPublicKey,
      user: "farm.rig",
      // Small batches keep each miner's slice of the event loop short.
      batch: 256,
      ...o,
    });
    miners.push(m);
    return m;
  };
  let stopped = false;
  return {
    running,
    config,
    logs: logger.records,
    sv2Port,
    httpUrl,
    miners,
    miner,
    fleet: async (count, o = {}) => {
      const { prefix = "rig", ...rest } = o;
      const fleet: Sv2Miner[] = [];
      // The announced hashrate sets the first target at ~10 shares a second, before vardiff has data.
      for (let i = 0; i < count; i++) fleet.push(miner({ user: `farm.${prefix}${i}`, maxHashrate: 4000, nominalHashrate: 4000, ...rest }));
      await Promise.all(fleet.map((m) => m.start()));
      return fleet;
    },
    metrics: async () => (await fetch(`${httpUrl}/metrics`)).text(),
    logged: (part, level) =>
      logger.records.filter((r) => (level === undefined ? r.level === "warn" || r.level === "error" : r.level === level) && r.msg.includes(part)),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const m of miners) m.stop();
      await running.stop("test over");
    },
  };
}

/** Polls `predicate` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (!(await predicate())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
  return performance.now() - t0;
}

/** Resolves once every miner in `miners` has had more shares accepted than now. */
export async function everyMinerProgresses(miners: readonly Sv2Miner[], what: string, timeoutMs = 10_000): Promise<void> {
  const before = miners.map((m) => m.stats.accepted);
  await until(`${what}: shares accepted from every miner`, () => miners.every((m, i) => m.stats.accepted > (before[i] as number)), timeoutMs);
}

/** The value of one Prometheus sample (`name{labels}`), or null when absent. */
export function metricValue(text: string, sample: string): number | null {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return null;
}
