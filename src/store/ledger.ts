/**
 * The pool's ledger in SQLite (bun:sqlite, WAL): found blocks with every submission attempt and the
 * node's answers, and per-worker share counters in time buckets, so block history and statistics
 * survive restarts and a block found just before a crash is submitted at the next start.
 *
 * Found blocks are written synchronously (FULL sync) before they are submitted. Share counters are
 * aggregated in memory and flushed every few seconds, in slices of rows when there are many (see
 * `flush`). When the disk refuses writes (full, read-only), nothing is dropped: blocks and counters
 * stay in memory, the failure is logged once per cause, and the writes are retried on every flush
 * until the disk accepts them again.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import hyperid from "hyperid";
import { StratumV2Error } from "../errors.ts";
import type { Logger } from "../log.ts";

export type BlockStatus = "pending" | "accepted" | "rejected";

export interface BlockRecord {
  id: string;
  /** Display-order hex. */
  hash: string;
  height: number;
  prevHash: string;
  worker: string;
  endpoint: string;
  channelId: number;
  jobId: number;
  foundAtMs: number;
  /** Satoshi, as a decimal string (bigint-safe JSON). */
  coinbaseValue: string;
  blockHex: string;
  status: BlockStatus;
  /** Submissions that reached the node or failed trying. */
  attempts: number;
  /** The node's last answer to submitblock: "null" for accepted, the reason string otherwise; null if none yet. */
  nodeAnswer: string | null;
  /** The last transport error, if the node could not be reached. */
  lastError: string | null;
  lastAttemptMs: number | null;
}

export interface WorkerTotals {
  name: string;
  accepted: number;
  rejected: number;
  stale: number;
  acceptedDifficulty: number;
  bestShareDifficulty: number;
  blocksFound: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface ShareBucket {
  worker: string;
  bucketStartMs: number;
  accepted: number;
  rejected: number;
  stale: number;
  acceptedDifficulty: number;
  bestShareDifficulty: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  height INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  worker TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  channel_id INTEGER NOT NULL,
  job_id INTEGER NOT NULL,
  found_at_ms INTEGER NOT NULL,
  coinbase_value TEXT NOT NULL,
  block_hex TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  node_answer TEXT,
  last_error TEXT,
  last_attempt_ms INTEGER
);
CREATE INDEX IF NOT EXISTS blocks_status ON blocks(status);
CREATE TABLE IF NOT EXISTS block_attempts (
  block_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  node_answer TEXT,
  error TEXT
);
CREATE TABLE IF NOT EXISTS workers (
  name TEXT PRIMARY KEY,
  accepted INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  stale INTEGER NOT NULL DEFAULT 0,
  accepted_difficulty REAL NOT NULL DEFAULT 0,
  best_share_difficulty REAL NOT NULL DEFAULT 0,
  blocks_found INTEGER NOT NULL DEFAULT 0,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS share_buckets (
  worker TEXT NOT NULL,
  bucket_start_ms INTEGER NOT NULL,
  accepted INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  stale INTEGER NOT NULL DEFAULT 0,
  accepted_difficulty REAL NOT NULL DEFAULT 0,
  best_share_difficulty REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (worker, bucket_start_ms)
);
-- Pruning by age: without it every prune scans the whole table (workers x minutes x retention days).
CREATE INDEX IF NOT EXISTS share_buckets_start ON share_buckets(bucket_start_ms);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface BlockRow {
  id: string;
  hash: string;
  height: number;
  prev_hash: string;
  worker: string;
  endpoint: string;
  channel_id: number;
  job_id: number;
  found_at_ms: number;
  coinbase_value: string;
  block_hex: string;
  status: string;
  attempts: number;
  node_answer: string | null;
  last_error: string | null;
  last_attempt_ms: number | null;
}

interface WorkerRow {
  name: string;
  accepted: number;
  rejected: number;
  stale: number;
  accepted_difficulty: number;
  best_share_difficulty: number;
  blocks_found: number;
  first_seen_ms: number;
  last_seen_ms: number;
}

interface BucketRow {
  worker: string;
  bucket_start_ms: number;
  accepted: number;
  rejected: number;
  stale: number;
  accepted_difficulty: number;
  best_share_difficulty: number;
}

function toRecord(r: BlockRow): BlockRecord {
  return {
    id: r.id,
    hash: r.hash,
    height: r.height,
    prevHash: r.prev_hash,
    worker: r.worker,
    endpoint: r.endpoint,
    channelId: r.channel_id,
    jobId: r.job_id,
    foundAtMs: r.found_at_ms,
    coinbaseValue: r.coinbase_value,
    blockHex: r.block_hex,
    status: r.status as BlockStatus,
    attempts: r.attempts,
    nodeAnswer: r.node_answer,
    lastError: r.last_error,
    lastAttemptMs: r.last_attempt_ms,
  };
}

export interface LedgerOptions {
  /** Path of the SQLite file, or ":memory:". */
  path: string;
  logger: Logger;
  /** Share bucket width (default one minute). */
  bucketMs?: number;
  /** Buckets older than this are pruned at flush (default 30 days). */
  retentionMs?: number;
}

interface Statements {
  upsertBlock: Statement;
  insertAttempt: Statement;
  upsertWorker: Statement;
  upsertBucket: Statement;
  pruneBuckets: Statement;
}

/** What a worker's totals gained since the last flush. */
type PendingWorkerDelta = Omit<WorkerTotals, "name">;

/** `t` (may be absent) with a pending delta added, merged like the workers upsert; a new object. */
function addDelta(t: WorkerTotals | undefined, name: string, d: PendingWorkerDelta): WorkerTotals {
  if (t === undefined) return { name, ...d };
  return {
    name,
    accepted: t.accepted + d.accepted,
    rejected: t.rejected + d.rejected,
    stale: t.stale + d.stale,
    acceptedDifficulty: t.acceptedDifficulty + d.acceptedDifficulty,
    bestShareDifficulty: Math.max(t.bestShareDifficulty, d.bestShareDifficulty),
    blocksFound: t.blocksFound + d.blocksFound,
    firstSeenMs: Math.min(t.firstSeenMs, d.firstSeenMs),
    lastSeenMs: Math.max(t.lastSeenMs, d.lastSeenMs),
  };
}

export class Ledger {
  readonly path: string;
  private db: Database;
  private readonly logger: Logger;
  private readonly bucketMs: number;
  private readonly retentionMs: number;
  private readonly newId = hyperid({ urlSafe: true });
  /** Blocks by hash: the source of truth in memory (the DB is its durable copy). */
  private readonly blocks = new Map<string, BlockRecord>();
  /** Blocks whose latest state is not yet on disk. */
  private readonly dirtyBlocks = new Set<string>();
  private readonly attemptsToWrite: { blockId: string; atMs: number; nodeAnswer: string | null; error: string | null }[] = [];
  private readonly workerDeltas = new Map<string, PendingWorkerDelta>();
  /**
   * What the workers table holds, mirrored in memory (loaded at open, updated when a flush commits),
   * so the API and the dashboard read totals without a table scan: at 10,000 workers a scan and its
   * row objects held the event loop ~5 ms per request.
   */
  private readonly storedWorkers = new Map<string, WorkerTotals>();
  /** Every share counted, stored or pending: the pool's all-time totals without a pass over workers. */
  private readonly sums = { accepted: 0, rejected: 0, stale: 0 };
  private readonly bucketDeltas = new Map<string, ShareBucket>();
  /** Each worker's bucket of the moment, so a share does not build the `worker\0start` key. */
  private readonly currentBucket = new Map<string, ShareBucket>();
  private writeFailure: string | null = null;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  /**
   * Set while the file could not be opened at all (missing or read-only directory): `db` is then an
   * in-memory stand-in that is never written (so what is unsaved stays in the deltas and dirty sets),
   * and every write retries opening the file.
   */
  private openFailure: string | null = null;
  private stmts: Statements;

  constructor(options: LedgerOptions) {
    this.path = options.path;
    this.logger = options.logger;
    this.bucketMs = options.bucketMs ?? 60_000;
    this.retentionMs = options.retentionMs ?? 30 * 24 * 3600_000;
    let opened: { db: Database; stmts: Statements };
    try {
      opened = Ledger.open(options.path);
    } catch (e) {
      // The pool keeps mining without its disk: blocks and counters stay in memory (see above).
      this.openFailure = e instanceof Error ? e.message : String(e);
      this.writeFailure = this.openFailureText();
      this.logger.error("ledger: cannot open the database; keeping blocks and counters in memory and retrying", { path: this.path, error: this.writeFailure });
      opened = Ledger.open(":memory:");
    }
    this.db = opened.db;
    this.stmts = opened.stmts;
    this.loadBlocks();
    this.loadWorkers();
  }

  private static open(path: string): { db: Database; stmts: Statements } {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path, { create: true, strict: true });
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA busy_timeout = 2000");
      db.exec(SCHEMA);
      return { db, stmts: Ledger.prepare(db) };
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private static prepare(db: Database): Statements {
    return {
      upsertBlock: db.prepare(`INSERT INTO blocks (id, hash, height, prev_hash, worker, endpoint, channel_id, job_id,
          found_at_ms, coinbase_value, block_hex, status, attempts, node_answer, last_error, last_attempt_ms)
        VALUES ($id, $hash, $height, $prev_hash, $worker, $endpoint, $channel_id, $job_id, $found_at_ms, $coinbase_value,
          $block_hex, $status, $attempts, $node_answer, $last_error, $last_attempt_ms)
        ON CONFLICT(hash) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
          node_answer = excluded.node_answer, last_error = excluded.last_error, last_attempt_ms = excluded.last_attempt_ms`),
      insertAttempt: db.prepare(
        "INSERT INTO block_attempts (block_id, at_ms, node_answer, error) VALUES ($block_id, $at_ms, $node_answer, $error)",
      ),
      upsertWorker: db.prepare(`INSERT INTO workers (name, accepted, rejected, stale, accepted_difficulty,
          best_share_difficulty, blocks_found, first_seen_ms, last_seen_ms)
        VALUES ($name, $accepted, $rejected, $stale, $accepted_difficulty, $best, $blocks_found, $first_seen_ms, $last_seen_ms)
        ON CONFLICT(name) DO UPDATE SET accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected,
          stale = stale + excluded.stale, accepted_difficulty = accepted_difficulty + excluded.accepted_difficulty,
          best_share_difficulty = MAX(best_share_difficulty, excluded.best_share_difficulty),
          blocks_found = blocks_found + excluded.blocks_found,
          first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms), last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms)`),
      upsertBucket: db.prepare(`INSERT INTO share_buckets (worker, bucket_start_ms, accepted, rejected, stale,
          accepted_difficulty, best_share_difficulty)
        VALUES ($worker, $bucket_start_ms, $accepted, $rejected, $stale, $accepted_difficulty, $best)
        ON CONFLICT(worker, bucket_start_ms) DO UPDATE SET accepted = accepted + excluded.accepted,
          rejected = rejected + excluded.rejected, stale = stale + excluded.stale,
          accepted_difficulty = accepted_difficulty + excluded.accepted_difficulty,
          best_share_difficulty = MAX(best_share_difficulty, excluded.best_share_difficulty)`),
      pruneBuckets: db.prepare("DELETE FROM share_buckets WHERE bucket_start_ms < $before"),
    };
  }

  /** Blocks already stored (those known in memory win: they are newer). */
  private loadBlocks(): void {
    for (const row of this.db.query("SELECT * FROM blocks ORDER BY found_at_ms").all() as BlockRow[]) {
      if (!this.blocks.has(row.hash)) this.blocks.set(row.hash, toRecord(row));
    }
  }

  /** The workers table into storedWorkers and the all-time sums (at open, or when the file opens at last). */
  private loadWorkers(): void {
    for (const r of this.db.query("SELECT * FROM workers").all() as WorkerRow[]) {
      this.storedWorkers.set(r.name, {
        name: r.name,
        accepted: r.accepted,
        rejected: r.rejected,
        stale: r.stale,
        acceptedDifficulty: r.accepted_difficulty,
        bestShareDifficulty: r.best_share_difficulty,
        blocksFound: r.blocks_found,
        firstSeenMs: r.first_seen_ms,
        lastSeenMs: r.last_seen_ms,
      });
      this.sums.accepted += r.accepted;
      this.sums.rejected += r.rejected;
      this.sums.stale += r.stale;
    }
  }

  private openFailureText(): string {
    return `cannot open ${this.path}: ${this.openFailure ?? ""}`;
  }

  /** While the file cannot be opened: try again; on success, everything in memory is written by the caller. */
  private reopen(): boolean {
    if (this.openFailure === null) return true;
    let opened: { db: Database; stmts: Statements };
    try {
      opened = Ledger.open(this.path);
    } catch (e) {
      this.openFailure = e instanceof Error ? e.message : String(e);
      return false;
    }
    this.db.close();
    this.db = opened.db;
    this.stmts = opened.stmts;
    this.openFailure = null;
    this.loadBlocks();
    this.loadWorkers();
    return true;
  }

  /** The last write failure, or null when the disk accepts writes. */
  get writeError(): string | null {
    return this.writeFailure;
  }

  /** Blocks waiting for storage (the disk refused them). */
  get unsavedBlocks(): number {
    return this.dirtyBlocks.size;
  }

  private tryWrite(what: string, write: () => void): boolean {
    try {
      if (!this.reopen()) throw new Error(this.openFailureText());
      write();
      if (this.writeFailure !== null) {
        this.logger.info("ledger: the disk accepts writes again", { path: this.path });
        this.writeFailure = null;
      }
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (this.writeFailure !== message) {
        this.logger.error(`ledger: cannot write ${what}; keeping it in memory and retrying`, { path: this.path, error: message });
        this.writeFailure = message;
      }
      return false;
    }
  }

  private writeBlock(rec: BlockRecord): void {
    this.stmts.upsertBlock.run({
      id: rec.id,
      hash: rec.hash,
      height: rec.height,
      prev_hash: rec.prevHash,
      worker: rec.worker,
      endpoint: rec.endpoint,
      channel_id: rec.channelId,
      job_id: rec.jobId,
      found_at_ms: rec.foundAtMs,
      coinbase_value: rec.coinbaseValue,
      block_hex: rec.blockHex,
      status: rec.status,
      attempts: rec.attempts,
      node_answer: rec.nodeAnswer,
      last_error: rec.lastError,
      last_attempt_ms: rec.lastAttemptMs,
    });
  }

  private persistBlock(rec: BlockRecord): boolean {
    this.dirtyBlocks.add(rec.hash);
    const ok = this.tryWrite(`block ${rec.hash}`, () => this.writeBlock(rec));
    if (ok) this.dirtyBlocks.delete(rec.hash);
    return ok;
  }

  /**
   * Records a found block before it is submitted. Returns the record (kept in memory even when the
   * disk refuses it) and whether it is durable.
   */
  recordFoundBlock(block: Omit<BlockRecord, "id" | "status" | "attempts" | "nodeAnswer" | "lastError" | "lastAttemptMs">): {
    record: BlockRecord;
    durable: boolean;
  } {
    const existing = this.blocks.get(block.hash);
    if (existing !== undefined) return { record: existing, durable: !this.dirtyBlocks.has(block.hash) };
    const record: BlockRecord = {
      ...block,
      id: this.newId(),
      status: "pending",
      attempts: 0,
      nodeAnswer: null,
      lastError: null,
      lastAttemptMs: null,
    };
    this.blocks.set(record.hash, record);
    return { record, durable: this.persistBlock(record) };
  }

  /** Records one submission attempt: the node's answer, or the error that kept it from answering. */
  recordAttempt(hash: string, atMs: number, outcome: { nodeAnswer: string | null; accepted: boolean } | { error: string }): BlockRecord {
    const rec = this.blocks.get(hash);
    if (rec === undefined) throw StratumV2Error.pool(`ledger: unknown block ${hash}`);
    rec.attempts++;
    rec.lastAttemptMs = atMs;
    if ("error" in outcome) {
      rec.lastError = outcome.error;
    } else {
      rec.nodeAnswer = outcome.nodeAnswer ?? "null";
      rec.lastError = null;
      rec.status = outcome.accepted ? "accepted" : "rejected";
    }
    this.attemptsToWrite.push({
      blockId: rec.id,
      atMs,
      nodeAnswer: "error" in outcome ? null : (outcome.nodeAnswer ?? "null"),
      error: "error" in outcome ? outcome.error : null,
    });
    this.persistBlock(rec);
    this.flushAttempts();
    return rec;
  }

  private flushAttempts(): void {
    if (this.attemptsToWrite.length === 0) return;
    const batch = this.attemptsToWrite.slice();
    const ok = this.tryWrite("block attempts", () => {
      this.db.transaction(() => {
        for (const a of batch) {
          this.stmts.insertAttempt.run({ block_id: a.blockId, at_ms: a.atMs, node_answer: a.nodeAnswer, error: a.error });
        }
      })();
    });
    if (ok) this.attemptsToWrite.splice(0, batch.length);
  }

  /** Blocks the node has not answered yet (to submit at start-up and after node outages). */
  pendingBlocks(): BlockRecord[] {
    return [...this.blocks.values()].filter((b) => b.status === "pending");
  }

  /** Found blocks, newest first. */
  listBlocks(limit = 100): BlockRecord[] {
    return [...this.blocks.values()].sort((a, b) => b.foundAtMs - a.foundAtMs).slice(0, limit);
  }

  getBlock(hash: string): BlockRecord | undefined {
    return this.blocks.get(hash);
  }

  // ---- share counters ---------------------------------------------------------------------------

  /** Adds one share outcome to the in-memory deltas (flushed by `flush`). */
  recordShare(
    worker: string,
    nowMs: number,
    outcome: { accepted: true; difficulty: number; hashDifficulty: number; block: boolean } | { accepted: false; stale: boolean },
  ): void {
    let w = this.workerDeltas.get(worker);
    if (w === undefined) {
      w = { accepted: 0, rejected: 0, stale: 0, acceptedDifficulty: 0, bestShareDifficulty: 0, blocksFound: 0, firstSeenMs: nowMs, lastSeenMs: nowMs };
      this.workerDeltas.set(worker, w);
    }
    const start = nowMs - (nowMs % this.bucketMs);
    let b = this.currentBucket.get(worker);
    if (b === undefined || b.bucketStartMs !== start) {
      const key = `${worker}\u0000${start}`;
      b = this.bucketDeltas.get(key);
      if (b === undefined) {
        b = { worker, bucketStartMs: start, accepted: 0, rejected: 0, stale: 0, acceptedDifficulty: 0, bestShareDifficulty: 0 };
        this.bucketDeltas.set(key, b);
      }
      this.currentBucket.set(worker, b);
    }
    w.lastSeenMs = nowMs;
    if (outcome.accepted) {
      this.sums.accepted++;
      w.accepted++;
      b.accepted++;
      w.acceptedDifficulty += outcome.difficulty;
      b.acceptedDifficulty += outcome.difficulty;
      if (outcome.hashDifficulty > w.bestShareDifficulty) w.bestShareDifficulty = outcome.hashDifficulty;
      if (outcome.hashDifficulty > b.bestShareDifficulty) b.bestShareDifficulty = outcome.hashDifficulty;
      if (outcome.block) w.blocksFound++;
    } else {
      this.sums.rejected++;
      w.rejected++;
      b.rejected++;
      if (outcome.stale) {
        this.sums.stale++;
        w.stale++;
        b.stale++;
      }
    }
  }

  /** Counter rows (worker totals and share buckets) gained since they were last written. */
  get unflushedRows(): number {
    return this.workerDeltas.size + this.bucketDeltas.size;
  }

  /**
   * Writes blocks and attempts not yet on disk, then pending counters: all of them in one
   * transaction, or at most `maxRows` rows (workers first, then buckets) so that a caller can spread
   * a big flush over several turns of the event loop (the pool answers shares in between). Rows are
   * taken out of memory only once their transaction has committed, within the same call, so each
   * delta is written exactly once; on failure everything stays in memory for the next attempt.
   *
   * Counter transactions commit with synchronous = NORMAL: in WAL mode that skips the fsync per
   * commit (the WAL is synced at checkpoints and by the next FULL commit, e.g. a found block), so a
   * power cut can lose the last seconds of counters, which were only in memory a moment before
   * anyway; the database stays consistent. Blocks and attempts keep FULL.
   */
  flush(nowMs: number, maxRows = Number.POSITIVE_INFINITY): boolean {
    for (const hash of [...this.dirtyBlocks]) {
      const rec = this.blocks.get(hash);
      if (rec !== undefined) this.persistBlock(rec);
    }
    this.flushAttempts();
    if (this.workerDeltas.size === 0 && this.bucketDeltas.size === 0) return this.writeFailure === null;
    const workers: [string, PendingWorkerDelta][] = [];
    for (const entry of this.workerDeltas) {
      if (workers.length >= maxRows) break;
      workers.push(entry);
    }
    const buckets: [string, ShareBucket][] = [];
    for (const entry of this.bucketDeltas) {
      if (workers.length + buckets.length >= maxRows) break;
      buckets.push(entry);
    }
    // Old buckets go once per bucket width: more often would find nothing new to delete.
    const prune = nowMs - this.lastPruneMs >= this.bucketMs;
    const ok = this.tryWrite("share counters", () => {
      this.db.exec("PRAGMA synchronous = NORMAL");
      try {
        this.db.transaction(() => {
          for (const [name, d] of workers) {
            this.stmts.upsertWorker.run({
              name,
              accepted: d.accepted,
              rejected: d.rejected,
              stale: d.stale,
              accepted_difficulty: d.acceptedDifficulty,
              best: d.bestShareDifficulty,
              blocks_found: d.blocksFound,
              first_seen_ms: d.firstSeenMs,
              last_seen_ms: d.lastSeenMs,
            });
          }
          for (const [, b] of buckets) {
            this.stmts.upsertBucket.run({
              worker: b.worker,
              bucket_start_ms: b.bucketStartMs,
              accepted: b.accepted,
              rejected: b.rejected,
              stale: b.stale,
              accepted_difficulty: b.acceptedDifficulty,
              best: b.bestShareDifficulty,
            });
          }
          if (prune) this.stmts.pruneBuckets.run({ before: nowMs - this.retentionMs });
        })();
      } finally {
        this.db.exec("PRAGMA synchronous = FULL");
      }
    });
    if (ok) {
      if (prune) this.lastPruneMs = nowMs;
      for (const [name, d] of workers) {
        this.workerDeltas.delete(name);
        this.storedWorkers.set(name, addDelta(this.storedWorkers.get(name), name, d));
      }
      for (const [key, b] of buckets) {
        this.bucketDeltas.delete(key);
        // A written bucket must not take more shares: the next share starts a new delta.
        if (this.currentBucket.get(b.worker) === b) this.currentBucket.delete(b.worker);
      }
    }
    return ok;
  }

  /** Worker totals as stored plus what is not flushed yet. */
  workerTotals(): WorkerTotals[] {
    const out: WorkerTotals[] = [];
    for (const [name, t] of this.storedWorkers) {
      const d = this.workerDeltas.get(name);
      out.push(d === undefined ? { ...t } : addDelta(t, name, d));
    }
    for (const [name, d] of this.workerDeltas) if (!this.storedWorkers.has(name)) out.push(addDelta(undefined, name, d));
    return out;
  }

  /** One worker's totals as stored plus what is not flushed yet, or undefined for a name never counted. */
  workerTotal(name: string): WorkerTotals | undefined {
    const t = this.storedWorkers.get(name);
    const d = this.workerDeltas.get(name);
    if (d !== undefined) return addDelta(t, name, d);
    return t === undefined ? undefined : { ...t };
  }

  /** Whether any share of this worker was ever counted. */
  knowsWorker(name: string): boolean {
    return this.storedWorkers.has(name) || this.workerDeltas.has(name);
  }

  /** Workers with counted shares (stored or pending). */
  get workerCount(): number {
    let pendingOnly = 0;
    for (const name of this.workerDeltas.keys()) if (!this.storedWorkers.has(name)) pendingOnly++;
    return this.storedWorkers.size + pendingOnly;
  }

  /** All-time share totals over every worker, stored plus pending. */
  shareTotals(): { accepted: number; rejected: number; stale: number } {
    return { ...this.sums };
  }


  /** Share buckets since `sinceMs` (for hashrate history), stored plus unflushed. */
  shareBuckets(sinceMs: number, worker?: string): ShareBucket[] {
    const rows = (
      worker === undefined
        ? this.db.query("SELECT * FROM share_buckets WHERE bucket_start_ms >= $since ORDER BY bucket_start_ms").all({ since: sinceMs })
        : this.db
            .query("SELECT * FROM share_buckets WHERE bucket_start_ms >= $since AND worker = $worker ORDER BY bucket_start_ms")
            .all({ since: sinceMs, worker })
    ) as BucketRow[];
    const merged = new Map<string, ShareBucket>();
    for (const r of rows) {
      merged.set(`${r.worker}\u0000${r.bucket_start_ms}`, {
        worker: r.worker,
        bucketStartMs: r.bucket_start_ms,
        accepted: r.accepted,
        rejected: r.rejected,
        stale: r.stale,
        acceptedDifficulty: r.accepted_difficulty,
        bestShareDifficulty: r.best_share_difficulty,
      });
    }
    for (const [key, b] of this.bucketDeltas) {
      if (b.bucketStartMs < sinceMs || (worker !== undefined && b.worker !== worker)) continue;
      const m = merged.get(key);
      if (m === undefined) merged.set(key, { ...b });
      else {
        m.accepted += b.accepted;
        m.rejected += b.rejected;
        m.stale += b.stale;
        m.acceptedDifficulty += b.acceptedDifficulty;
        m.bestShareDifficulty = Math.max(m.bestShareDifficulty, b.bestShareDifficulty);
      }
    }
    return [...merged.values()].sort((a, b) => a.bucketStartMs - b.bucketStartMs);
  }

  getMeta(key: string): string | null {
    const row = this.db.query("SELECT value FROM meta WHERE key = $key").get({ key }) as { value: string } | null;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): boolean {
    return this.tryWrite(`meta ${key}`, () => {
      this.db.query("INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run({ key, value });
    });
  }

  close(nowMs: number): void {
    this.flush(nowMs);
    try {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // A read-only or full disk cannot checkpoint; the WAL is replayed at the next open.
    }
    // Unfinalized statements would keep the connection (and its -wal/-shm files) open after close().
    for (const stmt of Object.values(this.stmts)) stmt.finalize();
    this.db.close();
  }
}
