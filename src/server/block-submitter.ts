/**
 * Never lose a found block: record it durably, submit it at once, and retry until the node answers.
 *
 * A submission that reaches the node and gets an answer (accepted or a rejection reason) is final and
 * never repeated; one that fails in transport (node down, timeout, RPC warming up) is retried with
 * capped exponential backoff for as long as the process runs, and blocks still pending at shutdown or
 * after a crash are submitted again at the next start (the node answers "duplicate" if the first try
 * did arrive).
 */
import type { Logger } from "../log.ts";
import type { NodeAPI } from "../node/api.ts";
import type { FoundBlock } from "../pool/share.ts";
import type { BlockRecord, Ledger } from "../store/ledger.ts";
import { bytesToHex } from "../bitcoin/bytes.ts";

export interface BlockSubmitterOptions {
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called after every attempt (metrics, API). */
  onAttempt?: (record: BlockRecord) => void;
}

export interface SubmitterCounters {
  found: number;
  submitted: number;
  accepted: number;
  rejected: number;
  transportErrors: number;
}

export class BlockSubmitter {
  readonly counters: SubmitterCounters = { found: 0, submitted: 0, accepted: 0, rejected: 0, transportErrors: 0 };
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Pending retry sleeps, so that `drain` can wake them and let their loops end. */
  private readonly sleeps = new Map<ReturnType<typeof setTimeout>, () => void>();
  private readonly waiters = new Map<string, () => void>();
  private stopped = false;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly node: NodeAPI,
    private readonly ledger: Ledger,
    private readonly logger: Logger,
    private readonly options: BlockSubmitterOptions = {},
  ) {
    this.retryMinMs = options.retryMinMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
  }

  /** A share met the network target: store the block, then submit it. Synchronous up to the write. */
  submit(block: FoundBlock): BlockRecord {
    this.counters.found++;
    const { record, durable } = this.ledger.recordFoundBlock({
      hash: block.hashHex,
      height: block.height,
      prevHash: block.prevHashHex,
      worker: block.worker,
      endpoint: block.endpoint,
      channelId: block.channelId,
      jobId: block.jobId,
      foundAtMs: block.foundAtMs,
      coinbaseValue: block.coinbaseValue.toString(),
      blockHex: bytesToHex(block.block),
    });
    this.logger.info("block found", {
      hash: block.hashHex,
      height: block.height,
      worker: block.worker,
      durable,
    });
    this.start(record);
    return record;
  }

  /** Submits every block the node has not answered yet (at start-up). */
  resumePending(): number {
    const pending = this.ledger.pendingBlocks();
    for (const rec of pending) {
      this.logger.warn("resuming submission of a block found before the last stop", { hash: rec.hash, height: rec.height });
      this.start(rec);
    }
    return pending.length;
  }

  private start(record: BlockRecord): void {
    if (this.inFlight.has(record.hash) || record.status !== "pending" || this.stopped) return;
    const run = this.attemptLoop(record).finally(() => {
      this.inFlight.delete(record.hash);
      this.waiters.get(record.hash)?.();
      this.waiters.delete(record.hash);
    });
    this.inFlight.set(record.hash, run);
  }

  private async attemptLoop(record: BlockRecord): Promise<void> {
    let delay = this.retryMinMs;
    while (!this.stopped) {
      this.counters.submitted++;
      try {
        const answer = await this.node.submitBlock(record.blockHex);
        const rec = this.ledger.recordAttempt(record.hash, Date.now(), { nodeAnswer: answer.result, accepted: answer.accepted });
        if (answer.accepted) {
          this.counters.accepted++;
          const stale = answer.result === "inconclusive";
          this.logger.info(stale ? "block accepted by the node but not on its best chain (stale)" : "block accepted by the node", {
            hash: record.hash,
            height: record.height,
            answer: answer.result ?? "null",
            attempts: rec.attempts,
          });
        } else {
          this.counters.rejected++;
          this.logger.error("block rejected by the node", { hash: record.hash, height: record.height, reason: answer.result });
        }
        this.options.onAttempt?.(rec);
        return;
      } catch (e) {
        this.counters.transportErrors++;
        const message = e instanceof Error ? e.message : String(e);
        const rec = this.ledger.recordAttempt(record.hash, Date.now(), { error: message });
        this.logger.warn("block submission did not reach the node; retrying", {
          hash: record.hash,
          attempt: rec.attempts,
          retryInMs: delay,
          error: message,
        });
        this.options.onAttempt?.(rec);
        await this.sleep(delay);
        delay = Math.min(this.retryMaxMs, delay * 2);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeps.delete(t);
        resolve();
      }, ms);
      this.sleeps.set(t, resolve);
    });
  }

  /**
   * The node answers again: retry every waiting submission now instead of at the end of its backoff
   * (which may be seconds away; a found block is worth the most the sooner it reaches the network).
   */
  retryNow(): void {
    for (const [t, wake] of this.sleeps) {
      clearTimeout(t);
      wake();
    }
    this.sleeps.clear();
  }

  /** Pending submissions right now. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves when `hash` has its final answer (or the submitter stops). */
  whenSettled(hash: string): Promise<void> {
    if (!this.inFlight.has(hash)) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.waiters.get(hash);
      this.waiters.set(hash, () => {
        prev?.();
        resolve();
      });
    });
  }

  /**
   * At shutdown: waits up to `timeoutMs` for in-flight submissions to get an answer, then stops
   * retrying (what is still pending stays in the ledger for the next start).
   */
  async drain(timeoutMs: number): Promise<number> {
    const all = Promise.allSettled([...this.inFlight.values()]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs))]);
    this.stopped = true;
    const unanswered = this.inFlight.size;
    for (const [t, wake] of this.sleeps) {
      clearTimeout(t);
      wake();
    }
    this.sleeps.clear();
    return unanswered;
  }
}
