// SV2 binary codec benchmarks: whole plaintext frames (6-byte header + payload) of the hot-path
// messages, encoded from a message object and decoded back into one.
// Run directly: `bun bench/sv2.ts [--quick] [--json]`.
import { measure, printTable } from "./lib.ts";
import type { Measurement } from "./lib.ts";
import { decodeFrame, encodeFrame } from "../src/sv2/index.ts";
import type { Sv2Message } from "../src/sv2/index.ts";

function filled(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}

const submitStandard: Sv2Message = {
  type: "SubmitSharesStandard",
  channelId: 7,
  sequenceNumber: 123456,
  jobId: 42,
  nonce: 0xf0851cb8,
  ntime: 1698941362,
  version: 0x20000000,
};

const submitExtended: Sv2Message = { ...submitStandard, type: "SubmitSharesExtended", extranonce: filled(8, 0x5a) };

const newMiningJob: Sv2Message = { type: "NewMiningJob", channelId: 7, jobId: 43, minNtime: 1698941362, version: 0x20000000, merkleRoot: filled(32, 0x11) };

// A mainnet-sized extended job: 12 merkle branches (~3000 txs), stripped coinbase around the extranonce.
const newExtendedMiningJob: Sv2Message = {
  type: "NewExtendedMiningJob",
  channelId: 7,
  jobId: 44,
  minNtime: null,
  version: 0x20000000,
  versionRollingAllowed: true,
  merklePath: Array.from({ length: 12 }, (_, i) => filled(32, i)),
  coinbaseTxPrefix: filled(66, 0x02),
  coinbaseTxSuffix: filled(140, 0xff),
};

const setNewPrevHash: Sv2Message = { type: "SetNewPrevHash", channelId: 7, jobId: 44, prevHash: filled(32, 0x5b), minNtime: 1698941362, nbits: 0x17034219 };

const submitSuccess: Sv2Message = {
  type: "SubmitSharesSuccess",
  channelId: 7,
  lastSequenceNumber: 123456,
  newSubmitsAcceptedCount: 10,
  newSharesSum: 10240n,
};

const setTarget: Sv2Message = { type: "SetTarget", channelId: 7, maximumTarget: filled(32, 0xff) };

function ns(m: Measurement): number {
  return Math.round(m.nsPerOp * 10) / 10;
}

export async function run(opts: { quick?: boolean }): Promise<Record<string, number>> {
  const ms = opts.quick ? 150 : 1000;
  const rows: Measurement[] = [];
  const figures: Record<string, number> = {};
  const add = (key: string, label: string, fn: () => unknown): void => {
    const m = measure(label, fn, ms);
    rows.push(m);
    figures[key] = ns(m);
  };

  const standardFrame = encodeFrame(submitStandard);
  const extendedFrame = encodeFrame(submitExtended);
  const jobFrame = encodeFrame(newMiningJob);

  add("submit_shares_standard_encode_ns", "SubmitSharesStandard encodeFrame (30 B)", () => encodeFrame(submitStandard));
  add("submit_shares_standard_decode_ns", "SubmitSharesStandard decodeFrame", () => decodeFrame(standardFrame));
  add("submit_shares_extended_decode_ns", "SubmitSharesExtended decodeFrame (8 B extranonce)", () => decodeFrame(extendedFrame));
  add("submit_shares_success_encode_ns", "SubmitShares.Success encodeFrame", () => encodeFrame(submitSuccess));
  add("new_mining_job_encode_ns", "NewMiningJob encodeFrame", () => encodeFrame(newMiningJob));
  add("new_mining_job_decode_ns", "NewMiningJob decodeFrame", () => decodeFrame(jobFrame));
  add("new_extended_mining_job_encode_ns", "NewExtendedMiningJob encodeFrame (12 branches)", () => encodeFrame(newExtendedMiningJob));
  add("set_new_prev_hash_encode_ns", "SetNewPrevHash encodeFrame", () => encodeFrame(setNewPrevHash));
  add("set_target_encode_ns", "SetTarget encodeFrame", () => encodeFrame(setTarget));

  printTable(rows);
  return figures;
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
