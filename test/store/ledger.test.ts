// The SQLite ledger on its own: what is recorded survives closing and reopening the file (blocks with
// every attempt, worker totals, share buckets, pending blocks); a missing or read-only directory and a
// locked database never throw into the caller: the data stays in memory, the error is reported, and
// it is written once the disk accepts it again.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "../../src/log.ts";
import { Ledger, type BlockRecord, type ShareBucket, type WorkerTotals } from "../../src/store/ledger.ts";

const root = mkdtempSync(join(tmpdir(), "sv2pool-ledger-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = 1_699_999_980_000; // a whole minute: buckets start here
const MINUTE = 60_000;

type FoundInput = Parameters<Ledger["recordFoundBlock"]>[0];

function found(n: number): FoundInput {
  return {
    hash: n.toString(16).padStart(64, "0"),
    height: 100 + n,
    prevHash: (n + 1000).toString(16).padStart(64, "0"),
    worker: `farm.rig${n}`,
    endpoint: `10.0.0.${n}:4000${n}`,
    channelId: n,
    jobId: 7 * n,
    foundAtMs: T0 + n * 1000,
    coinbaseValue: "5000000000",
    blockHex: `00${n}`.repeat(40),
  };
}

function pendingRecord(input: FoundInput, id: string): BlockRecord {
  return { ...input, id, status: "pending", attempts: 0, nodeAnswer: null, lastError: null, lastAttemptMs: null };
}

function open(path: string, logger = createMemoryLogger()): Ledger {
  return new Ledger({ path, logger });
}

describe("record, flush, reopen", () => {
  const path = join(root, "new-dir", "sv2pool.sqlite");

  test("blocks, worker totals and buckets survive closing and reopening the file", () => {
    const a = open(path);
    // The directory is created private.
    expect(statSync(join(root, "new-dir")).mode & 0o777).toBe(0o700);
    const r1 = a.recordFoundBlock(found(1));
    expect(r1.durable).toBe(true);
    expect(r1.record).toEqual(pendingRecord(found(1), r1.record.id));
    // Recording the same block again returns the same record.
    expect(a.recordFoundBlock(found(1)).record).toBe(r1.record);

    a.recordShare("farm.rig1", T0 + 1_000, { accepted: true, difficulty: 2, hashDifficulty: 5, block: false });
    a.recordShare("farm.rig1", T0 + 2_000, { accepted: true, difficulty: 2, hashDifficulty: 900, block: true });
    a.recordShare("farm.rig1", T0 + MINUTE + 5, { accepted: false, stale: true });
    a.recordShare("farm.rig1", T0 + MINUTE + 6, { accepted: false, stale: false });
    a.recordShare("farm.rig2", T0 + MINUTE + 7, { accepted: true, difficulty: 4, hashDifficulty: 4.5, block: false });
    expect(a.flush(T0 + MINUTE + 10)).toBe(true);
    expect(a.writeError).toBeNull();
    a.close(T0 + MINUTE + 10);
    // Closed for real: checkpointed, no -wal/-shm left beside the database.
    expect(readdirSync(join(root, "new-dir"))).toEqual(["sv2pool.sqlite"]);

    const b = open(path);
    expect(b.listBlocks()).toEqual([pendingRecord(found(1), r1.record.id)]);
    const totals: WorkerTotals[] = [
      { name: "farm.rig1", accepted: 2, rejected: 2, stale: 1, acceptedDifficulty: 4, bestShareDifficulty: 900, blocksFound: 1, firstSeenMs: T0 + 1_000, lastSeenMs: T0 + MINUTE + 6 },
      { name: "farm.rig2", accepted: 1, rejected: 0, stale: 0, acceptedDifficulty: 4, bestShareDifficulty: 4.5, blocksFound: 0, firstSeenMs: T0 + MINUTE + 7, lastSeenMs: T0 + MINUTE + 7 },
    ];
    expect(sortByName(b.workerTotals())).toEqual(totals);
    const buckets: ShareBucket[] = [
      { worker: "farm.rig1", bucketStartMs: T0, accepted: 2, rejected: 0, stale: 0, acceptedDifficulty: 4, bestShareDifficulty: 900 },
      { worker: "farm.rig1", bucketStartMs: T0 + MINUTE, accepted: 0, rejected: 2, stale: 1, acceptedDifficulty: 0, bestShareDifficulty: 0 },
      { worker: "farm.rig2", bucketStartMs: T0 + MINUTE, accepted: 1, rejected: 0, stale: 0, acceptedDifficulty: 4, bestShareDifficulty: 4.5 },
    ];
    expect(b.shareBuckets(0).sort(byWorkerThenStart)).toEqual(buckets);
    expect(b.shareBuckets(T0 + MINUTE, "farm.rig1")).toEqual([buckets[1] as ShareBucket]);

    // Counters keep adding up across restarts: stored + in memory, then stored again.
    b.recordShare("farm.rig1", T0 + 2 * MINUTE, { accepted: true, difficulty: 8, hashDifficulty: 10, block: false });
    const before = sortByName(b.workerTotals())[0];
    expect(before).toEqual({ ...(totals[0] as WorkerTotals), accepted: 3, acceptedDifficulty: 12, lastSeenMs: T0 + 2 * MINUTE });
    b.close(T0 + 2 * MINUTE);
    const c = open(path);
    expect(sortByName(c.workerTotals())[0]).toEqual(before as WorkerTotals);
    expect(c.shareBuckets(T0 + 2 * MINUTE)).toEqual([
      { worker: "farm.rig1", bucketStartMs: T0 + 2 * MINUTE, accepted: 1, rejected: 0, stale: 0, acceptedDifficulty: 8, bestShareDifficulty: 10 },
    ]);
    c.close(T0 + 2 * MINUTE);
  });

  test("a found block is on disk before anything is flushed or closed (crash right after finding it)", () => {
    const p = join(root, "crash", "sv2pool.sqlite");
    const a = open(p);
    const { record } = a.recordFoundBlock(found(2));
    // No flush, no close: a second reader (the next process) sees it already.
    const b = open(p);
    expect(b.pendingBlocks()).toEqual([pendingRecord(found(2), record.id)]);
    b.close(T0);
    a.close(T0);
  });

  test("pending blocks survive and are listed; recordAttempt updates the status and keeps every answer", () => {
    const p = join(root, "attempts", "sv2pool.sqlite");
    const a = open(p);
    const ids = [1, 2, 3, 4, 5].map((n) => a.recordFoundBlock(found(n)).record.id);
    // 1: the node never answered (two transport errors).
    a.recordAttempt(found(1).hash, T0 + 10, { error: "connect ECONNREFUSED 127.0.0.1:18443" });
    const r1 = a.recordAttempt(found(1).hash, T0 + 20, { error: "timeout after 60000 ms" });
    expect(r1).toMatchObject({ status: "pending", attempts: 2, nodeAnswer: null, lastError: "timeout after 60000 ms", lastAttemptMs: T0 + 20 });
    // 2: accepted (Core answers null), after one failure.
    a.recordAttempt(found(2).hash, T0 + 30, { error: "socket hang up" });
    const r2 = a.recordAttempt(found(2).hash, T0 + 40, { nodeAnswer: null, accepted: true });
    expect(r2).toMatchObject({ status: "accepted", attempts: 2, nodeAnswer: "null", lastError: null, lastAttemptMs: T0 + 40 });
    // 3: rejected with a reason; 4: "duplicate" (the first try did arrive) counts as accepted.
    expect(a.recordAttempt(found(3).hash, T0 + 50, { nodeAnswer: "high-hash", accepted: false })).toMatchObject({ status: "rejected", nodeAnswer: "high-hash", attempts: 1 });
    expect(a.recordAttempt(found(4).hash, T0 + 60, { nodeAnswer: "duplicate", accepted: true })).toMatchObject({ status: "accepted", nodeAnswer: "duplicate", attempts: 1 });
    // 5: never tried.
    expect(a.pendingBlocks().map((b) => b.hash)).toEqual([found(1).hash, found(5).hash]);
    // Without close(): what a SIGKILL leaves behind.
    const b = open(p);
    expect(b.pendingBlocks()).toEqual([
      { ...pendingRecord(found(1), ids[0] as string), attempts: 2, lastError: "timeout after 60000 ms", lastAttemptMs: T0 + 20 },
      pendingRecord(found(5), ids[4] as string),
    ]);
    expect(b.getBlock(found(2).hash)).toEqual({ ...pendingRecord(found(2), ids[1] as string), status: "accepted", attempts: 2, nodeAnswer: "null", lastAttemptMs: T0 + 40 });
    expect(b.getBlock(found(3).hash)?.status).toBe("rejected");
    // Newest first.
    expect(b.listBlocks().map((r) => r.height)).toEqual([105, 104, 103, 102, 101]);
    expect(b.listBlocks(2).map((r) => r.height)).toEqual([105, 104]);
    b.close(T0);
    a.close(T0);

    // Every attempt is kept with its answer or error, in order.
    const db = new Database(p, { readonly: true });
    const rows = db.query("SELECT block_id, at_ms, node_answer, error FROM block_attempts ORDER BY at_ms").all();
    db.close();
    expect(rows).toEqual([
      { block_id: ids[0], at_ms: T0 + 10, node_answer: null, error: "connect ECONNREFUSED 127.0.0.1:18443" },
      { block_id: ids[0], at_ms: T0 + 20, node_answer: null, error: "timeout after 60000 ms" },
      { block_id: ids[1], at_ms: T0 + 30, node_answer: null, error: "socket hang up" },
      { block_id: ids[1], at_ms: T0 + 40, node_answer: "null", error: null },
      { block_id: ids[2], at_ms: T0 + 50, node_answer: "high-hash", error: null },
      { block_id: ids[3], at_ms: T0 + 60, node_answer: "duplicate", error: null },
    ]);
  });

  test("old share buckets are pruned at flush; meta values persist", () => {
    const p = join(root, "prune", "sv2pool.sqlite");
    const a = new Ledger({ path: p, logger: createMemoryLogger(), retentionMs: 10 * MINUTE });
    a.recordShare("w", T0, { accepted: true, difficulty: 1, hashDifficulty: 1, block: false });
    a.recordShare("w", T0 + 20 * MINUTE, { accepted: true, difficulty: 1, hashDifficulty: 1, block: false });
    expect(a.flush(T0 + 20 * MINUTE)).toBe(true);
    expect(a.shareBuckets(0).map((b) => b.bucketStartMs)).toEqual([T0 + 20 * MINUTE]);
    // Totals are not pruned.
    expect(a.workerTotals()[0]?.accepted).toBe(2);
    expect(a.setMeta("chain", "regtest")).toBe(true);
    a.close(T0 + 20 * MINUTE);
    const b = open(p);
    expect(b.getMeta("chain")).toBe("regtest");
    expect(b.getMeta("nothing")).toBeNull();
    b.close(T0);
  });
});

describe("flushing in slices", () => {
  test("at most maxRows rows a call; shares arriving between slices are counted exactly once", () => {
    const p = join(root, "slices", "sv2pool.sqlite");
    const a = open(p);
    const share = { accepted: true, difficulty: 2, hashDifficulty: 3, block: false } as const;
    for (let i = 0; i < 5; i++) a.recordShare(`w${i}`, T0 + 1_000, share);
    // 5 worker rows + 5 bucket rows.
    expect(a.unflushedRows).toBe(10);
    expect(a.flush(T0 + 2_000, 3)).toBe(true);
    expect(a.unflushedRows).toBe(7);
    // w0's totals are written; a share for it now starts new deltas (worker and bucket).
    a.recordShare("w0", T0 + 3_000, share);
    expect(a.unflushedRows).toBe(8);
    let calls = 1;
    while (a.unflushedRows > 0) {
      expect(a.flush(T0 + 4_000, 3)).toBe(true);
      calls++;
    }
    expect(calls).toBe(4);
    // Stored plus unflushed, then again from the file alone.
    const expectTotals = (l: Ledger): void => {
      const totals = new Map(l.workerTotals().map((w) => [w.name, w.accepted]));
      expect(Object.fromEntries(totals)).toEqual({ w0: 2, w1: 1, w2: 1, w3: 1, w4: 1 });
      const buckets = l.shareBuckets(0).filter((b) => b.worker === "w0");
      expect(buckets.map((b) => [b.bucketStartMs, b.accepted, b.acceptedDifficulty])).toEqual([[T0, 2, 4]]);
    };
    expectTotals(a);
    a.close(T0 + 5_000);
    const b = open(p);
    expectTotals(b);
    b.close(T0 + 5_000);
  });

  test("totals the API reads (per worker, counts, all-time sums) agree before and after flushing and reopening", () => {
    const p = join(root, "totals", "sv2pool.sqlite");
    const a = open(p);
    a.recordShare("w1", T0, { accepted: true, difficulty: 2, hashDifficulty: 7, block: false });
    a.recordShare("w1", T0 + 10, { accepted: false, stale: true });
    a.recordShare("w2", T0 + 20, { accepted: true, difficulty: 3, hashDifficulty: 5, block: true });
    a.flush(T0 + 30, 1); // w1's totals written, w2's and the buckets pending
    a.recordShare("w1", T0 + 40, { accepted: false, stale: false });
    a.recordShare("w3", T0 + 50, { accepted: true, difficulty: 1, hashDifficulty: 1, block: false });
    const check = (l: Ledger): void => {
      expect(l.shareTotals()).toEqual({ accepted: 3, rejected: 2, stale: 1 });
      expect(l.workerCount).toBe(3);
      expect([l.knowsWorker("w1"), l.knowsWorker("w3"), l.knowsWorker("w4")]).toEqual([true, true, false]);
      expect(l.workerTotal("w1")).toEqual({
        name: "w1", accepted: 1, rejected: 2, stale: 1, acceptedDifficulty: 2, bestShareDifficulty: 7, blocksFound: 0, firstSeenMs: T0, lastSeenMs: T0 + 40,
      });
      expect(l.workerTotal("w2")?.blocksFound).toBe(1);
      expect(l.workerTotal("w4")).toBeUndefined();
      expect(l.workerTotals().map((t) => t.name).sort()).toEqual(["w1", "w2", "w3"]);
    };
    check(a);
    a.close(T0 + 60);
    const b = open(p);
    check(b);
    b.close(T0 + 60);
  });

  test("pruning old buckets searches an index instead of scanning the table", () => {
    const p = join(root, "prune-index", "sv2pool.sqlite");
    open(p).close(T0);
    const db = new Database(p, { readonly: true });
    const plan = db.query("EXPLAIN QUERY PLAN DELETE FROM share_buckets WHERE bucket_start_ms < 1").all() as { detail: string }[];
    db.close();
    expect(plan.map((r) => r.detail).join("; ")).toContain("SEARCH share_buckets USING INDEX share_buckets_start");
  });
});

describe("a disk that refuses writes never throws into the caller", () => {
  /**
   * Exercises what a running pool calls; none of it may throw. `attempt` adds a submission attempt
   * and a meta write (left out where every refused write costs the busy timeout).
   */
  function useFailingLedger(l: Ledger, attempt = true): void {
    const r = l.recordFoundBlock(found(7));
    expect(r.durable).toBe(false);
    expect(l.unsavedBlocks).toBe(1);
    if (attempt) l.recordAttempt(found(7).hash, T0 + 1, { error: "connect ECONNREFUSED" });
    l.recordShare("farm.rig7", T0 + 2, { accepted: true, difficulty: 3, hashDifficulty: 3, block: false });
    expect(l.flush(T0 + 3)).toBe(false);
    if (attempt) expect(l.setMeta("k", "v")).toBe(false);
    // Everything is still there, from memory.
    expect(l.pendingBlocks()).toEqual([
      attempt ? { ...pendingRecord(found(7), r.record.id), attempts: 1, lastError: "connect ECONNREFUSED", lastAttemptMs: T0 + 1 } : pendingRecord(found(7), r.record.id),
    ]);
    expect(l.workerTotals()).toEqual([
      { name: "farm.rig7", accepted: 1, rejected: 0, stale: 0, acceptedDifficulty: 3, bestShareDifficulty: 3, blocksFound: 0, firstSeenMs: T0 + 2, lastSeenMs: T0 + 2 },
    ]);
    expect(l.shareBuckets(0)).toEqual([{ worker: "farm.rig7", bucketStartMs: T0, accepted: 1, rejected: 0, stale: 0, acceptedDifficulty: 3, bestShareDifficulty: 3 }]);
  }

  test("a directory that cannot be created (a file is in the way), which later can", () => {
    const blocker = join(root, "blocked");
    writeFileSync(blocker, "not a directory");
    const path = join(blocker, "sub", "sv2pool.sqlite");
    const logger = createMemoryLogger();
    const l = open(path, logger);
    expect(l.writeError).toBe(`cannot open ${path}: ENOTDIR: not a directory, mkdir '${join(blocker, "sub")}'`);
    useFailingLedger(l);
    // Reported once, not once per write.
    expect(logger.records.filter((r) => r.level === "error").map((r) => r.msg)).toEqual(["ledger: cannot open the database; keeping blocks and counters in memory and retrying"]);

    // The operator fixes the disk: the next flush opens the file and writes everything kept.
    rmSync(blocker);
    expect(l.flush(T0 + 4)).toBe(true);
    expect(l.writeError).toBeNull();
    expect(l.unsavedBlocks).toBe(0);
    l.close(T0 + 5);
    const again = open(path);
    expect(again.pendingBlocks().map((b) => [b.hash, b.attempts, b.lastError])).toEqual([[found(7).hash, 1, "connect ECONNREFUSED"]]);
    expect(again.workerTotals().map((w) => [w.name, w.accepted])).toEqual([["farm.rig7", 1]]);
    again.close(T0);
  });

  test("a read-only directory (even for root: /proc)", () => {
    const path = "/proc/sv2pool-ledger-test.sqlite";
    const l = open(path);
    expect(l.writeError).toBe(`cannot open ${path}: unable to open database file`);
    useFailingLedger(l);
    l.close(T0);
  });

  test("a database another process holds locked: writes wait, fail, stay in memory, then go through", () => {
    const path = join(root, "locked", "sv2pool.sqlite");
    const l = open(path);
    const other = new Database(path);
    other.exec("BEGIN EXCLUSIVE");
    // Each refused write waits out the ledger's busy timeout (2 s) first: three of them here.
    useFailingLedger(l, false);
    expect(l.writeError).toBe("database is locked");
    other.exec("COMMIT");
    other.close();
    expect(l.flush(T0 + 10)).toBe(true);
    expect(l.writeError).toBeNull();
    expect(l.unsavedBlocks).toBe(0);
    l.close(T0 + 10);
    const again = open(path);
    expect(again.pendingBlocks().map((b) => [b.hash, b.attempts])).toEqual([[found(7).hash, 0]]);
    expect(again.workerTotals().map((w) => [w.name, w.accepted])).toEqual([["farm.rig7", 1]]);
    again.close(T0);
  }, 20_000);
});

function sortByName(t: WorkerTotals[]): WorkerTotals[] {
  return [...t].sort((a, b) => a.name.localeCompare(b.name));
}

function byWorkerThenStart(a: ShareBucket, b: ShareBucket): number {
  return a.worker.localeCompare(b.worker) || a.bucketStartMs - b.bucketStartMs;
}
