// The SV2 reference implementation's job and share vectors (../shared/sv2/vectors): rebuild each
// coinbase with our builder, compare the NewExtendedMiningJob prefix/suffix byte-exact, then
// follow the share through txid, merkle root, header, hash, channel target and the verdict.
// Also the BIP141 stripping vectors.
import { describe, expect, test } from "bun:test";
import { bytesToHex, concatBytes, hexToBytes, internalToDisplayHex, readU64LE } from "../../src/bitcoin/bytes.ts";
import { readCompactSize } from "../../src/bitcoin/compactsize.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import { assembleCoinbase, buildCoinbaseParts, stripBip141, sv2CoinbaseTag, MAX_COINBASE_SCRIPTSIG, type CoinbaseParts } from "../../src/bitcoin/coinbase.ts";
import { parseTransaction, serializeTransaction, txid, wtxid, type TxOut } from "../../src/bitcoin/tx.ts";
import { coinbaseMerklePath, merkleRootFromPath } from "../../src/bitcoin/merkle.ts";
import { headerHash, serializeHeader } from "../../src/bitcoin/header.ts";
import { hashMeetsTarget, hashrateToTarget, nbitsToTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { findWitnessCommitment, witnessCommitment, witnessMerkleRoot } from "../../src/bitcoin/witness.ts";
import { parseBip34Height } from "../../src/bitcoin/script.ts";
import { StratumV2Error } from "../../src/errors.ts";
import { readSharedJson } from "../helpers/shared.ts";

interface NewTemplateVector {
  template_id: number;
  future_template: boolean;
  version: number;
  coinbase_tx_version: number;
  coinbase_prefix_hex: string;
  coinbase_tx_input_sequence: number;
  coinbase_tx_value_remaining: number;
  coinbase_tx_outputs_count: number;
  coinbase_tx_outputs_hex: string;
  coinbase_tx_locktime: number;
  merkle_path: string[];
}

interface CaseInputs {
  new_template: NewTemplateVector;
  pool_reward_outputs: { value_sat: number; script_pubkey_hex: string }[];
  pool_tag: string | null;
  miner_tag: string | null;
  extranonce_prefix_hex: string;
  full_extranonce_size?: number;
  rollable_extranonce_size?: number;
  nominal_hash_rate?: number;
  shares_per_minute?: number;
  channel_id?: number;
  version_rolling_allowed?: boolean;
  chain_tip?: { prev_hash_u256_wire_hex: string; nbits: number; min_ntime: number };
  share?: { channel_id: number; sequence_number: number; job_id: number; nonce: number; ntime: number; version: number; extranonce?: string };
}

interface JobCase {
  name: string;
  origin: string;
  channel_type?: "standard" | "extended";
  inputs: CaseInputs;
  expected: Record<string, unknown>;
}

type JobsFile = [{ about: string }, ...JobCase[]];

const jobsFile = readSharedJson<JobsFile>("sv2", "vectors", "sri_jobs_and_shares.json");
const [about, ...cases] = jobsFile;

function str(expected: Record<string, unknown>, key: string): string {
  const v = expected[key];
  if (typeof v !== "string") throw new Error(`vector field ${key} is not a string`);
  return v;
}

/** NewTemplate.coinbase_tx_outputs: `count` outputs, each value u64 LE + CompactSize script. */
function parseOutputs(hex: string, count: number): TxOut[] {
  const buf = hexToBytes(hex);
  const outs: TxOut[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    const value = readU64LE(buf, p);
    p += 8;
    const len = readCompactSize(buf, p);
    p += len.size;
    outs.push({ value, script: buf.slice(p, p + len.value) });
    p += len.value;
  }
  if (p !== buf.length) throw new Error(`outputs hex has ${buf.length - p} trailing bytes`);
  return outs;
}

function fullExtranonceSize(c: JobCase): number {
  const i = c.inputs;
  if (i.full_extranonce_size !== undefined) return i.full_extranonce_size;
  return hexToBytes(i.extranonce_prefix_hex).length + (i.rollable_extranonce_size ?? 0);
}

function outputsOf(c: JobCase): TxOut[] {
  const t = c.inputs.new_template;
  return [
    ...c.inputs.pool_reward_outputs.map((o) => ({ value: BigInt(o.value_sat), script: hexToBytes(o.script_pubkey_hex) })),
    ...parseOutputs(t.coinbase_tx_outputs_hex, t.coinbase_tx_outputs_count),
  ];
}

function build(c: JobCase): CoinbaseParts {
  const t = c.inputs.new_template;
  const outputs = outputsOf(c);
  return buildCoinbaseParts({
    version: t.coinbase_tx_version,
    scriptSigPrefix: hexToBytes(t.coinbase_prefix_hex),
    tag: sv2CoinbaseTag(c.inputs.pool_tag ?? "", c.inputs.miner_tag ?? ""),
    extranonceLength: fullExtranonceSize(c),
    sequence: t.coinbase_tx_input_sequence,
    outputs,
    locktime: t.coinbase_tx_locktime,
    // A witness commitment output among the template's outputs means a segwit coinbase.
    segwit: findWitnessCommitment({ version: 2, inputs: [], outputs, locktime: 0 }) !== null,
  });
}

/** The full extranonce a share commits to: the channel prefix plus the miner's rolled part. */
function extranonceOf(c: JobCase): Uint8Array {
  return concatBytes(hexToBytes(c.inputs.extranonce_prefix_hex), hexToBytes(c.inputs.share?.extranonce ?? ""));
}

test("the vector file has its about entry and the four SRI cases", () => {
  expect(about.about.length).toBeGreaterThan(0);
  expect(cases.map((c) => c.name)).toEqual([
    "sri_jobfactory_new_extended_job",
    "sri_standard_share_block_found",
    "sri_standard_share_valid",
    "sri_extended_share_valid",
  ]);
});

describe("sri_jobfactory_new_extended_job", () => {
  const c = cases.find((x) => x.name === "sri_jobfactory_new_extended_job") as JobCase;
  const job = c.expected["NewExtendedMiningJob"] as {
    channel_id: number;
    job_id: number;
    min_ntime: number | null;
    version: number;
    version_rolling_allowed: boolean;
    merkle_path: string[];
    coinbase_tx_prefix_hex: string;
    coinbase_tx_suffix_hex: string;
  };

  test("tag is Sv2/<pool tag>/<miner tag>/", () => {
    expect(bytesToHex(sv2CoinbaseTag("Stratum V2 SRI Pool"))).toBe("5376322f5374726174756d2056322053524920506f6f6c2f2f");
    expect(new TextDecoder().decode(sv2CoinbaseTag(c.inputs.pool_tag ?? "", c.inputs.miner_tag ?? ""))).toBe("Sv2/Stratum V2 SRI Pool//");
  });

  test("coinbase prefix/suffix (stripped) equal NewExtendedMiningJob byte-exact", () => {
    const parts = build(c);
    expect(bytesToHex(parts.prefix)).toBe(job.coinbase_tx_prefix_hex);
    expect(bytesToHex(parts.suffix)).toBe(job.coinbase_tx_suffix_hex);
    // The prefix ends with OP_PUSHBYTES_32, the suffix starts with the input's nSequence.
    expect(parts.prefix[parts.prefix.length - 1]).toBe(32);
    expect(bytesToHex(parts.suffix.subarray(0, 4))).toBe("ffffffff");
  });

  test("with-BIP141 forms equal the derived vectors, and stripBip141 undoes them", () => {
    const parts = build(c);
    expect(bytesToHex(parts.prefixWitness)).toBe(str(c.expected, "derived_coinbase_tx_prefix_with_bip141_hex"));
    expect(bytesToHex(parts.suffixWitness)).toBe(str(c.expected, "derived_coinbase_tx_suffix_with_bip141_hex"));
    const stripped = stripBip141(parts.prefixWitness, parts.suffixWitness);
    expect(stripped === null ? null : [bytesToHex(stripped.prefix), bytesToHex(stripped.suffix)]).toEqual([job.coinbase_tx_prefix_hex, job.coinbase_tx_suffix_hex]);
    expect(stripBip141(parts.prefix, parts.suffix)).toBeNull();
  });

  test("job fields: version, empty merkle path, the channel's extranonce fits the scriptSig", () => {
    const t = c.inputs.new_template;
    expect(job.version).toBe(t.version);
    expect(job.channel_id).toBe(c.inputs.channel_id ?? -1);
    expect(job.version_rolling_allowed).toBe(c.inputs.version_rolling_allowed ?? false);
    expect(job.min_ntime).toBeNull();
    expect(t.future_template).toBe(true);
    expect(coinbaseMerklePath(t.merkle_path.map(hexToBytes))).toEqual([]);
    expect(job.merkle_path).toEqual(t.merkle_path);
    // A full coinbase with the channel's extranonce prefix and a zero rollable part parses.
    const parts = build(c);
    const prefix = hexToBytes(c.inputs.extranonce_prefix_hex);
    const extranonce = concatBytes(prefix, new Uint8Array(fullExtranonceSize(c) - prefix.length));
    const tx = parseTransaction(assembleCoinbase(parts.prefixWitness, extranonce, parts.suffixWitness));
    const scriptSig = tx.inputs[0]?.scriptSig ?? new Uint8Array(0);
    expect(scriptSig.length).toBe(0x3d);
    expect(parseBip34Height(scriptSig)).toBe(2); // "5200": OP_2 then OP_0
    expect(bytesToHex(scriptSig.subarray(scriptSig.length - 32))).toBe(bytesToHex(extranonce));
    expect(tx.outputs.reduce((s, o) => s + o.value, 0n)).toBe(BigInt(t.coinbase_tx_value_remaining));
  });

  test("the template's commitment is that of a block with only the coinbase", () => {
    const parts = build(c);
    const extranonce = new Uint8Array(fullExtranonceSize(c));
    const tx = parseTransaction(assembleCoinbase(parts.prefixWitness, extranonce, parts.suffixWitness));
    const found = findWitnessCommitment(tx);
    expect(found === null ? "" : bytesToHex(found)).toBe(bytesToHex(witnessCommitment(witnessMerkleRoot([wtxid(tx)]))));
    expect(bytesToHex(witnessCommitment(witnessMerkleRoot([wtxid(tx)])))).toBe("e2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9");
  });
});

const shareCases = cases.filter((c) => c.inputs.share !== undefined);

test("three share cases (two standard, one extended)", () => {
  expect(shareCases.map((c) => c.channel_type)).toEqual(["standard", "standard", "extended"]);
});

for (const c of shareCases) {
  describe(c.name, () => {
    const share = c.inputs.share as NonNullable<CaseInputs["share"]>;
    const tip = c.inputs.chain_tip as NonNullable<CaseInputs["chain_tip"]>;
    const e = c.expected;

    test("coinbase prefix/suffix, stripped and with BIP141", () => {
      const parts = build(c);
      expect(bytesToHex(parts.prefix)).toBe(str(e, "coinbase_tx_prefix_stripped_hex"));
      expect(bytesToHex(parts.suffix)).toBe(str(e, "coinbase_tx_suffix_stripped_hex"));
      expect(bytesToHex(parts.prefixWitness)).toBe(str(e, "coinbase_tx_prefix_with_bip141_hex"));
      expect(bytesToHex(parts.suffixWitness)).toBe(str(e, "coinbase_tx_suffix_with_bip141_hex"));
      const stripped = stripBip141(parts.prefixWitness, parts.suffixWitness);
      expect(stripped === null ? null : bytesToHex(stripped.suffix)).toBe(str(e, "coinbase_tx_suffix_stripped_hex"));
    });

    test("full coinbase and its txid", () => {
      const parts = build(c);
      const extranonce = extranonceOf(c);
      expect(extranonce.length).toBe(fullExtranonceSize(c));
      const full = assembleCoinbase(parts.prefixWitness, extranonce, parts.suffixWitness);
      expect(bytesToHex(full)).toBe(str(e, "coinbase_tx_full_segwit_hex"));
      const strippedTx = assembleCoinbase(parts.prefix, extranonce, parts.suffix);
      expect(bytesToHex(sha256d(strippedTx))).toBe(str(e, "coinbase_txid_internal_hex"));
      const tx = parseTransaction(full);
      expect(bytesToHex(txid(tx))).toBe(str(e, "coinbase_txid_internal_hex"));
      expect(bytesToHex(serializeTransaction(tx, false))).toBe(bytesToHex(strippedTx));
      expect(tx.inputs[0]?.witness.map(bytesToHex)).toEqual(["00".repeat(32)]);
      // BIP34 height from the template's scriptSig prefix; Core sets locktime = height - 1.
      const height = parseBip34Height(tx.inputs[0]?.scriptSig ?? new Uint8Array(0));
      if (c.inputs.new_template.coinbase_prefix_hex === "029f0000") {
        expect(height).toBe(159);
        expect(tx.locktime).toBe(158);
      } else {
        expect(height).toBe(2);
      }
    });

    test("merkle root, 80-byte header, block hash", () => {
      const parts = build(c);
      const cbTxid = sha256d(assembleCoinbase(parts.prefix, extranonceOf(c), parts.suffix));
      const root = merkleRootFromPath(cbTxid, c.inputs.new_template.merkle_path.map(hexToBytes));
      expect(bytesToHex(root)).toBe(str(e, "merkle_root_internal_hex"));
      if (e["NewMiningJob.merkle_root_u256_wire_hex"] !== undefined) expect(bytesToHex(root)).toBe(str(e, "NewMiningJob.merkle_root_u256_wire_hex"));
      expect(share.ntime).toBeGreaterThanOrEqual(tip.min_ntime);
      const header = serializeHeader({
        version: share.version,
        prevHash: hexToBytes(tip.prev_hash_u256_wire_hex),
        merkleRoot: root,
        time: share.ntime,
        bits: tip.nbits,
        nonce: share.nonce,
      });
      expect(bytesToHex(header)).toBe(str(e, "header_80_hex"));
      expect(internalToDisplayHex(headerHash(header))).toBe(str(e, "block_hash_display_hex"));
    });

    test("channel target from nominal hashrate, network target from nBits", () => {
      const target = hashrateToTarget(c.inputs.nominal_hash_rate ?? 0, c.inputs.shares_per_minute ?? 0);
      expect(target.toString(16).padStart(64, "0")).toBe(str(e, "channel_target_be_hex"));
      expect(bytesToHex(targetToLeBytes(target))).toBe(str(e, "channel_target_u256_wire_le_hex"));
      expect(nbitsToTarget(tip.nbits).toString(16).padStart(64, "0")).toBe(str(e, "network_target_be_hex"));
    });

    test("verdict: block found / valid share", () => {
      const hash = headerHash(hexToBytes(str(e, "header_80_hex")));
      const network = targetToLeBytes(nbitsToTarget(tip.nbits));
      const channel = targetToLeBytes(hashrateToTarget(c.inputs.nominal_hash_rate ?? 0, c.inputs.shares_per_minute ?? 0));
      const verdict = hashMeetsTarget(hash, network) ? "block_found" : hashMeetsTarget(hash, channel) ? "valid_share" : "invalid_share";
      expect(verdict).toBe(str(e, "result"));
      // One nonce later the same job is (almost surely) not a share any more at this difficulty.
      if (verdict === "valid_share") {
        const h2 = headerHash(serializeHeader({ version: share.version, prevHash: hexToBytes(tip.prev_hash_u256_wire_hex), merkleRoot: hexToBytes(str(e, "merkle_root_internal_hex")), time: share.ntime, bits: tip.nbits, nonce: share.nonce + 1 }));
        expect(hashMeetsTarget(h2, channel)).toBe(false);
      }
    });
  });
}

describe("coinbase builder limits", () => {
  const c = cases[0] as JobCase;
  test("scriptSig over 100 bytes, or under 2, is a TemplateError", () => {
    const base = {
      version: 2,
      scriptSigPrefix: hexToBytes("5200"),
      tag: new Uint8Array(0),
      extranonceLength: 32,
      sequence: 0xffffffff,
      outputs: outputsOf(c),
      locktime: 0,
      segwit: true,
    };
    // 2 + (1 + 64) + 1 + 32 = 100: the limit itself is fine.
    const atLimit = buildCoinbaseParts({ ...base, tag: new Uint8Array(64) });
    expect(atLimit.prefix[41]).toBe(MAX_COINBASE_SCRIPTSIG);
    let err: unknown = null;
    try {
      buildCoinbaseParts({ ...base, tag: new Uint8Array(65) });
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(StratumV2Error);
    expect((err as StratumV2Error).kind).toBe("TemplateError");
    expect(() => buildCoinbaseParts({ ...base, scriptSigPrefix: Uint8Array.of(0x51), extranonceLength: 0 })).toThrow(StratumV2Error);
    expect(() => buildCoinbaseParts({ ...base, extranonceLength: 76 })).toThrow(StratumV2Error);
    expect(() => buildCoinbaseParts({ ...base, extranonceLength: -1 })).toThrow(StratumV2Error);
    // Without segwit the witness forms are the stripped ones.
    const legacy = buildCoinbaseParts({ ...base, segwit: false });
    expect(bytesToHex(legacy.prefixWitness)).toBe(bytesToHex(legacy.prefix));
    expect(bytesToHex(legacy.suffixWitness)).toBe(bytesToHex(legacy.suffix));
  });
});

interface StripCase {
  name: string;
  origin?: string;
  description: string;
  coinbase_tx_prefix_hex?: string;
  coinbase_tx_suffix_hex?: string;
  already_stripped?: boolean;
  expected_stripped_prefix_hex?: string;
  expected_stripped_suffix_hex?: string;
}

describe("sri_bip141_strip.json", () => {
  const stripCases = readSharedJson<StripCase[]>("sv2", "vectors", "sri_bip141_strip.json");

  test("the file holds three pairs and the rule", () => {
    expect(stripCases.map((s) => s.name)).toEqual([
      "test_try_strip_bip141_sri_stripped",
      "test_try_strip_bip141_braiins",
      "test_try_strip_bip141_sri_not_yet_stripped",
      "strip_rule",
    ]);
  });

  for (const s of stripCases.filter((x) => x.coinbase_tx_prefix_hex !== undefined)) {
    test(s.name, () => {
      const prefix = hexToBytes(s.coinbase_tx_prefix_hex ?? "");
      const suffix = hexToBytes(s.coinbase_tx_suffix_hex ?? "");
      const out = stripBip141(prefix, suffix);
      if (s.already_stripped === true) {
        expect(out).toBeNull();
        return;
      }
      expect(out === null ? null : [bytesToHex(out.prefix), bytesToHex(out.suffix)]).toEqual([s.expected_stripped_prefix_hex ?? "", s.expected_stripped_suffix_hex ?? ""]);
      // Stripping the stripped form is a no-op (null).
      if (out !== null) expect(stripBip141(out.prefix, out.suffix)).toBeNull();
    });
  }

  test("strip_rule: remove prefix[4..6] and the 34 witness bytes before the locktime", () => {
    const rule = stripCases.find((x) => x.name === "strip_rule") as StripCase;
    expect(rule.description).toContain("prefix[4]==0x00");
    const pairs: [Uint8Array, Uint8Array][] = stripCases
      .filter((x) => x.already_stripped === false)
      .map((x) => [hexToBytes(x.coinbase_tx_prefix_hex ?? ""), hexToBytes(x.coinbase_tx_suffix_hex ?? "")]);
    // Every with-BIP141 pair this suite builds from the SRI job vectors follows the same rule.
    for (const c of cases) {
      const parts = build(c);
      pairs.push([parts.prefixWitness, parts.suffixWitness]);
    }
    expect(pairs.length).toBe(5);
    for (const [prefix, suffix] of pairs) {
      expect(prefix[4]).toBe(0x00);
      expect(prefix[5]).not.toBe(0x00);
      const byRule = {
        prefix: bytesToHex(concatBytes(prefix.subarray(0, 4), prefix.subarray(6))),
        suffix: bytesToHex(concatBytes(suffix.subarray(0, suffix.length - 38), suffix.subarray(suffix.length - 4))),
      };
      const removed = bytesToHex(suffix.subarray(suffix.length - 38, suffix.length - 4));
      expect(removed).toBe("0120" + "00".repeat(32));
      const out = stripBip141(prefix, suffix);
      expect(out === null ? null : { prefix: bytesToHex(out.prefix), suffix: bytesToHex(out.suffix) }).toEqual(byRule);
    }
    // Already-stripped pairs have the input count (0x01) at prefix[4].
    for (const x of stripCases.filter((y) => y.already_stripped === true)) expect(hexToBytes(x.coinbase_tx_prefix_hex ?? "")[4]).toBe(0x01);
  });
});
