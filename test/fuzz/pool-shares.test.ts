// Fuzzing the pool core's share path: StratumV2Pool.submitShare with random submissions (channel ids
// of this miner, of another miner and random; current, stale, future and random job ids; random
// nonces, ntime, version bits and extranonce lengths) interleaved with the events around it (new
// templates and tips, clock steps forwards and backwards, retargets, channel updates and closes).
// submitShare never throws and always answers a ShareResult; the other calls throw only
// StratumV2Error. Each iteration is one episode on a fresh pool (ManualClock), so it replays alone.
import { expect, test } from "bun:test";
import { MAX_TARGET, hashMeetsTarget } from "../../src/bitcoin/target.ts";
import { ManualClock } from "../../src/pool/clock.ts";
import type { Channel } from "../../src/pool/channel.ts";
import type { Job } from "../../src/pool/jobs.ts";
import { StratumV2Pool } from "../../src/pool/pool.ts";
import type { ShareResult, ShareSubmission } from "../../src/pool/share.ts";
import { parseGbtResult, templateFromGbt } from "../../src/pool/template.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { mineShare } from "../helpers/grind.ts";
import { fuzzCount, REPLAYING, runFuzz, type Prng } from "./lib.ts";
import { INTERESTING_U32 } from "./mutate.ts";

const FILE = "test/fuzz/pool-shares.test.ts";
const PAYOUT_SCRIPT = new Uint8Array([0x00, 0x14, ...new Array<number>(20).fill(0x11)]);
const GBT = readSharedJson<Record<string, unknown>>("bitcoin", "gbt", "regtest-ckpool", "four-txns", "gbt.json");
const REASONS = new Set([
  "invalid-channel-id",
  "stale-share",
  "invalid-job-id",
  "bad-extranonce-size",
  "invalid-share",
  "version-rolling-not-allowed",
  "invalid-non-rollable-version-bit",
  "difficulty-too-low",
  "duplicate-share",
  "rate-limited",
]);

interface Episode {
  seedOfEpisode: number;
  actions: number;
}

interface EpisodeState {
  clock: ManualClock;
  pool: StratumV2Pool;
  channels: Channel[];
  jobs: Job[];
  blocks: number;
  maxSeen: number;
}

function newEpisode(rng: Prng): EpisodeState {
  const clock = new ManualClock(1_747_976_802_000 + rng.int(1000) * 1000);
  const maxSeen = rng.pick([4, 1000]);
  const pool = new StratumV2Pool(
    {
      network: "regtest",
      payouts: [{ address: "test", percent: 100, script: PAYOUT_SCRIPT }],
      vardiff: { sharesPerMinute: 6, minDifficulty: 1e-10, maxDifficulty: 1e6, retargetAfterMs: 60_000, retargetAfterShares: 20, maxStepFactor: 4, tolerance: 0.3 },
      // Easy enough that random nonces are often accepted (and, with regtest bits, often blocks).
      initialDifficulty: rng.pick([1e-9, 1e-6, 1e-3]),
      maxJobsPerChannel: 2 + rng.int(6),
      maxSeenSharesPerJob: maxSeen,
      speculativeJobs: rng.bool(),
    },
    clock,
  );
  const state: EpisodeState = { clock, pool, channels: [], jobs: [], blocks: 0, maxSeen };
  pool.setListener({ blockFound: () => state.blocks++ });
  pool.registerMiner("m1");
  pool.registerMiner("m2");
  applyTemplate(state, rng, false);
  for (let k = 0; k < 2 + rng.int(4); k++) openChannel(state, rng);
  return state;
}

function applyTemplate(s: EpisodeState, rng: Prng, newTip: boolean): void {
  const overrides: Record<string, unknown> = { curtime: Math.floor(s.clock.nowMs() / 1000) - rng.int(100) };
  // Regtest bits make about every other share a block; mainnet-like bits almost never.
  if (rng.bool()) {
    overrides["bits"] = "1d00ffff";
    overrides["target"] = undefined;
  }
  if (newTip) {
    const prev = new Uint8Array(32);
    for (let k = 0; k < 32; k++) prev[k] = rng.int(256);
    overrides["previousblockhash"] = Array.from(prev, (b) => b.toString(16).padStart(2, "0")).join("");
    overrides["height"] = (GBT["height"] as number) + 1 + rng.int(3);
  }
  const change = s.pool.setTemplate(templateFromGbt(parseGbtResult({ ...GBT, ...overrides }), s.pool.allocateTemplateId()));
  s.jobs.push(change.job);
  if (change.speculative !== null) s.jobs.push(change.speculative);
  for (const ch of s.channels) {
    if (s.pool.getChannel(ch.id) !== ch) continue;
    s.pool.assignJob(ch, change.job, rng.bool());
    if (change.speculative !== null) s.pool.assignJob(ch, change.speculative, false);
  }
}

function openChannel(s: EpisodeState, rng: Prng): void {
  const endpoint = rng.int(5) === 0 ? "m2" : "m1";
  const req = { userIdentity: rng.pick(["farm.a", "farm.b"]), nominalHashrate: rng.pick([0, 1e9, 1e15]), maxTarget: MAX_TARGET, versionRollingAllowed: rng.int(5) !== 0 };
  const ch = rng.bool() ? s.pool.openStandardChannel(endpoint, req) : s.pool.openExtendedChannel(endpoint, { ...req, minExtranonceSize: rng.int(25) });
  const job = s.pool.currentJob;
  if (job !== null) s.pool.assignJob(ch, job, rng.bool());
  s.channels.push(ch);
}

function oddNumber(rng: Prng): number {
  return rng.pick([-1, 2 ** 32, 2 ** 53, Number.NaN, 1.5, -0]);
}

/** A random submission aimed mostly at real channels and jobs. */
function submission(s: EpisodeState, rng: Prng): ShareSubmission {
  const ch = s.channels.length > 0 ? rng.pick(s.channels) : undefined;
  const job = s.jobs.length > 0 ? rng.pick(s.jobs) : undefined;
  const k = rng.int(20);
  const channelId = ch !== undefined && k < 16 ? ch.id : k < 18 ? rng.pick(INTERESTING_U32) : rng.u32();
  const jobId = job !== undefined && rng.int(6) !== 0 ? job.id : rng.bool() ? rng.pick(INTERESTING_U32) : rng.u32();
  const base = job?.minNtime ?? job?.template.curtime ?? Math.floor(s.clock.nowMs() / 1000);
  const ntime = rng.int(4) === 0 ? rng.pick(INTERESTING_U32) : (base + rng.int(200) - 50) >>> 0;
  const version = rng.int(3) === 0 ? rng.u32() : ((job?.version ?? 0x20000000) | (rng.bool() ? rng.u32() & 0x1fffe000 : 0)) >>> 0;
  const sub: ShareSubmission = { channelId, sequenceNumber: rng.u32(), jobId, nonce: rng.u32(), ntime, version };
  const size = ch?.extranonceSize ?? 0;
  if (ch?.kind === "extended" || rng.int(6) === 0) sub.extranonce = rng.bytes(rng.int(4) === 0 ? rng.int(40) : size);
  // A few out-of-contract numbers (decoders only hand out u32s, but the core must not crash either).
  if (rng.int(40) === 0) sub[rng.pick(["nonce", "ntime", "version", "jobId", "channelId"] as const)] = oddNumber(rng);
  return sub;
}

function checkResult(r: ShareResult, sub: ShareSubmission, s: EpisodeState): string {
  if (r.ok) {
    if (!(r.difficulty > 0) || !Number.isFinite(r.difficulty)) throw new Error(`accepted share credited ${r.difficulty}`);
    if (r.hash.length !== 32) throw new Error("accepted share without a 32-byte hash");
    if (r.block !== null) {
      const job = s.jobs.find((j) => j.id === r.block?.jobId);
      if (job === undefined || !hashMeetsTarget(r.hash, job.targetLe)) throw new Error("a block that does not meet its job's target");
      return "accepted:block";
    }
    return "accepted";
  }
  if (!REASONS.has(r.reason)) throw new Error(`unknown reject reason ${r.reason} for ${JSON.stringify(sub)}`);
  return `rejected:${r.reason}`;
}

const N_EPISODES = fuzzCount(1_500);
const ACTIONS = 60;
test(`fuzz StratumV2Pool.submitShare: ${N_EPISODES} episodes x ${ACTIONS} actions (${N_EPISODES * ACTIONS} calls) never throw; only ShareResult rejects`, async () => {
  const totals = new Map<string, number>();
  const stats = await runFuzz<Episode>({
    name: "pool-submitShare",
    file: FILE,
    count: N_EPISODES,
    generate: (rng, i) => ({ input: { seedOfEpisode: rng.u32(), actions: ACTIONS + (i % 7) }, label: "episode" }),
    run: ({ actions }, rng) => {
      const s = newEpisode(rng);
      let accepted = 0;
      for (let a = 0; a < actions; a++) {
        const k = rng.int(40);
        // Events around shares: each may throw only typed errors (the harness classifies them).
        try {
          if (k === 0) applyTemplate(s, rng, rng.int(3) === 0);
          else if (k === 1) s.clock.advance(rng.pick([1000, 60_000, 3_600_000, -3_600_000, -60_000]));
          else if (k === 2) s.pool.tick();
          else if (k === 3) s.pool.cleanupOldJobs();
          else if (k === 4 && s.channels.length > 0) {
            const ch = rng.pick(s.channels);
            s.pool.updateChannel(rng.bool() ? ch.endpoint : "m2", ch.id, rng.pick([0, 1e6, 1e18, -1, Number.NaN]), rng.pick([MAX_TARGET, 0n, 1n, MAX_TARGET >> 200n]));
          } else if (k === 5 && s.channels.length > 0) s.pool.closeChannel(rng.bool() ? "m1" : "m2", rng.pick(s.channels).id);
          else if (k === 6) openChannel(s, rng);
          else if (k === 7 && s.channels.length > 0) s.pool.setChannelDifficulty(rng.pick(s.channels), rng.pick([1e-12, 1e-9, 1, 1e20, 0, -1]));
          else if (k === 8 && s.pool.speculativeJob !== null) {
            const prev = new Uint8Array(32).fill(rng.int(256));
            const t = s.pool.newTip(prev, s.pool.speculativeJob.template.height, rng.pick([0x207fffff, 0x1d00ffff, 0xffffffff, 0]), Math.floor(s.clock.nowMs() / 1000));
            if (t !== null) s.jobs.push(t.job);
          } else if (k === 9) {
            // A real share now and then, so the accept and block paths run too.
            // Only on easy channels: difficulty 1e-6 is about 4300 hashes.
            const ch = s.channels.find((c) => s.pool.getChannel(c.id) === c && c.difficulty <= 2e-6);
            const job = s.pool.currentJob;
            if (ch !== undefined && job !== null && job.prevHash !== null && ch.getJob(job.id) !== undefined) {
              const mined = mineShare(ch, job, { rolled: rng.bytes(ch.extranonceSize), startNonce: rng.u32() }).submission;
              const seenBefore = ch.getJob(job.id)?.seen?.size ?? 0;
              const r = s.pool.submitShare(ch.endpoint, mined);
              if (r.ok) accepted++;
              // The same share again is never credited twice (unless the job's seen-set was already
              // full). Usually it is a duplicate-share; a retarget after the first one may make it
              // difficulty-too-low first, which is as good.
              const again = s.pool.submitShare(ch.endpoint, mined);
              if (r.ok && seenBefore < s.maxSeen && again.ok) throw new Error("a resubmitted share was accepted again");
              const outcome = `resubmit:${checkResult(again, mined, s)}`;
              totals.set(outcome, (totals.get(outcome) ?? 0) + 1);
            }
          }
        } catch (e) {
          if (!(e instanceof StratumV2Error)) throw e;
          totals.set(`event-error:${e.kind}`, (totals.get(`event-error:${e.kind}`) ?? 0) + 1);
        }
        if (k >= 10) {
          const sub = submission(s, rng);
          const endpoint = rng.int(10) === 0 ? rng.pick(["m2", "ghost"]) : "m1";
          const outcome = checkResult(s.pool.submitShare(endpoint, sub), sub, s);
          totals.set(outcome, (totals.get(outcome) ?? 0) + 1);
        }
      }
      // The books balance: every submission was counted once.
      const ps = s.pool.getPoolStats();
      if (ps.acceptedShares + ps.rejectedShares !== ps.totalShares) throw new Error(`stats do not add up: ${JSON.stringify(ps)}`);
      return accepted > 0 || s.blocks > 0 ? "episode:accepted" : "episode";
    },
    classify: () => null,
    show: ({ actions }) => `episode of ${actions} actions (replay with the seed and iteration)`,
  });
  console.log(`        share outcomes: ${[...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_EPISODES);
  if (!REPLAYING) {
    expect(totals.get("accepted") ?? 0).toBeGreaterThan(0);
    expect(totals.get("accepted:block") ?? 0).toBeGreaterThan(0);
    expect(totals.get("resubmit:rejected:duplicate-share") ?? 0).toBeGreaterThan(0);
    for (const reason of ["invalid-channel-id", "invalid-job-id", "bad-extranonce-size", "invalid-share", "difficulty-too-low", "stale-share"]) {
      expect(totals.get(`rejected:${reason}`) ?? 0).toBeGreaterThan(0);
    }
  }
});
