/**
 * The running pool: wires the node (through the TemplateWatcher), the pure pool core, the block
 * submitter, the ledger and the protocol front ends (SV2, SV1) together.
 *
 * Front ends own their sockets and sessions; the service tells them about new tips and templates and
 * routes per-channel events (vardiff target changes) to the session that owns the channel. Every
 * share from any front end goes through `submitShare`, so statistics, persistence and the block path
 * are the same code for V1 and V2 miners.
 */
import type { Logger } from "../log.ts";
import { Registry, type Counter, type CounterChild, type Gauge, type Histogram } from "../metrics.ts";
import type { NodeAPI } from "../node/api.ts";
import type { NewTipEvent, NodeState, TemplateWatcher } from "../node/template-watcher.ts";
import type { Channel } from "../pool/channel.ts";
import type { Clock } from "../pool/clock.ts";
import type { MinerHooks, StratumV2Pool, TemplateChange, TipChange } from "../pool/pool.ts";
import type { FoundBlock, ShareResult, ShareSubmission } from "../pool/share.ts";
import type { BlockTemplate } from "../pool/template.ts";
import type { Ledger } from "../store/ledger.ts";
import type { BlockSubmitter } from "./block-submitter.ts";

/** Counter rows written per turn of the event loop (~1 ms of SQLite work here). */
const FLUSH_SLICE_ROWS = 256;

/** A protocol listener (SV2, SV1) that serves miners from the shared pool core. */
export interface MiningFrontend {
  readonly name: string;
  /** The tip changed: switch every channel to `change.job` at once (SetNewPrevHash / clean notify). */
  onNewTip(change: TipChange): void;
  /** A new job for the current tip (or the full template right after a tip change). */
  onTemplate(change: TemplateChange): void;
  /** Stop accepting, tell miners to reconnect, close. */
  stop(reason: string): Promise<void>;
}

/** What the service needs from a session to route channel events to it (kept by the pool with the miner). */
export type SessionHooks = MinerHooks;

export interface PoolServiceOptions {
  pool: StratumV2Pool;
  node: NodeAPI;
  watcher: TemplateWatcher;
  submitter: BlockSubmitter;
  ledger: Ledger;
  logger: Logger;
  clock: Clock;
  metrics?: Registry;
  /** Vardiff idle checks and job cleanup (default 1 s). */
  tickMs?: number;
  /** Share counters to SQLite (default 5 s). */
  flushMs?: number;
}

export interface PoolServiceMetrics {
  shares: Counter;
  blocksFound: Counter;
  templates: Counter;
  newTips: Counter;
  tipToPoolMs: Histogram;
  fanoutMs: Histogram;
  templateAgeSec: Gauge;
  nodeUp: Gauge;
}

export class PoolService {
  readonly pool: StratumV2Pool;
  readonly node: NodeAPI;
  readonly watcher: TemplateWatcher;
  readonly submitter: BlockSubmitter;
  readonly ledger: Ledger;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: Registry;
  readonly m: PoolServiceMetrics;
  private readonly frontends: MiningFrontend[] = [];
  private readonly shareChildren = new Map<string, CounterChild>();
  private readonly offs: (() => void)[] = [];
  private timers: ReturnType<typeof setInterval>[] = [];
  private lastTemplateMs = 0;
  private started = false;
  private stopping: Promise<void> | null = null;
  private flushing = false;
  /** Resolves when the first template has been applied (front ends can then serve jobs). */
  readonly ready: Promise<void>;
  private markReady: () => void = () => {};

  constructor(private readonly options: PoolServiceOptions) {
    this.pool = options.pool;
    this.node = options.node;
    this.watcher = options.watcher;
    this.submitter = options.submitter;
    this.ledger = options.ledger;
    this.logger = options.logger;
    this.clock = options.clock;
    this.metrics = options.metrics ?? new Registry();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    const r = this.metrics;
    this.m = {
      shares: r.counter("sv2pool_shares_total", "Shares by result (accepted, or the rejection reason)"),
      blocksFound: r.counter("sv2pool_blocks_found_total", "Blocks found by the pool's miners"),
      templates: r.counter("sv2pool_templates_total", "Block templates applied"),
      newTips: r.counter("sv2pool_new_tips_total", "New best blocks seen"),
      tipToPoolMs: r.histogram("sv2pool_tip_detect_ms", "Time from the watcher learning of a tip to the pool switching jobs (ms)", [0.5, 1, 2, 5, 10, 20, 50, 100, 250]),
      fanoutMs: r.histogram("sv2pool_fanout_ms", "New-tip fan-out to every front end (ms, synchronous part)", [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000]),
      templateAgeSec: r.gauge("sv2pool_template_age_seconds", "Seconds since the last template was applied"),
      nodeUp: r.gauge("sv2pool_node_up", "1 while the node answers normally"),
    };
    this.m.templateAgeSec.collect(() => {
      this.m.templateAgeSec.set(this.lastTemplateMs === 0 ? -1 : (this.clock.nowMs() - this.lastTemplateMs) / 1000);
    });
    this.m.nodeUp.set(0);
    const miners = r.gauge("sv2pool_connected_miners", "Registered miner connections");
    miners.collect(() => miners.set(this.pool.minerCount));
    const channels = r.gauge("sv2pool_channels", "Open channels");
    channels.collect(() => channels.set(this.pool.channelCount));
    const hashrate = r.gauge("sv2pool_hashrate_hps", "Pool hashrate estimate from accepted shares (H/s)");
    hashrate.collect(() => hashrate.set(this.pool.getPoolStats().hashrate));
    const rss = r.gauge("process_resident_memory_bytes", "Resident memory of the process");
    rss.collect(() => rss.set(process.memoryUsage.rss()));
    const heap = r.gauge("process_heap_bytes", "JavaScript heap in use");
    heap.collect(() => heap.set(process.memoryUsage().heapUsed));
  }

  addFrontend(frontend: MiningFrontend): void {
    this.frontends.push(frontend);
  }

  registerSession(endpoint: string, hooks: SessionHooks): void {
    this.pool.registerMiner(endpoint, hooks);
  }

  unregisterSession(endpoint: string): void {
    this.pool.unregisterMiner(endpoint);
  }

  /** Every share of every front end goes here. */
  submitShare(endpoint: string, share: ShareSubmission): ShareResult {
    return this.pool.submitShare(endpoint, share);
  }

  /** Clock time of the last template applied, or null before the first. */
  get lastTemplateAtMs(): number | null {
    return this.lastTemplateMs === 0 ? null : this.lastTemplateMs;
  }

  get nodeState(): NodeState {
    return this.watcher.state;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pool.setListener({
      blockFound: (b) => this.onBlockFound(b),
      targetChanged: (ch) => this.pool.minerHooks(ch.endpoint)?.targetChanged(ch),
      share: (ch, endpoint, result, nowMs) => this.onShare(ch, endpoint, result, nowMs),
    });
    const resumed = this.submitter.resumePending();
    if (resumed > 0) this.logger.warn("resubmitting blocks left pending by the last run", { count: resumed });
    this.offs.push(this.watcher.on("newTip", (tip) => this.onNewTip(tip)));
    this.offs.push(this.watcher.on("template", (t) => this.onTemplate(t)));
    this.offs.push(
      this.watcher.on("state", (s) => {
        this.m.nodeUp.set(s === "ok" ? 1 : 0);
        // Blocks kept while the node was away go out as soon as it serves again.
        if (s === "ok") this.submitter.retryNow();
      }),
    );
    this.watcher.start();
    const tickMs = this.options.tickMs ?? 1000;
    const flushMs = this.options.flushMs ?? 5000;
    this.timers.push(
      setInterval(() => this.safely("tick", () => {
        this.pool.tick();
        this.pool.cleanupOldJobs();
      }), tickMs),
      setInterval(() => void this.flushLedger(), flushMs),
    );
  }

  /** Graceful stop: front ends first (Reconnect/close), then the node watcher, then pending blocks. */
  stop(reason = "shutting down", drainMs = 3000): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      await Promise.allSettled(this.frontends.map((f) => f.stop(reason)));
      for (const off of this.offs) off();
      await this.watcher.stop();
      const left = await this.submitter.drain(drainMs);
      if (left > 0) this.logger.warn("blocks still pending at shutdown; they are submitted again at the next start", { count: left });
      this.ledger.close(this.clock.nowMs());
    })();
    return this.stopping;
  }

  private onNewTip(tip: NewTipEvent): void {
    this.m.newTips.inc();
    const change = this.pool.newTip(tip.prevHash, tip.height, tip.bits, tip.minNtime);
    if (change === null) return;
    const t0 = performance.now();
    for (const f of this.frontends) this.safely(`${f.name} new tip`, () => f.onNewTip(change));
    const t1 = performance.now();
    this.m.fanoutMs.observe(t1 - t0);
    this.m.tipToPoolMs.observe(Math.max(0, this.clock.nowMs() - tip.seenAtMs));
    this.logger.info("new block on the network", { height: tip.height - 1, prevHash: tip.prevHashHex, fanoutMs: Number((t1 - t0).toFixed(2)) });
  }

  /** Applies a template obtained outside the watcher (the seed API's BlockTemplateUpdated event). */
  applyTemplate(template: BlockTemplate): void {
    this.onTemplate(template);
  }

  private onTemplate(template: BlockTemplate): void {
    let change: TemplateChange;
    try {
      change = this.pool.setTemplate(template);
    } catch (e) {
      this.logger.error("template refused by the pool core", { error: errorText(e), height: template.height });
      return;
    }
    this.m.templates.inc();
    this.lastTemplateMs = this.clock.nowMs();
    for (const f of this.frontends) this.safely(`${f.name} template`, () => f.onTemplate(change));
    this.markReady();
  }

  private onBlockFound(block: FoundBlock): void {
    this.m.blocksFound.inc();
    // Synchronous store-then-submit: the block is in the ledger before the share is answered.
    this.submitter.submit(block);
  }

  private onShare(_ch: Channel | null, endpoint: string, result: ShareResult, nowMs: number): void {
    this.shareCounter(result.ok ? "accepted" : result.reason).inc();
    const worker = _ch?.worker.name ?? endpoint;
    if (result.ok) {
      this.ledger.recordShare(worker, nowMs, { accepted: true, difficulty: result.difficulty, hashDifficulty: result.hashDifficulty, block: result.block !== null });
    } else {
      this.ledger.recordShare(worker, nowMs, { accepted: false, stale: result.reason === "stale-share" });
    }
  }

  /** Counter children by result, so the share path does not build a label key per share. */
  private shareCounter(result: string): CounterChild {
    let c = this.shareChildren.get(result);
    if (c === undefined) {
      c = this.m.shares.labels({ result });
      this.shareChildren.set(result, c);
    }
    return c;
  }

  /**
   * Writes the share counters gained since the last flush, FLUSH_SLICE_ROWS rows per turn of the
   * event loop: with thousands of workers one transaction would hold the loop (and every share's
   * answer) for tens of ms. Slices taken while shares keep arriving are bounded by what was pending
   * at the start; the rest goes at the next flush.
   */
  private async flushLedger(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      let slices = Math.ceil(this.ledger.unflushedRows / FLUSH_SLICE_ROWS) + 1;
      while (slices-- > 0 && this.stopping === null) {
        let ok = false;
        this.safely("flush", () => void (ok = this.ledger.flush(this.clock.nowMs(), FLUSH_SLICE_ROWS)));
        if (!ok || this.ledger.unflushedRows === 0) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A failure in one front end or timer must never take the process down. */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error(`${what} failed`, { error: errorText(e) });
    }
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
