// Recorded getblocktemplate answers (../shared/bitcoin/gbt) and the Stratum V1 jobs/shares other
// pools built from them: every template's transactions, txids, wtxids, witness commitment, target
// and coinbase value; ckpool's merkle branches; and p2poolv2's coinbases, headers and block
// hashes rebuilt with our primitives. Every file under gbt/ is read by some test (the last test
// checks this, so it relies on bun running a file's tests in order).
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { bytesToHex, concatBytes, displayHexToInternal, hexToBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { coinbaseMerklePath, merkleRoot, merkleRootFromPath } from "../../src/bitcoin/merkle.ts";
import { hasWitness, parseTransaction, serializeTransaction, txid, wtxid, type Transaction } from "../../src/bitcoin/tx.ts";
import { findWitnessCommitment, witnessCommitment, witnessCommitmentScript, witnessMerkleRoot } from "../../src/bitcoin/witness.ts";
import { hashMeetsTarget, nbitsToTarget, targetToLeBytes, targetToNbits } from "../../src/bitcoin/target.ts";
import { headerHash, serializeHeader } from "../../src/bitcoin/header.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import { parseBip34Height } from "../../src/bitcoin/script.ts";
import { blockSubsidy } from "../../src/bitcoin/subsidy.ts";
import { NETWORKS } from "../../src/bitcoin/network.ts";
import { readSharedJson, sharedPath } from "../helpers/shared.ts";

const GBT_DIR = sharedPath("bitcoin", "gbt");
const filesRead = new Set<string>();

/** Reads a JSON file under gbt/ and records that a test used it. */
function readGbt<T>(path: string): T {
  filesRead.add(path);
  return readSharedJson<T>("bitcoin", "gbt", ...path.split("/"));
}

interface GbtTx {
  data: string;
  txid?: string;
  hash: string;
  fee: number;
  weight?: number;
}

interface Gbt {
  version: number;
  previousblockhash: string;
  transactions: GbtTx[];
  coinbasevalue: number;
  target: string;
  bits: string;
  height: number;
  curtime: number;
  mintime: number;
  default_witness_commitment?: string;
  rules?: string[];
  signet_challenge?: string;
}

interface Notify {
  params: [string, string, string, string, string[], string, string, string, boolean];
}

interface Submit {
  params: string[];
}

interface IndexFile {
  mainnet: string;
  files: { file: string; network: string; self_consistent?: boolean; notes: string; height?: number; heights?: number[] }[];
}

const index = readGbt<IndexFile>("index.json");

/** Stratum V1 prevhash: the internal-order hash with each 4-byte word byte-swapped. */
function stratumPrevHashToInternal(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  const out = new Uint8Array(32);
  for (let w = 0; w < 8; w++) for (let i = 0; i < 4; i++) out[w * 4 + i] = b[w * 4 + 3 - i] as number;
  return out;
}

interface Parsed {
  txs: Transaction[];
  txids: Uint8Array[];
  wtxids: Uint8Array[];
}

function parseTemplate(gbt: Gbt): Parsed {
  const txs = gbt.transactions.map((t) => parseTransaction(hexToBytes(t.data)));
  return { txs, txids: txs.map(txid), wtxids: txs.map(wtxid) };
}

/** Checks that hold for every recorded template, consistent or trimmed. */
function checkTemplateBasics(gbt: Gbt, txCount: number): Parsed {
  const p = parseTemplate(gbt);
  expect(p.txs.length).toBe(txCount);
  gbt.transactions.forEach((t, i) => {
    const tx = p.txs[i] as Transaction;
    expect(bytesToHex(serializeTransaction(tx))).toBe(t.data);
    // Core before 0.13 had no "txid" field; "hash" was the txid then.
    expect(internalToDisplayHex(p.txids[i] as Uint8Array)).toBe(t.txid ?? t.hash);
    expect(internalToDisplayHex(p.wtxids[i] as Uint8Array)).toBe(t.hash);
    if (t.weight !== undefined) expect(serializeTransaction(tx, false).length * 3 + serializeTransaction(tx).length).toBe(t.weight);
  });
  const bits = Number.parseInt(gbt.bits, 16);
  expect(nbitsToTarget(bits).toString(16).padStart(64, "0")).toBe(gbt.target);
  expect(targetToNbits(nbitsToTarget(bits))).toBe(bits);
  // The coinbase path over these txids folds back to the full tree's root for any coinbase.
  const fakeCoinbase = new Uint8Array(32).fill(0x5a);
  const path = coinbaseMerklePath(p.txids);
  expect(bytesToHex(merkleRootFromPath(fakeCoinbase, path))).toBe(bytesToHex(merkleRoot([fakeCoinbase, ...p.txids])));
  return p;
}

function expectedCommitmentScript(p: Parsed): string {
  return bytesToHex(witnessCommitmentScript(witnessCommitment(witnessMerkleRoot([new Uint8Array(32), ...p.wtxids]))));
}

function feeTotal(gbt: Gbt): number {
  return gbt.transactions.reduce((s, t) => s + t.fee, 0);
}

test("index.json describes the recordings and says there is no mainnet GBT", () => {
  expect(index.mainnet).toContain("No recorded MAINNET getblocktemplate");
  expect(index.files.map((f) => f.file)).toEqual([
    "testnet3/898487-btcpool.json",
    "testnet3/1038222-btcpool.json",
    "testnet3/2442185-public-pool.json",
    "testnet3/2442185-public-pool-stratum-session.json",
    "signet-p2poolv2/108-gbt-no-transactions.json",
    "signet-p2poolv2/956-gbt-with-transactions.json",
    "signet-p2poolv2/stratum/{a,b,with_version_rolling}/*.json",
    "regtest-ckpool/{one-txn,two-txns,three-txns,four-txns}/{gbt.json,notify.json}",
  ]);
});

describe("testnet3", () => {
  const testnet = NETWORKS.testnet.halvingInterval;

  test("898487-btcpool: Core 0.12 template (trimmed: coinbasevalue exceeds subsidy + listed fee)", () => {
    const gbt = readGbt<{ result: Gbt }>("testnet3/898487-btcpool.json").result;
    expect(gbt.height).toBe(898487);
    const p = checkTemplateBasics(gbt, 1);
    expect(gbt.transactions[0]?.txid).toBeUndefined();
    expect(p.txs.some(hasWitness)).toBe(false);
    expect(gbt.default_witness_commitment).toBeUndefined();
    expect(blockSubsidy(gbt.height, testnet)).toBe(312500000n);
    expect(feeTotal(gbt)).toBe(10000);
    // As index.json says: 312659655 = 312500000 + 159655, but only one 10000-sat tx is listed.
    expect(gbt.coinbasevalue - Number(blockSubsidy(gbt.height, testnet)) - feeTotal(gbt)).toBe(149655);
  });

  test("1038222-btcpool: segwit-era template (trimmed: commitment and coinbasevalue do not match the listed txs)", () => {
    const gbt = readGbt<{ result: Gbt }>("testnet3/1038222-btcpool.json").result;
    expect(gbt.height).toBe(1038222);
    expect(gbt.bits).toBe("1a171448");
    const p = checkTemplateBasics(gbt, 3);
    expect(p.txs.some(hasWitness)).toBe(false);
    const dwc = gbt.default_witness_commitment ?? "";
    expect(dwc.startsWith("6a24aa21a9ed842a6d66")).toBe(true);
    expect(dwc.length).toBe(76);
    expect(expectedCommitmentScript(p)).not.toBe(dwc);
    expect(gbt.coinbasevalue - Number(blockSubsidy(gbt.height, testnet)) - feeTotal(gbt)).toBe(6790118);
  });

  test("2442185-public-pool: complete template (txids, wtxids, commitment, coinbasevalue)", () => {
    const gbt = readGbt<Gbt>("testnet3/2442185-public-pool.json");
    expect(gbt.height).toBe(2442185);
    const p = checkTemplateBasics(gbt, 5);
    expect(p.txs.filter(hasWitness).length).toBe(3);
    expect(expectedCommitmentScript(p)).toBe(gbt.default_witness_commitment ?? "");
    expect(blockSubsidy(gbt.height, testnet)).toBe(2441406n);
    expect(feeTotal(gbt)).toBe(24311);
    expect(BigInt(gbt.coinbasevalue)).toBe(blockSubsidy(gbt.height, testnet) + BigInt(feeTotal(gbt)));
  });

  test("2442185-public-pool stratum session: the Bitaxe's messages are well-formed for that template", () => {
    const gbt = readGbt<Gbt>("testnet3/2442185-public-pool.json");
    const s = readGbt<{
      extra_nonce: string;
      mining_subscribe: { method: string; params: string[] };
      mining_configure: { method: string; params: [string[], Record<string, string>] };
      mining_authorize: { method: string; params: string[] };
      mining_suggest_difficulty: { method: string; params: number[] };
      mining_submit: { method: string; params: string[] };
      time: string;
    }>("testnet3/2442185-public-pool-stratum-session.json");
    expect(hexToBytes(s.extra_nonce).length).toBe(4);
    expect(s.mining_subscribe.method).toBe("mining.subscribe");
    expect(s.mining_configure.params[1]["version-rolling.mask"]).toBe("ffffffff");
    expect(s.mining_authorize.params[0]?.startsWith("tb1q")).toBe(true);
    expect(s.mining_suggest_difficulty.params).toEqual([512]);
    const [worker, jobId, extranonce2, ntime, nonce, versionBits] = s.mining_submit.params;
    expect(worker).toBe(s.mining_authorize.params[0] as string);
    expect(jobId).toBe("1");
    expect(hexToBytes(extranonce2 ?? "").length).toBe(4);
    expect(ntime).toBe(s.time);
    expect(hexToBytes(nonce ?? "").length).toBe(4);
    expect(versionBits).toBe("00002000");
    // The share's time lies inside the template's window (mintime .. curtime + 2 h).
    const t = Number.parseInt(ntime ?? "", 16);
    expect(t).toBe(1689514988);
    expect(t).toBeGreaterThanOrEqual(gbt.mintime);
    expect(t).toBeLessThanOrEqual(gbt.curtime + 7200);
  });
});

describe("signet (p2poolv2, challenge 51)", () => {
  const signet = NETWORKS.signet.halvingInterval;

  test("108: empty template, the well-known empty-block commitment", () => {
    const gbt = readGbt<Gbt>("signet-p2poolv2/108-gbt-no-transactions.json");
    const p = checkTemplateBasics(gbt, 0);
    expect(gbt.signet_challenge).toBe("51");
    expect(coinbaseMerklePath(p.txids)).toEqual([]);
    expect(expectedCommitmentScript(p)).toBe("6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9");
    expect(gbt.default_witness_commitment).toBe(expectedCommitmentScript(p));
    expect(BigInt(gbt.coinbasevalue)).toBe(blockSubsidy(gbt.height, signet));
  });

  test("956: four segwit transactions, commitment and coinbasevalue", () => {
    const gbt = readGbt<Gbt>("signet-p2poolv2/956-gbt-with-transactions.json");
    const p = checkTemplateBasics(gbt, 4);
    expect(p.txs.filter(hasWitness).length).toBe(4);
    expect(expectedCommitmentScript(p)).toBe(gbt.default_witness_commitment ?? "");
    expect(feeTotal(gbt)).toBe(56400);
    expect(BigInt(gbt.coinbasevalue)).toBe(blockSubsidy(gbt.height, signet) + 56400n);
  });

  const stratumCases: { dir: string; height: number; hash: string | null; mined: string | null }[] = [
    // index.json gives this hash for "a" (its source has no result.json).
    { dir: "a", height: 157, hash: null, mined: "00000000848122e3a6c318528787230e74dc9dc9624b0cb7957df018e941fec8" },
    { dir: "b", height: 123, hash: "result.json", mined: null },
    { dir: "with_version_rolling", height: 316, hash: "result.json", mined: null },
  ];

  for (const sc of stratumCases) {
    test(`stratum/${sc.dir}: coinbase, merkle branches, header and block hash rebuilt from notify + submit`, () => {
      const base = `signet-p2poolv2/stratum/${sc.dir}`;
      const gbt = readGbt<Gbt>(`${base}/template.json`);
      const auth = readGbt<{ result: [unknown, string, number] }>(`${base}/authorize_response.json`);
      const notify = readGbt<Notify>(`${base}/notify.json`);
      const submit = readGbt<Submit>(`${base}/submit.json`);
      const p = checkTemplateBasics(gbt, 0);
      expect(gbt.height).toBe(sc.height);

      const [jobId, prevhash, coinb1, coinb2, branches, versionHex, nbitsHex, notifyTime] = notify.params;
      expect(branches).toEqual(coinbaseMerklePath(p.txids).map(bytesToHex));
      expect(bytesToHex(stratumPrevHashToInternal(prevhash))).toBe(bytesToHex(displayHexToInternal(gbt.previousblockhash)));
      expect(Number.parseInt(versionHex, 16)).toBe(gbt.version);
      expect(nbitsHex).toBe(gbt.bits);

      const [, extranonce1, extranonce2Size] = auth.result;
      const [, submitJob, extranonce2, ntime, nonce, versionBits] = submit.params;
      expect(submitJob).toBe(jobId);
      expect(hexToBytes(extranonce2 ?? "").length).toBe(extranonce2Size);
      expect(ntime).toBe(notifyTime);
      const coinbaseBytes = concatBytes(hexToBytes(coinb1), hexToBytes(extranonce1), hexToBytes(extranonce2 ?? ""), hexToBytes(coinb2));
      const coinbase = parseTransaction(coinbaseBytes);
      expect(parseBip34Height(coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0))).toBe(gbt.height);
      expect(coinbase.outputs.reduce((s, o) => s + o.value, 0n)).toBe(BigInt(gbt.coinbasevalue));
      const commitment = findWitnessCommitment(coinbase);
      expect(commitment === null ? "" : bytesToHex(witnessCommitmentScript(commitment))).toBe(gbt.default_witness_commitment ?? "");

      let version = Number.parseInt(versionHex, 16);
      if (versionBits !== undefined) {
        const vr = readGbt<{ response: { result: Record<string, unknown> } }>(`${base}/version_rolling.json`);
        expect(vr.response.result["version-rolling"]).toBe(true);
        const mask = Number.parseInt(String(vr.response.result["version-rolling.mask"]), 16);
        expect(mask).toBe(0x1fffe000);
        version = ((version & ~mask) | (Number.parseInt(versionBits, 16) & mask)) >>> 0;
        expect(version).toBe(0x283ac000);
      }
      const root = merkleRootFromPath(txid(coinbase), branches.map(hexToBytes));
      // No branches: the root is the txid, i.e. sha256d of the (witness-free) V1 coinbase bytes.
      expect(bytesToHex(root)).toBe(bytesToHex(sha256d(coinbaseBytes)));
      const header = serializeHeader({
        version,
        prevHash: stratumPrevHashToInternal(prevhash),
        merkleRoot: root,
        time: Number.parseInt(ntime ?? "", 16),
        bits: Number.parseInt(nbitsHex, 16),
        nonce: Number.parseInt(nonce ?? "", 16),
      });
      const hash = headerHash(header);
      const expected = sc.hash !== null ? readGbt<{ hash: string }>(`${base}/${sc.hash}`).hash : (sc.mined as string);
      expect(internalToDisplayHex(hash)).toBe(expected);
      if (sc.hash === null) expect(index.files.some((f) => f.notes.includes(expected))).toBe(true);
      // Each is a block solution at the signet target.
      expect(hashMeetsTarget(hash, targetToLeBytes(nbitsToTarget(Number.parseInt(gbt.bits, 16))))).toBe(true);
    });
  }
});

describe("regtest (ckpool notify for each GBT)", () => {
  const regtest = NETWORKS.regtest.halvingInterval;
  const pairs: { dir: string; height: number; txs: number; branches: number }[] = [
    { dir: "one-txn", height: 505, txs: 1, branches: 1 },
    { dir: "two-txns", height: 504, txs: 2, branches: 2 },
    { dir: "three-txns", height: 503, txs: 3, branches: 2 },
    { dir: "four-txns", height: 506, txs: 4, branches: 3 },
  ];

  for (const pair of pairs) {
    test(`${pair.dir}: coinbaseMerklePath of the GBT txids equals ckpool's branches; coinbase and root`, () => {
      const gbt = readGbt<Gbt>(`regtest-ckpool/${pair.dir}/gbt.json`);
      const notify = readGbt<Notify>(`regtest-ckpool/${pair.dir}/notify.json`);
      expect(gbt.height).toBe(pair.height);
      const p = checkTemplateBasics(gbt, pair.txs);
      expect(expectedCommitmentScript(p)).toBe(gbt.default_witness_commitment ?? "");
      expect(BigInt(gbt.coinbasevalue)).toBe(blockSubsidy(gbt.height, regtest) + BigInt(feeTotal(gbt)));

      const [, prevhash, coinb1, coinb2, branches, versionHex, nbitsHex, ntime, clean] = notify.params;
      // The txids as RPC prints them, turned to internal order, give exactly ckpool's branches.
      const path = coinbaseMerklePath(gbt.transactions.map((t) => displayHexToInternal(t.txid ?? t.hash)));
      expect(path.map(bytesToHex)).toEqual(branches);
      expect(branches.length).toBe(pair.branches);
      expect(bytesToHex(stratumPrevHashToInternal(prevhash))).toBe(bytesToHex(displayHexToInternal(gbt.previousblockhash)));
      expect(Number.parseInt(versionHex, 16)).toBe(gbt.version);
      expect(nbitsHex).toBe(gbt.bits);
      expect(clean).toBe(true);
      expect(Number.isInteger(Number.parseInt(ntime, 16))).toBe(true);
      expect(coinb2).toContain(gbt.default_witness_commitment ?? "-");

      // coinb1 ends with the push opcode of the extranonce (extranonce1 + extranonce2).
      const b1 = hexToBytes(coinb1);
      const extranonceLength = b1[b1.length - 1] as number;
      expect(extranonceLength).toBe(12);
      const coinbaseBytes = concatBytes(b1, new Uint8Array(extranonceLength), hexToBytes(coinb2));
      const coinbase = parseTransaction(coinbaseBytes);
      expect(parseBip34Height(coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0))).toBe(gbt.height);
      expect(coinbase.outputs.reduce((s, o) => s + o.value, 0n)).toBe(BigInt(gbt.coinbasevalue));
      const cbTxid = txid(coinbase);
      const root = merkleRootFromPath(cbTxid, branches.map(hexToBytes));
      expect(bytesToHex(root)).toBe(bytesToHex(merkleRoot([cbTxid, ...p.txids])));
    });
  }
});

test("every file under gbt/ is read by a test above", () => {
  const all: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else all.push(relative(GBT_DIR, full).split("\\").join("/"));
    }
  };
  walk(GBT_DIR);
  expect(all.length).toBe(30);
  expect(all.filter((f) => !filesRead.has(f)).sort()).toEqual([]);
});
