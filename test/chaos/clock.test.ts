// Chaos: the pool's wall clock jumps (an NTP step on the pool host) by +2 h, back, and by -2 h, while
// the node and the miners keep the true time. Nothing crashes, no miner is dropped, shares keep being
// accepted (or refused for their ntime when the pool's clock really makes them too new), and vardiff
// moves by at most one bounded step per retarget instead of going wild.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Sv2Miner } from "../../src/miner/sv2-miner.ts";
import type { Clock } from "../../src/pool/clock.ts";
import { ChaosCore } from "../helpers/chaos-core.ts";
import { everyMinerProgresses, metricValue, removeDir, startChaosPool, tempDir, until, type ChaosPool } from "../helpers/chaos-pool.ts";

/** The system clock plus an offset the test moves. */
class JumpClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

const HOUR = 3_600_000;
const clock = new JumpClock();
let core: ChaosCore;
let pool: ChaosPool;
let fleet: Sv2Miner[];
let dir: string;
/** Every difficulty each channel was given, in order. */
const targets = new Map<string, number[]>();

beforeAll(async () => {
  dir = tempDir("clock");
  core = await ChaosCore.start({ difficulty: 1e-4 });
  pool = await startChaosPool(core, { dataDir: dir, clock });
  // A step back in time makes vardiff take one ×4 step (see the report): miners fast enough to keep
  // answering quickly after a few of those.
  fleet = await pool.fleet(3, { maxHashrate: 8000, nominalHashrate: 8000 });
  await everyMinerProgresses(fleet, "before any jump");
});

afterAll(async () => {
  await pool.stop();
  await core.close();
  removeDir(dir);
});

function difficulties(): number[] {
  return fleet.map((m) => pool.running.service.pool.getChannel(m.channelId as number)?.difficulty ?? 0);
}

function disconnects(metrics: string): number {
  let n = 0;
  for (const line of metrics.split("\n")) if (line.startsWith("sv2pool_sv2_disconnects_total{")) n += Number(line.split(" ").pop());
  return n;
}

/** Runs `jump`, then checks the fleet over a few seconds: connected, mining, vardiff within one step each way. */
async function survive(what: string, jump: () => void): Promise<void> {
  const before = difficulties();
  const connects = fleet.map((m) => m.stats.connects);
  const reasonsBefore = fleet.map((m) => ({ ...m.stats.rejectReasons }));
  const acceptedBefore = fleet.map((m) => m.stats.accepted);
  jump();
  // Long enough for the idle sweep (every 250 ms), vardiff's idle tick (1 s) and a few retargets.
  await everyMinerProgresses(fleet, what);
  await Bun.sleep(1200);
  await everyMinerProgresses(fleet, what);
  const after = difficulties();
  let racing = 0;
  for (let i = 0; i < fleet.length; i++) {
    const m = fleet[i] as Sv2Miner;
    expect({ what, miner: i, connected: m.connected, connects: m.stats.connects }).toEqual({ what, miner: i, connected: true, connects: connects[i] as number });
    // The only refusals allowed: shares sent at the old target while a SetTarget raising the
    // difficulty was on its way, when vardiff reverses a step the jump caused (see the report; the
    // miner mines in bursts, so a handful can be in flight at once), and shares that crossed a block
    // the fleet found meanwhile (stale). Never an ntime reason, a rate limit, or a lost connection.
    const reasons = Object.entries(m.stats.rejectReasons)
      .map(([r, n]) => [r, n - ((reasonsBefore[i] as Record<string, number>)[r] ?? 0)] as const)
      .filter(([, n]) => n > 0);
    const accepted = m.stats.accepted - (acceptedBefore[i] as number);
    expect({ what, miner: i, refused: reasons.filter(([r, n]) => !(r === "difficulty-too-low" || r === "stale-share") || n * 4 > accepted) }).toEqual({ what, miner: i, refused: [] });
    racing += reasons.reduce((sum, [, n]) => sum + n, 0);
    // A retarget moves by at most 4× (maxStepFactor); a few of them may have happened.
    const ratio = (after[i] as number) / (before[i] as number);
    expect({ what, miner: i, withinBounds: ratio >= 1 / 64 && ratio <= 64 }).toEqual({ what, miner: i, withinBounds: true });
  }
  const spread = after.map((d, i) => (d / (before[i] as number)).toFixed(2)).join(" ");
  console.log(`[chaos] clock ${what}: every miner connected and accepted; difficulty ratios after/before ${spread}; refusals (racing SetTarget or stale) ${racing}`);
}

test("the pool's clock jumps 2 h ahead: no miner dropped, shares accepted, vardiff bounded", async () => {
  await survive("+2 h", () => (clock.offsetMs = 2 * HOUR));
  expect(disconnects(await pool.metrics())).toBe(0);
});

test("the clock steps back to the true time: the same", async () => {
  await survive("back to true time", () => (clock.offsetMs = 0));
  expect(disconnects(await pool.metrics())).toBe(0);
});

test("the pool's clock jumps 2 h behind: shares still accepted (ntime equal to the pool's now + 2 h is allowed), no rate-limit lockout", async () => {
  await survive("-2 h", () => (clock.offsetMs = -2 * HOUR));
  expect(disconnects(await pool.metrics())).toBe(0);
});

test("behind by more than 2 h, the miners' ntime is too new for the pool: refused as invalid-share, accepted again once the clock is right", async () => {
  clock.offsetMs = -2 * HOUR - 10 * 60_000;
  await until("ntime refusals", () => fleet.every((m) => (m.stats.rejectReasons["invalid-share"] ?? 0) > 0), 10_000);
  const shares = await pool.metrics();
  expect(metricValue(shares, 'sv2pool_shares_total{result="invalid-share"}') ?? 0).toBeGreaterThan(0);
  expect(pool.logs.some((r) => r.level === "error" && r.msg.includes("failed"))).toBe(false);
  clock.offsetMs = 0;
  const refused = fleet.map((m) => m.stats.rejected);
  await everyMinerProgresses(fleet, "clock right again");
  await everyMinerProgresses(fleet, "clock right again");
  // Nothing refused any more once the shares sent under the wrong clock were answered.
  const late = fleet.map((m, i) => m.stats.rejected - (refused[i] as number));
  expect(late.every((n) => n <= 2)).toBe(true);
  for (const m of fleet) expect(m.connected).toBe(true);
  expect(disconnects(await pool.metrics())).toBe(0);
});

test("a block found while the clock is 2 h ahead is valid for the node", async () => {
  clock.offsetMs = 2 * HOUR;
  // A new tip learnt while the clock is off: its job's min_ntime comes from the pool's clock.
  const mined = await core.node.mineBlock();
  await until("the pool on the new tip", () => (pool.running.service.pool.currentTip?.height ?? 0) >= mined.height + 1, 5_000);
  const before = core.chainSubmissions.length;
  const finder = pool.miner({ user: "farm.finder", nominalHashrate: 200_000 });
  await finder.start();
  await until("a block submitted", () => core.chainSubmissions.length > before, 20_000);
  finder.stop();
  const answer = (core.chainSubmissions[before] as { answer: string | null }).answer;
  clock.offsetMs = 0;
  expect(answer === null || answer === "inconclusive" ? "valid" : answer).toBe("valid");
  for (const m of fleet) expect(m.connected).toBe(true);
}, 30_000);
