import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "../../src/log.ts";
import { Ledger } from "../../src/store/ledger.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

let t: TestService | null = null;
afterEach(async () => {
  await t?.service.stop("test over", 200);
  t = null;
});

test("the service applies the embedded node's template and follows new blocks", async () => {
  t = await startTestService();
  const job = t.service.pool.currentJob;
  expect(job).not.toBeNull();
  expect(job?.template.height).toBe(1);
  const mined = await t.node.mineBlock();
  expect(mined.answer.accepted).toBe(true);
  // The watcher polls the tip every 10 ms; wait for the pool to move to height 2.
  const deadline = Date.now() + 5000;
  while ((t.service.pool.currentTip?.height ?? 0) < 2 && Date.now() < deadline) await Bun.sleep(5);
  expect(t.service.pool.currentTip?.height).toBe(2);
  expect(t.service.m.newTips.value()).toBeGreaterThanOrEqual(1);
});

describe("share counters reach the ledger in slices", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function farmShares(s: TestService, workers: number): void {
    const now = s.service.clock.nowMs();
    for (let i = 0; i < workers; i++) s.service.ledger.recordShare(`farm.rig${i}`, now, { accepted: true, difficulty: 1, hashDifficulty: 2, block: false });
  }

  test("a flush of 1,000 workers (2,000 rows) takes several turns of the event loop and writes every row once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sv2pool-flush-"));
    dirs.push(dir);
    t = await startTestService({ "": { data_dir: dir } }, { flushMs: 30 });
    farmShares(t, 1000);
    farmShares(t, 1000);
    // Watch between turns: a flush done in one go would go from 2,000 straight to 0.
    const seen = new Set<number>();
    const deadline = Date.now() + 10_000;
    while (t.service.ledger.unflushedRows > 0 && Date.now() < deadline) {
      seen.add(t.service.ledger.unflushedRows);
      await new Promise<void>((r) => setImmediate(r));
    }
    expect(t.service.ledger.unflushedRows).toBe(0);
    expect([...seen].some((n) => n > 0 && n < 2000)).toBe(true);
    await t.service.stop("test over", 200);
    t = null;
    const ledger = new Ledger({ path: join(dir, "sv2pool.sqlite"), logger: createMemoryLogger() });
    expect(ledger.workerCount).toBe(1000);
    expect(ledger.shareTotals().accepted).toBe(2000);
    expect(ledger.workerTotal("farm.rig999")?.accepted).toBe(2);
    ledger.close(0);
  });

  test("stopping during a sliced flush writes the rest at close, with no write error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sv2pool-flush-"));
    dirs.push(dir);
    const s = await startTestService({ "": { data_dir: dir } }, { flushMs: 30 });
    farmShares(s, 3000);
    while (s.service.ledger.unflushedRows === 6000) await new Promise<void>((r) => setImmediate(r));
    // The flush has begun (some slices written, more to come): stop now.
    expect(s.service.ledger.unflushedRows).toBeGreaterThan(0);
    await s.service.stop("test over", 200);
    expect(s.logs.filter((r) => r.level === "error")).toEqual([]);
    const ledger = new Ledger({ path: join(dir, "sv2pool.sqlite"), logger: createMemoryLogger() });
    expect(ledger.shareTotals().accepted).toBe(3000);
    expect(ledger.workerCount).toBe(3000);
    ledger.close(0);
  });
});
