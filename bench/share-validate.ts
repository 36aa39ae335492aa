/**
 * The pool core's share path alone, in-process: StratumV2Pool.submitShare on a real channel and a
 * real job built from the embedded node's template (mempool of synthetic transactions, so the
 * extended channel folds a real merkle path). No sockets, no Noise, no codec.
 *
 *  - share_validate_ns: standard channel, share ACCEPTED (difficulty pinned at 1e-10, so every
 *    distinct nonce meets the target): lookups, ntime/version checks, header build, sha256d, three
 *    target compares, duplicate check, crediting stats of channel/worker/miner/pool, vardiff record.
 *  - share_validate_reject_ns: the same share against a difficulty it misses: the whole validation
 *    up to and including the hash, then the rejection (no crediting).
 *  - share_validate_extended_ns: extended channel, accepted: adds the coinbase + merkle-path fold.
 */
import { MAX_TARGET } from "../src/bitcoin/target.ts";
import { resolveConfig } from "../src/config.ts";
import { EmbeddedNode } from "../src/node/embedded.ts";
import { systemClock } from "../src/pool/clock.ts";
import { StratumV2Pool } from "../src/pool/pool.ts";
import type { ShareSubmission } from "../src/pool/share.ts";
import { templateFromGbt } from "../src/pool/template.ts";
import { measure, printTable, type Measurement } from "./lib.ts";

function makePool(difficulty: number): StratumV2Pool {
  const config = resolveConfig({ "": { data_dir: ":memory:" } });
  return new StratumV2Pool(
    {
      network: "regtest",
      payouts: config.payout.payouts,
      vardiff: { sharesPerMinute: 6, minDifficulty: difficulty, maxDifficulty: difficulty, retargetAfterMs: 60_000, retargetAfterShares: 20, maxStepFactor: 4, tolerance: 0.3 },
      initialDifficulty: difficulty,
    },
    systemClock,
  );
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const ms = opts.quick ? 300 : 1500;
  // Network difficulty 1e6: a random share is never a block, so no block assembly in the loop.
  const node = new EmbeddedNode({ difficulty: 1e6, mempoolTxs: 2000 });
  const gbt = await node.getBlockTemplate();
  node.close();
  const rows: Measurement[] = [];
  const figures: Record<string, number> = {};

  const bench = (key: string, label: string, kind: "standard" | "extended", difficulty: number): void => {
    const pool = makePool(difficulty);
    const template = templateFromGbt(gbt, pool.allocateTemplateId());
    const change = pool.setTemplate(template);
    const endpoint = "bench#1";
    pool.registerMiner(endpoint);
    const req = { userIdentity: "farm.rig1", nominalHashrate: 0, maxTarget: MAX_TARGET };
    const ch = kind === "standard" ? pool.openStandardChannel(endpoint, req) : pool.openExtendedChannel(endpoint, { ...req, minExtranonceSize: 8 });
    pool.assignJob(ch, change.job, kind === "standard");
    const job = change.job;
    const share: ShareSubmission = { channelId: ch.id, sequenceNumber: 0, jobId: job.id, nonce: 0, ntime: job.minNtime ?? template.curtime, version: job.version };
    if (kind === "extended") share.extranonce = new Uint8Array(8);
    let nonce = 0;
    let wrong = 0;
    const expectOk = difficulty < 1;
    const m = measure(label, () => {
      share.nonce = nonce = (nonce + 1) >>> 0;
      share.sequenceNumber = nonce;
      const r = pool.submitShare(endpoint, share);
      if (r.ok !== expectOk) wrong++;
      return r;
    }, ms);
    if (wrong > 0) process.stderr.write(`share-validate ${key}: ${wrong} shares did not get the expected result\n`);
    rows.push(m);
    figures[key] = Math.round(m.nsPerOp);
  };

  bench("share_validate_ns", "submitShare, standard channel, accepted", "standard", 1e-10);
  bench("share_validate_reject_ns", "submitShare, standard channel, below target (rejected)", "standard", 1e12);
  bench("share_validate_extended_ns", `submitShare, extended channel, accepted (${gbt.transactions.length} tx merkle path)`, "extended", 1e-10);
  printTable(rows);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
