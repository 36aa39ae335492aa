/**
 * Work the pool does on its one event loop that grows with the farm: while any of it runs, no share
 * is answered and no job goes out. A real pool in-process (embedded node, SQLite ledger in a temp
 * dir, HTTP API) gets N workers, each with a channel and counted shares; then each periodic or
 * on-demand task is timed alone, server side (no client parsing):
 *
 *   scale_flush_slice_ms      the longest slice of a ledger flush (every 5 s; 256 rows a slice)
 *   scale_flush_whole_ms      the same flush in one transaction (what one slice would cost without slicing)
 *   scale_tick_ms             pool.tick: vardiff for idle channels (every second)
 *   scale_cleanup_tip_ms      cleanupOldJobs after a tip change (once a block)
 *   scale_cleanup_ms          cleanupOldJobs without one (the per-second call)
 *   scale_metrics_ms          rendering /metrics (one hashrate series per worker)
 *   scale_api_pool_ms         /api/pool's body
 *   scale_api_workers_ms      /api/workers's body with every worker, serialised
 *   scale_api_workers_500_ms  the same with ?limit=500 (what the dashboard asks for every 5 s)
 *
 * Run alone: `bun bench/scale.ts [--quick]` (quick: 2,000 workers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPool } from "../src/app.ts";
import { MAX_TARGET } from "../src/bitcoin/target.ts";
import { resolveConfig } from "../src/config.ts";
import { poolView, workersPage } from "../src/http/api.ts";
import { createMemoryLogger } from "../src/log.ts";

/** The slowest of `rounds` runs of fn after one warm-up run, ms (the figure is the loop's longest hold). */
function worstOf(rounds: number, fn: () => unknown): number {
  fn();
  let worst = 0;
  for (let i = 0; i < rounds; i++) worst = Math.max(worst, timed(fn));
  return worst;
}

function timed(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const workers = opts.quick ? 2000 : 10_000;
  const dataDir = mkdtempSync(join(tmpdir(), "sv2pool-scale-"));
  const config = resolveConfig({
    "": { data_dir: dataDir },
    sv2: { listen: "127.0.0.1:0" },
    sv1: { listen: "127.0.0.1:0" },
    http: { listen: "127.0.0.1:0" },
  });
  const running = await startPool(config, { logger: createMemoryLogger("warn") });
  const service = running.service;
  const figures: Record<string, number> = { scale_workers: workers };
  try {
    await service.ready;
    const pool = service.pool;
    const nowMs = (): number => service.clock.nowMs();
    const countShares = (): void => {
      const now = nowMs();
      for (let i = 0; i < workers; i++) service.ledger.recordShare(`farm.rig${i}`, now, { accepted: true, difficulty: 1, hashDifficulty: 2, block: false });
    };
    for (let i = 0; i < workers; i++) {
      const endpoint = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4028`;
      pool.registerMiner(endpoint);
      pool.openStandardChannel(endpoint, { userIdentity: `farm.rig${i}`, nominalHashrate: 100e12, maxTarget: MAX_TARGET });
    }
    // The first flush creates every row; the measured ones update them, as in steady operation.
    countShares();
    service.ledger.flush(nowMs());

    const rounds = opts.quick ? 2 : 3;
    let slice = 0;
    let whole = 0;
    for (let r = 0; r < rounds; r++) {
      countShares();
      while (service.ledger.unflushedRows > 0) slice = Math.max(slice, timed(() => service.ledger.flush(nowMs(), 256)));
      countShares();
      whole = Math.max(whole, timed(() => service.ledger.flush(nowMs())));
    }
    figures.scale_flush_slice_ms = slice;
    figures.scale_flush_whole_ms = whole;
    figures.scale_tick_ms = worstOf(rounds, () => pool.tick());
    // After a tip change every channel is visited once; then the per-second call finds nothing to do.
    const spec = pool.speculativeJob;
    if (spec !== null) pool.newTip(new Uint8Array(32).fill(7), spec.template.height, spec.template.bits, spec.template.mintime);
    figures.scale_cleanup_tip_ms = timed(() => pool.cleanupOldJobs());
    figures.scale_cleanup_ms = worstOf(rounds, () => pool.cleanupOldJobs());
    figures.scale_metrics_ms = worstOf(rounds, () => service.metrics.render());
    const info = { version: "bench", network: config.network, authorityPublicKey: null, sv2Listen: null, sv1Listen: null, startedAtMs: 0 };
    figures.scale_api_pool_ms = worstOf(rounds, () => JSON.stringify(poolView(service, info, null)));
    figures.scale_api_workers_ms = worstOf(rounds, () => JSON.stringify(workersPage(service)));
    figures.scale_api_workers_500_ms = worstOf(rounds, () => JSON.stringify(workersPage(service, 500)));
  } finally {
    await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const k of Object.keys(figures)) if (k !== "scale_workers") figures[k] = Math.round((figures[k] as number) * 100) / 100;
  const label: Record<string, string> = {
    scale_flush_slice_ms: "ledger flush, longest slice (256 rows)",
    scale_flush_whole_ms: "ledger flush in one transaction (for comparison)",
    scale_tick_ms: "pool.tick (vardiff for idle channels, every second)",
    scale_cleanup_tip_ms: "cleanupOldJobs after a tip change (once a block)",
    scale_cleanup_ms: "cleanupOldJobs without a tip change (every second)",
    scale_metrics_ms: "/metrics render",
    scale_api_pool_ms: "/api/pool body",
    scale_api_workers_ms: "/api/workers body, every worker",
    scale_api_workers_500_ms: "/api/workers?limit=500 body (the dashboard's)",
  };
  for (const [k, text] of Object.entries(label)) {
    console.log(`${`${workers.toLocaleString("en-US")} workers: ${text}`.padEnd(72)} ${`${figures[k]} ms`.padStart(10)}`);
  }
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
  process.exit(0);
}
