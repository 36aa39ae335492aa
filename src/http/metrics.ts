/**
 * The metric families the HTTP layer adds to the service's registry: request counts, block history
 * by status, block submission outcomes, node state, tip height, per-worker hashrate and build info.
 *
 * Gauges are computed at scrape time (Gauge.collect). The submission outcome counters mirror the
 * BlockSubmitter's own counters, so they are copied in by `refresh()` just before /metrics renders.
 */
import type { Counter, Gauge } from "../metrics.ts";
import type { NodeState } from "../node/template-watcher.ts";
import type { PoolService } from "../server/pool-service.ts";
import type { BlockStatus } from "../store/ledger.ts";
import { nodeRpcMetrics } from "../node/instrumented.ts";

/** Every NodeState, so the enum gauge has one series per state (0 or 1) and the compiler checks the list. */
const NODE_STATES: Record<NodeState, true> = {
  starting: true,
  ok: true,
  unreachable: true,
  "auth-failed": true,
  "warming-up": true,
  "initial-block-download": true,
  "not-connected": true,
  "bad-answer": true,
  error: true,
};

const BLOCK_STATUSES: readonly BlockStatus[] = ["pending", "accepted", "rejected"];

export interface HttpMetricsInfo {
  version: string;
  network: string;
  startedAtMs: number;
}

export class HttpMetrics {
  readonly requests: Counter;
  private readonly submissions: Counter;

  constructor(
    private readonly service: PoolService,
    info: () => HttpMetricsInfo,
  ) {
    const r = service.metrics;
    this.requests = r.counter("sv2pool_http_requests_total", "HTTP requests by route and status code");
    this.submissions = r.counter("sv2pool_block_submissions_total", "Block submission attempts by outcome (accepted, rejected, transport-error)");
    // The node RPC families exist even when nobody wrapped the node (then they stay empty).
    nodeRpcMetrics(r);

    const blocks = r.gauge("sv2pool_blocks", "Found blocks in the ledger by the node's verdict (all time)");
    blocks.collect(() => {
      const counts = blockCounts(service);
      for (const s of BLOCK_STATUSES) blocks.set(counts[s], { status: s });
    });
    const nodeState = r.gauge("sv2pool_node_state", "1 for the node's current state, 0 for the others");
    nodeState.collect(() => {
      const now = service.nodeState;
      for (const s of Object.keys(NODE_STATES)) nodeState.set(s === now ? 1 : 0, { state: s });
    });
    const tip = r.gauge("sv2pool_tip_height", "Height of the node's best block as the pool mines on it (-1 before the first template)");
    tip.collect(() => tip.set(tipHeight(service) ?? -1));
    const workers = r.gauge("sv2pool_workers_online", "Workers with at least one open channel");
    workers.collect(() => workers.set(service.pool.getWorkers().filter((w) => w.channels > 0).length));
    const workerRate = r.gauge("sv2pool_worker_hashrate_hps", "Hashrate estimate of each online worker from accepted shares (H/s, 10 min)");
    workerRate.collect(() => {
      // Recomputed from scratch: workers that went offline drop out instead of freezing at their last value.
      workerRate.reset();
      const now = service.clock.nowMs();
      for (const w of service.pool.getWorkers()) {
        if (w.channels > 0) workerRate.set(w.meter.hashrate(now), { worker: w.name });
      }
    });
    const failing = r.gauge("sv2pool_ledger_write_failing", "1 while the ledger's disk refuses writes (blocks and counters wait in memory)");
    failing.collect(() => failing.set(service.ledger.writeError === null ? 0 : 1));
    const unsaved = r.gauge("sv2pool_ledger_unsaved_blocks", "Found blocks not yet written to the ledger's disk");
    unsaved.collect(() => unsaved.set(service.ledger.unsavedBlocks));
    const start = r.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch (s)");
    start.collect(() => start.set(info().startedAtMs / 1000));
    const build = r.gauge("sv2pool_build_info", "Version and network of the running pool (value 1)");
    build.collect(() => {
      build.reset();
      const i = info();
      build.set(1, { version: i.version, network: i.network });
    });
  }

  /** Copies the values that live elsewhere as plain numbers into their counters. */
  refresh(): void {
    const c = this.service.submitter.counters;
    this.submissions.labels({ outcome: "accepted" }).value = c.accepted;
    this.submissions.labels({ outcome: "rejected" }).value = c.rejected;
    this.submissions.labels({ outcome: "transport-error" }).value = c.transportErrors;
  }
}

/** Height of the node's tip (the pool mines tip + 1), or null before the first template. */
export function tipHeight(service: PoolService): number | null {
  const tip = service.pool.currentTip;
  return tip === null ? null : tip.height - 1;
}

export function blockCounts(service: PoolService): Record<BlockStatus, number> & { found: number } {
  const out = { found: 0, pending: 0, accepted: 0, rejected: 0 };
  for (const b of service.ledger.listBlocks(Number.MAX_SAFE_INTEGER)) {
    out.found++;
    out[b.status]++;
  }
  return out;
}
