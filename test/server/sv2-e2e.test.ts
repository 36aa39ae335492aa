// Stratum V2 end to end over real TCP with Noise: miner clients on the three channel layouts mine on
// the embedded node, shares are accepted, a block is found, submitted and accepted, every miner
// switches to the new block, and a share on the old block is answered as stale.
import { afterEach, expect, test } from "bun:test";
import { equalBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import type { Sv2Message } from "../../src/sv2/messages/registry.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startTestSv2, waitFor, type TestSv2 } from "../helpers/sv2.ts";

let t: TestService | null = null;
let sv2: TestSv2 | null = null;
const miners: Sv2Miner[] = [];

afterEach(async () => {
  for (const m of miners.splice(0)) m.stop();
  await t?.service.stop("test over", 500);
  t = null;
  sv2 = null;
});

test("standard (group), header-only and extended channels mine, find a block, switch, and old shares are stale", async () => {
  // Network difficulty so a block takes a few hundred thousand hashes: found within seconds, not at once.
  t = await startTestService({}, { embeddedDifficulty: 0.0001 });
  sv2 = await startTestSv2(t);
  const group = sv2.miner({ user: "farm.group" });
  const solo = sv2.miner({ user: "farm.solo", requireStandardJobs: true });
  const ext = sv2.miner({ user: "farm.proxy", channel: "extended", minExtranonceSize: 8 });
  miners.push(group, solo, ext);
  const seen: Sv2Message[] = [];
  solo.onMessage = (m) => seen.push(m);
  await Promise.all(miners.map((m) => m.start()));
  expect(group.groupChannelId).not.toBeNull();
  expect(solo.groupChannelId).toBeNull();
  expect(ext.extranonceSize).toBe(8);
  expect(seen.some((m) => m.type === "NewMiningJob")).toBe(true);

  await waitFor("accepted shares on every channel", () => miners.every((m) => m.stats.accepted >= 3), 20_000);
  // Blocks come quickly at this difficulty: read the height first, then the count, so a block found
  // in between only makes the test wait for the next one.
  const heightBefore = (await t.node.getBlockchainInfo()).blocks;
  const acceptedBefore = t.service.submitter.counters.accepted;
  const oldJob = solo.currentJobId as number;
  const oldPrev = solo.currentPrevHash as Uint8Array;

  await waitFor("a block accepted by the node", () => (t as TestService).service.submitter.counters.accepted > acceptedBefore, 25_000);
  const info = await t.node.getBlockchainInfo();
  expect(info.blocks).toBeGreaterThan(heightBefore);
  // Every miner moves to the new tip.
  await waitFor("every miner on the new block", () => miners.every((m) => m.currentPrevHash !== null && !equalBytes(m.currentPrevHash, oldPrev)), 10_000);
  // ...and all agree with the pool's tip (blocks keep coming at this difficulty, so poll for it).
  const pool = t.service.pool;
  await waitFor("every miner on the pool's tip", () => miners.every((m) => m.currentPrevHash !== null && pool.currentTip !== null && internalToDisplayHex(m.currentPrevHash) === internalToDisplayHex(pool.currentTip.prevHash)), 10_000);
  const blocks = t.service.ledger.listBlocks();
  expect(blocks.length).toBeGreaterThanOrEqual(1);
  expect(blocks.some((b) => b.status === "accepted")).toBe(true);

  // A share for the old block's job is stale now.
  const errors: string[] = [];
  solo.onMessage = (m) => {
    if (m.type === "SubmitSharesError") errors.push(m.errorCode);
  };
  solo.send({ type: "SubmitSharesStandard", channelId: solo.channelId as number, sequenceNumber: 999_999, jobId: oldJob, nonce: 1, ntime: Math.floor(Date.now() / 1000), version: 0x20000000 });
  await waitFor("the stale answer", () => errors.length > 0);
  expect(errors[0]).toBe("stale-share");
  // Workers show up in the statistics under their names.
  const names = t.service.pool.getWorkers().map((w) => w.name);
  expect(names).toContain("farm.group");
  expect(names).toContain("farm.solo");
  expect(names).toContain("farm.proxy");
});

test("a low nominal hashrate gets a target the miner meets within seconds", async () => {
  t = await startTestService({ mining: { min_difficulty: 1e-9, initial_difficulty: 1000 } }, { embeddedDifficulty: 1 });
  sv2 = await startTestSv2(t);
  const m = sv2.miner({ user: "farm.slow", nominalHashrate: 100_000 });
  miners.push(m);
  await m.start();
  await waitFor("a share accepted", () => m.stats.accepted >= 1, 15_000);
  const ch = t.service.pool.getChannel(m.channelId as number);
  expect(ch?.difficulty ?? 0).toBeLessThan(0.001);
});
