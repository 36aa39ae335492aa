import { afterEach, expect, test } from "bun:test";
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
