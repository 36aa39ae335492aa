import { beforeEach, describe, expect, test } from "bun:test";
import { displayHexToInternal, equalBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { parseBlock } from "../../src/bitcoin/block.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import { merkleRoot } from "../../src/bitcoin/merkle.ts";
import { parseBip34Height } from "../../src/bitcoin/script.ts";
import { difficultyToTarget, MAX_TARGET, targetToDifficulty } from "../../src/bitcoin/target.ts";
import { txid } from "../../src/bitcoin/tx.ts";
import { ManualClock } from "../../src/pool/clock.ts";
import { StratumV2Pool, type PoolOptions } from "../../src/pool/pool.ts";
import type { FoundBlock } from "../../src/pool/share.ts";
import { parseGbtResult, templateFromGbt, type BlockTemplate } from "../../src/pool/template.ts";
import { readSharedJson } from "../helpers/shared.ts";
import { Block as BitcoinJsBlock } from "bitcoinjs-lib";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { mineShare } from "../helpers/grind.ts";

const PAYOUT_SCRIPT = new Uint8Array([0x00, 0x14, ...new Array<number>(20).fill(0x11)]);
/** Network difficulty for most tests: hard enough that a share at 1e-5 is (almost never) a block. */
const HARD_BITS = "1d00ffff";

function gbtFixture(): Record<string, unknown> {
  return readSharedJson<Record<string, unknown>>("bitcoin", "gbt", "regtest-ckpool", "four-txns", "gbt.json");
}

function template(pool: StratumV2Pool, overrides: Record<string, unknown> = {}): BlockTemplate {
  const gbt = parseGbtResult({ ...gbtFixture(), ...overrides });
  return templateFromGbt(gbt, pool.allocateTemplateId());
}

function newPool(clock: ManualClock, extra: Partial<PoolOptions> = {}): StratumV2Pool {
  return new StratumV2Pool(
    {
      network: "regtest",
      payouts: [{ address: "test", percent: 100, script: PAYOUT_SCRIPT }],
      vardiff: { sharesPerMinute: 6, minDifficulty: 1e-7, maxDifficulty: 1e6, retargetAfterMs: 60_000, retargetAfterShares: 20, maxStepFactor: 4, tolerance: 0.3 },
      initialDifficulty: 1e-5,
      ...extra,
    },
    clock,
  );
}

const OPEN = { userIdentity: "farm.rig1", nominalHashrate: 0, maxTarget: MAX_TARGET };

describe("StratumV2Pool shares", () => {
  let clock: ManualClock;
  let pool: StratumV2Pool;
  let blocks: FoundBlock[];

  beforeEach(() => {
    clock = new ManualClock(1_747_976_802_000);
    pool = newPool(clock);
    blocks = [];
    pool.setListener({ blockFound: (b) => blocks.push(b) });
    pool.registerMiner("m1");
    pool.registerMiner("m2");
  });

  function activeJob(channelKind: "standard" | "extended" = "standard") {
    const change = pool.setTemplate(template(pool, { bits: HARD_BITS, target: undefined }));
    const ch =
      channelKind === "standard"
        ? pool.openStandardChannel("m1", OPEN)
        : pool.openExtendedChannel("m1", { ...OPEN, minExtranonceSize: 4 });
    pool.assignJob(ch, change.job, true);
    return { ch, job: change.job };
  }

  test("a share mined on a standard channel is accepted and credited at the channel difficulty", () => {
    const { ch, job } = activeJob();
    const { submission, hash } = mineShare(ch, job);
    const r = pool.submitShare("m1", submission);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(equalBytes(r.hash, hash)).toBe(true);
    expect(r.difficulty).toBeCloseTo(ch.difficulty, 12);
    expect(r.block).toBeNull();
    expect(ch.stats.counters.accepted).toBe(1);
    expect(pool.getWorker("farm.rig1")?.counters.accepted).toBe(1);
    expect(pool.getPoolStats().acceptedShares).toBe(1);
  });

  test("a share on an extended channel rolls the extranonce and is accepted", () => {
    const { ch, job } = activeJob("extended");
    expect(ch.extranonceSize).toBe(4);
    const { submission } = mineShare(ch, job, { rolled: Uint8Array.of(1, 2, 3, 4) });
    expect(pool.submitShare("m1", submission).ok).toBe(true);
  });

  test("each rejection reason", () => {
    const { ch, job } = activeJob("extended");
    const good = mineShare(ch, job, { rolled: Uint8Array.of(9, 9, 9, 9) }).submission;
    const reason = (s: typeof good, endpoint = "m1"): string => {
      const r = pool.submitShare(endpoint, s);
      return r.ok ? "accepted" : r.reason;
    };
    expect(reason({ ...good, channelId: 999 })).toBe("invalid-channel-id");
    expect(reason(good, "m2")).toBe("invalid-channel-id");
    expect(reason({ ...good, jobId: 123456 })).toBe("invalid-job-id");
    expect(reason({ ...good, extranonce: Uint8Array.of(1, 2, 3) })).toBe("bad-extranonce-size");
    expect(reason({ ...good, ntime: job.template.mintime - 1 })).toBe("invalid-share");
    expect(reason({ ...good, ntime: Math.floor(clock.nowMs() / 1000) + 7201 })).toBe("invalid-share");
    expect(reason({ ...good, version: (job.version | 0x1) >>> 0 })).toBe("invalid-non-rollable-version-bit");
    const low = mineShare(ch, job, { want: false, rolled: Uint8Array.of(9, 9, 9, 9) }).submission;
    expect(reason(low)).toBe("difficulty-too-low");
    expect(reason(good)).toBe("accepted");
    expect(reason(good)).toBe("duplicate-share");
    const w = pool.getWorker("farm.rig1");
    expect(w?.counters.rejectedByReason["invalid-share"]).toBe(2);
    expect(w?.counters.rejectedByReason["duplicate-share"]).toBe(1);
    expect(w?.counters.accepted).toBe(1);
  });

  test("version rolling: BIP323 bits are accepted, and refused where rolling is not allowed", () => {
    const { ch, job } = activeJob("extended");
    const rolledVersion = (job.version | 0x1fffffe0) >>> 0;
    const s = mineShare(ch, job, { version: rolledVersion, rolled: Uint8Array.of(0, 0, 0, 7) }).submission;
    expect(pool.submitShare("m1", s).ok).toBe(true);
    ch.versionRollingAllowed = false;
    const s2 = mineShare(ch, job, { version: (job.version | 0x2000) >>> 0, rolled: Uint8Array.of(0, 0, 0, 8) }).submission;
    const r = pool.submitShare("m1", s2);
    expect(r.ok ? "accepted" : r.reason).toBe("version-rolling-not-allowed");
  });

  test("a share on the previous tip is stale after a new block", () => {
    const { ch, job } = activeJob();
    const share = mineShare(ch, job).submission;
    const next = pool.setTemplate(
      template(pool, {
        bits: HARD_BITS,
        target: undefined,
        previousblockhash: "11".repeat(32),
        height: 507,
      }),
    );
    expect(next.kind).toBe("new-tip");
    pool.assignJob(ch, next.job, true);
    const r = pool.submitShare("m1", share);
    expect(r.ok ? "accepted" : r.reason).toBe("stale-share");
    expect(pool.getPoolStats().staleShares).toBe(1);
  });

  test("a share meeting the network target is a block: full block assembled and reported", () => {
    const change = pool.setTemplate(template(pool)); // regtest bits 207fffff: about every other hash is a block
    const ch = pool.openStandardChannel("m1", OPEN);
    pool.assignJob(ch, change.job, true);
    const { submission } = mineShare(ch, change.job, { target: change.job.target });
    const r = pool.submitShare("m1", submission);
    expect(r.ok && r.block !== null).toBe(true);
    expect(blocks).toHaveLength(1);
    const found = blocks[0] as FoundBlock;
    const block = parseBlock(found.block);
    expect(block.transactions).toHaveLength(5);
    // Merkle root of the assembled block's txids equals the header's.
    expect(equalBytes(merkleRoot(block.transactions.map((t) => txid(t))), block.header.merkleRoot)).toBe(true);
    expect(internalToDisplayHex(sha256d(found.block.subarray(0, 80)))).toBe(found.hashHex);
    expect(found.prevHashHex).toBe(gbtFixture()["previousblockhash"] as string);
    const cb = block.transactions[0];
    expect(parseBip34Height(cb?.inputs[0]?.scriptSig ?? new Uint8Array())).toBe(506);
    const paid = cb?.outputs.reduce((s, o) => s + o.value, 0n);
    expect(paid).toBe(BigInt(gbtFixture()["coinbasevalue"] as number));
    expect(pool.getWorker("farm.rig1")?.counters.blocksFound).toBe(1);
    // An independent implementation agrees: merkle root, witness commitment and proof of work.
    const independent = BitcoinJsBlock.fromBuffer(Buffer.from(found.block));
    expect(independent.checkTxRoots()).toBe(true);
    expect(independent.checkProofOfWork()).toBe(true);
    expect(independent.getId()).toBe(found.hashHex);
  });

  test("a block mined through the pool is accepted by the embedded node, whose tip advances", async () => {
    const node = new EmbeddedNode({ mempoolTxs: 12 });
    const gbt = await node.getBlockTemplate();
    // The embedded node stamps templates with the real time; bring the pool's clock to it.
    clock.advance(gbt.curtime * 1000 - clock.nowMs());
    const change = pool.setTemplate(templateFromGbt(gbt, pool.allocateTemplateId()));
    const ch = pool.openExtendedChannel("m1", { ...OPEN, minExtranonceSize: 4 });
    pool.assignJob(ch, change.job, false);
    const { submission } = mineShare(ch, change.job, { target: change.job.target });
    const r = pool.submitShare("m1", submission);
    expect(r.ok && r.block !== null).toBe(true);
    const found = blocks[0] as FoundBlock;
    expect(BitcoinJsBlock.fromBuffer(Buffer.from(found.block)).checkTxRoots()).toBe(true);
    const answer = await node.submitBlock(Buffer.from(found.block).toString("hex"));
    expect(answer.accepted).toBe(true);
    expect(await node.getBestBlockHash()).toBe(found.hashHex);
    expect((await node.getBlockchainInfo()).blocks).toBe(1);
  });

  test("the seed API: openChannel, validateShare, hashLessThanOrEqual, calculateChannelTarget", () => {
    const target = pool.openChannel("m2", 77, 1);
    expect(internalToDisplayHex(displayHexToInternal("00000000ffff" + "0".repeat(52)))).toBe("00000000ffff" + "0".repeat(52));
    expect(Buffer.from(target).toString("hex")).toBe("00000000ffff" + "0".repeat(52));
    expect(pool.calculateChannelTarget(1)).toEqual(target);
    expect(pool.hashLessThanOrEqual(target, target)).toBe(true);
    const bigger = target.slice();
    bigger[31] = 1;
    expect(pool.hashLessThanOrEqual(target, bigger)).toBe(true);
    expect(pool.hashLessThanOrEqual(bigger, target)).toBe(false);
    expect(pool.getMiner("m2")?.channels.get(77)?.minDifficulty).toBeCloseTo(1, 9);
  });
});

describe("jobs", () => {
  test("the job ring per channel is bounded by maxJobsPerChannel", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock, { maxJobsPerChannel: 4 });
    pool.registerMiner("m");
    const ch = pool.openStandardChannel("m", OPEN);
    for (let i = 0; i < 50; i++) {
      const change = pool.setTemplate(template(pool, { curtime: 1_747_976_802 + i }));
      pool.assignJob(ch, change.job, false);
      if (change.speculative !== null) pool.assignJob(ch, change.speculative, false);
    }
    expect(ch.jobCount).toBe(4);
  });

  test("a new block costs one SetNewPrevHash: the speculative job is activated by newTip", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock);
    pool.registerMiner("m");
    const first = pool.setTemplate(template(pool));
    expect(first.speculative?.template.height).toBe(507);
    expect(first.speculative?.template.transactions).toHaveLength(0);
    const ch = pool.openStandardChannel("m", OPEN);
    pool.assignJob(ch, first.job, true);
    pool.assignJob(ch, first.speculative!, true);
    const newHash = displayHexToInternal("22".repeat(32));
    const tip = pool.newTip(newHash, 507, 0x207fffff, 1_747_976_900);
    expect(tip?.job.id).toBe(first.speculative!.id);
    // The old job is stale now; the speculative one is active and mineable.
    const stale = mineShare(ch, first.job, { target: MAX_TARGET });
    expect(stale.submission.jobId).toBe(first.job.id);
    const r = pool.submitShare("m", mineShare(ch, tip!.job).submission);
    expect(r.ok).toBe(true);
    // The full template for the same tip follows as an update.
    const full = pool.setTemplate(template(pool, { previousblockhash: "22".repeat(32), height: 507 }));
    expect(full.kind).toBe("update");
    expect(full.speculative?.template.height).toBe(508);
  });
});

describe("cleanupOldJobs", () => {
  test("drops jobs of the old tip once per tip change, and again after a job of another tip is assigned", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock);
    pool.registerMiner("m");
    const first = pool.setTemplate(template(pool));
    const a = pool.openStandardChannel("m", OPEN);
    const b = pool.openStandardChannel("m", { ...OPEN, userIdentity: "farm.rig2" });
    for (const ch of [a, b]) {
      pool.assignJob(ch, first.job, true);
      pool.assignJob(ch, first.speculative!, true);
    }
    // Same tip: nothing is dropped, however often it runs.
    expect(pool.cleanupOldJobs()).toBe(0);
    expect(a.jobCount).toBe(2);
    // The tip moves (the speculative job becomes active): the old job goes from both channels, once.
    pool.newTip(displayHexToInternal("22".repeat(32)), 507, 0x207fffff, 1_747_976_900);
    expect(pool.cleanupOldJobs()).toBe(2);
    expect([a.hasJob(first.job.id), b.hasJob(first.job.id), a.hasJob(first.speculative!.id)]).toEqual([false, false, true]);
    expect(pool.cleanupOldJobs()).toBe(0);
    // A fan-out still running when the tip moved hands out a job of the old tip: due again.
    pool.assignJob(a, first.job, true);
    expect(pool.cleanupOldJobs()).toBe(1);
    expect(a.hasJob(first.job.id)).toBe(false);
  });
});

describe("bounded memory", () => {
  test("workers without channels are forgotten past maxWorkers and after the idle period", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock, { maxWorkers: 100, idleWorkerForgetMs: 3600_000 });
    pool.registerMiner("m");
    const keep = pool.openStandardChannel("m", { ...OPEN, userIdentity: "farm.keeper" });
    for (let i = 0; i < 500; i++) {
      const ch = pool.openStandardChannel("m", { ...OPEN, userIdentity: `cycling.${i}` });
      pool.closeChannel("m", ch.id);
    }
    expect(pool.getWorkers().length).toBeLessThanOrEqual(100);
    // A worker with an open channel is never forgotten.
    expect(pool.getWorker("farm.keeper")).toBeDefined();
    clock.advance(2 * 3600_000);
    pool.tick();
    expect(pool.getWorkers().map((w) => w.name)).toEqual(["farm.keeper"]);
    expect(pool.getChannel(keep.id)).toBeDefined();
  });
});

describe("vardiff", () => {
  test("converges to the wanted share rate from a difficulty far too low, with real mined shares", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock, {
      initialDifficulty: 1e-9,
      vardiff: { sharesPerMinute: 6, minDifficulty: 1e-10, maxDifficulty: 1e6, retargetAfterMs: 60_000, retargetAfterShares: 20, maxStepFactor: 4, tolerance: 0.3 },
    });
    pool.registerMiner("m");
    const change = pool.setTemplate(template(pool, { bits: HARD_BITS, target: undefined }));
    const ch = pool.openStandardChannel("m", OPEN);
    pool.assignJob(ch, change.job, true);
    // Simulated miner: 500 H/s (small so the test hashes little). Each real share takes `tries`
    // hashes, i.e. tries / 500 seconds of simulated time.
    const hashrate = 500;
    const wanted = (hashrate * 10) / 2 ** 32; // difficulty for one share per 10 s
    let nonce = 0;
    let shares = 0;
    let targetChanges = 0;
    pool.setListener({ targetChanged: () => targetChanges++ });
    const startMs = clock.nowMs();
    while (clock.nowMs() - startMs < 20 * 60_000 && shares < 2000) {
      const { submission, tries } = mineShare(ch, change.job, { startNonce: nonce });
      nonce = (submission.nonce + 1) >>> 0;
      clock.advance((tries / hashrate) * 1000);
      const r = pool.submitShare("m", submission);
      if (r.ok) shares++;
      pool.tick();
    }
    expect(targetChanges).toBeGreaterThan(3);
    // Within a factor 2 of the ideal difficulty after 20 minutes of simulated mining.
    expect(ch.difficulty).toBeGreaterThan(wanted / 2);
    expect(ch.difficulty).toBeLessThan(wanted * 2);
  });

  test("a quiet channel is stepped down, never below the floor", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock, { initialDifficulty: 1000 });
    pool.registerMiner("m");
    const ch = pool.openStandardChannel("m", OPEN);
    const start = ch.difficulty;
    for (let i = 0; i < 200; i++) {
      clock.advance(60_000);
      pool.tick();
    }
    expect(ch.difficulty).toBeLessThan(start / 100);
    // The floor holds on the target itself (difficulty read back from a target rounds down).
    expect(ch.target).toBeLessThanOrEqual(difficultyToTarget(1e-7));
  });

  test("a pinned difficulty (min = max) never resends the same target, however fast shares come", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pinned = 1e-9;
    const pool = newPool(clock, {
      initialDifficulty: pinned,
      vardiff: { sharesPerMinute: 6, minDifficulty: pinned, maxDifficulty: pinned, retargetAfterMs: 60_000, retargetAfterShares: 20, maxStepFactor: 4, tolerance: 0.3 },
    });
    pool.registerMiner("m");
    const change = pool.setTemplate(template(pool, { bits: HARD_BITS, target: undefined }));
    const ch = pool.openStandardChannel("m", OPEN);
    pool.assignJob(ch, change.job, true);
    const target = ch.target;
    let targetChanges = 0;
    pool.setListener({ targetChanged: () => targetChanges++ });
    let nonce = 0;
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      const { submission } = mineShare(ch, change.job, { startNonce: nonce });
      nonce = (submission.nonce + 1) >>> 0;
      clock.advance(10); // 100 shares a second: vardiff wants a far higher difficulty than the pin
      if (pool.submitShare("m", submission).ok) accepted++;
    }
    clock.advance(10 * 60_000);
    pool.tick();
    expect(accepted).toBe(100);
    expect(targetChanges).toBe(0);
    expect(ch.target).toBe(target);
  });

  test("after two retargets in opposite directions, a share for the middle target is accepted for the grace period, then refused", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock, { retargetGraceMs: 10_000 });
    pool.registerMiner("m");
    const change = pool.setTemplate(template(pool, { bits: HARD_BITS, target: undefined }));
    const ch = pool.openStandardChannel("m", OPEN); // 1e-5: the job is issued at this target
    pool.assignJob(ch, change.job, true);
    const hard = ch.target;
    // Vardiff steps down (the device starts mining for the easy target at once), then back up.
    expect(ch.setDifficulty(1e-8, clock.nowMs() + 10_000)).toBe(true);
    const easy = ch.target;
    expect(ch.setDifficulty(1e-5, clock.nowMs() + 10_000)).toBe(true);
    expect(ch.target).toBe(hard);
    const leHashValue = (h: Uint8Array): bigint => BigInt(`0x${internalToDisplayHex(h)}`);
    const middleShare = (start: number) => {
      let nonce = start;
      for (;;) {
        const s = mineShare(ch, change.job, { target: easy, startNonce: nonce });
        if (leHashValue(s.hash) > hard) return s;
        nonce = (s.submission.nonce + 1) >>> 0;
      }
    };
    const first = middleShare(0);
    const r = pool.submitShare("m", first.submission);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.difficulty).toBeCloseTo(targetToDifficulty(easy), 12);
    clock.advance(10_001);
    const late = middleShare((first.submission.nonce + 1) >>> 0);
    const r2 = pool.submitShare("m", late.submission);
    expect(r2.ok ? "accepted" : r2.reason).toBe("difficulty-too-low");
  });

  test("the initial target follows the announced hashrate and respects max_target", () => {
    const clock = new ManualClock(1_747_976_802_000);
    const pool = newPool(clock);
    pool.registerMiner("m");
    const ch = pool.openStandardChannel("m", { ...OPEN, nominalHashrate: 1e6 });
    // 1 MH/s at 6 shares/min: about 10 M hashes per share.
    expect(ch.difficulty).toBeGreaterThan(0.0015);
    expect(ch.difficulty).toBeLessThan(0.003);
    const capped = pool.openStandardChannel("m", { ...OPEN, nominalHashrate: 0, maxTarget: difficultyToTarget(50) });
    expect(ch.target).toBeLessThanOrEqual(MAX_TARGET);
    expect(capped.target).toBeLessThanOrEqual(difficultyToTarget(50));
    expect(targetToDifficulty(capped.target)).toBeGreaterThanOrEqual(50 * 0.999999);
  });
});
