// Channel life cycle over the wire: UpdateChannel answers with SetTarget (or UpdateChannel.Error),
// CloseChannel ends a channel's shares, vardiff sends SetTarget to a live miner, and a graceful
// stop sends Reconnect.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { difficultyToTarget, leBytesToTarget, MAX_TARGET, targetToDifficulty, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startTestSv2, waitFor, type TestSv2 } from "../helpers/sv2.ts";
import { RawSv2Client } from "../helpers/sv2-raw.ts";

let t: TestService;
let sv2: TestSv2;
let c: RawSv2Client;

beforeEach(async () => {
  t = await startTestService({ mining: { min_difficulty: 1e-8, initial_difficulty: 1e-6, shares_per_minute: 60 } }, { embeddedDifficulty: 10 });
  sv2 = await startTestSv2(t);
  c = new RawSv2Client(sv2.identity.authorityPublicKey);
  await c.connect(sv2.port);
  await c.setup(MiningSetupFlags.REQUIRES_STANDARD_JOBS);
});

afterEach(async () => {
  c.close();
  await t.service.stop("test over", 200);
});

async function openChannel(hashrate = 0): Promise<number> {
  c.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "farm.ch", nominalHashRate: hashrate, maxTarget: targetToLeBytes(MAX_TARGET) });
  const ok = await c.next((m) => m.type === "OpenStandardMiningChannelSuccess");
  return ok.type === "OpenStandardMiningChannelSuccess" ? ok.channelId : -1;
}

test("UpdateChannel with a new hashrate and max target is answered by SetTarget within the max target", async () => {
  const id = await openChannel();
  const maxTarget = difficultyToTarget(0.5);
  c.send({ type: "UpdateChannel", channelId: id, nominalHashRate: 1e9, maximumTarget: targetToLeBytes(maxTarget) });
  const st = await c.next((m) => m.type === "SetTarget");
  if (st.type !== "SetTarget") throw new Error("no SetTarget");
  expect(st.channelId).toBe(id);
  const target = leBytesToTarget(st.maximumTarget);
  expect(target <= maxTarget).toBe(true);
  // 1 GH/s at 60 shares/min: difficulty about 1e9 / 2^32 ≈ 0.23, raised to 0.5 by the max target.
  expect(targetToDifficulty(target)).toBeCloseTo(0.5, 3);
});

test("UpdateChannel on a channel that is not ours gets UpdateChannel.Error", async () => {
  c.send({ type: "UpdateChannel", channelId: 424242, nominalHashRate: 1e6, maximumTarget: targetToLeBytes(MAX_TARGET) });
  const e = await c.next((m) => m.type === "UpdateChannelError");
  expect(e).toMatchObject({ channelId: 424242, errorCode: "invalid-channel-id" });
});

test("after CloseChannel the channel's shares are refused and the pool forgets it", async () => {
  const id = await openChannel();
  const job = await c.next((m) => m.type === "NewMiningJob");
  expect(t.service.pool.getChannel(id)).toBeDefined();
  c.send({ type: "CloseChannel", channelId: id, reasonCode: "bye" });
  await waitFor("channel closed", () => t.service.pool.getChannel(id) === undefined);
  c.send({ type: "SubmitSharesStandard", channelId: id, sequenceNumber: 1, jobId: job.type === "NewMiningJob" ? job.jobId : 0, nonce: 0, ntime: Math.floor(Date.now() / 1000), version: 0x20000000 });
  expect(await c.next((m) => m.type === "SubmitSharesError")).toMatchObject({ errorCode: "invalid-channel-id" });
});

test("vardiff raises a fast miner's difficulty with SetTarget", async () => {
  const m = sv2.miner({ user: "farm.fast", requireStandardJobs: true });
  const targets: bigint[] = [];
  m.onMessage = (msg) => {
    if (msg.type === "SetTarget") targets.push(leBytesToTarget(msg.maximumTarget));
  };
  await m.start();
  const first = leBytesToTarget(m.targetLe);
  // 20 shares close a vardiff window; at 1e-6 a CPU miner finds them in well under a second.
  await waitFor("a SetTarget from vardiff", () => targets.length > 0, 15_000);
  m.stop();
  expect(targets[0] as bigint).toBeLessThan(first);
});

test("a graceful stop sends Reconnect before closing", async () => {
  await openChannel();
  await t.service.stop("maintenance", 200);
  expect(await c.next((m) => m.type === "Reconnect")).toMatchObject({ newHost: "", newPort: 0 });
  await c.closedPromise;
});
