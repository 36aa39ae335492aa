/**
 * Jobs: one `Job` per template, shared by every channel.
 *
 * The channel's extranonce prefix sits inside the extranonce region at the end of the coinbase
 * scriptSig, so the coinbase prefix and suffix depend only on the template and on the total extranonce
 * length, not on the channel. One Job therefore serves all channels: extended channels get the same
 * NewExtendedMiningJob bytes (only channel_id differs), and a standard channel's merkle root is one
 * coinbase hash plus the merkle path away.
 */
import { concatBytes } from "../bitcoin/bytes.ts";
import { assembleCoinbase, buildCoinbaseParts, type CoinbaseParts } from "../bitcoin/coinbase.ts";
import { encodeCompactSize } from "../bitcoin/compactsize.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { bip34HeightScript } from "../bitcoin/script.ts";
import { targetToLeBytes } from "../bitcoin/target.ts";
import type { TxOut } from "../bitcoin/tx.ts";
import { payoutOutputs, type Payout } from "./payout.ts";
import type { BlockTemplate } from "./template.ts";

/** What the pool puts in every coinbase besides the template's own parts. */
export interface CoinbaseOptions {
  payouts: readonly Payout[];
  /** Bytes pushed after the BIP34 height (the pool's tag), may be empty. */
  tag: Uint8Array;
}

export type JobState = "future" | "active";

export class Job {
  /** `job_id` on the wire. Pool-wide and increasing, hence also unique per channel. */
  readonly id: number;
  readonly template: BlockTemplate;
  readonly version: number;
  readonly merklePath: readonly Uint8Array[];
  /** The prev hash this job was activated on; null while it is only a future job. */
  prevHash: Uint8Array | null = null;
  /** min_ntime once active (SetNewPrevHash or the job's own min_ntime). */
  minNtime: number | null = null;
  /** nBits of the block this job builds, as announced when it was activated. */
  bits: number;
  target: bigint;
  /** Network target as U256 little-endian, for the byte-wise hash comparison. */
  targetLe: Uint8Array;

  private readonly outputs: TxOut[];
  private readonly parts = new Map<number, CoinbaseParts>();
  /** Scratch buffers for the merkle fold, reused on the hot path (single-threaded). */
  private readonly pair = new Uint8Array(64);

  constructor(id: number, template: BlockTemplate, private readonly options: CoinbaseOptions) {
    this.id = id;
    this.template = template;
    this.version = template.version;
    this.merklePath = template.merklePath;
    this.bits = template.bits;
    this.target = template.target;
    this.targetLe = targetToLeBytes(template.target);
    this.outputs = payoutOutputs(template.coinbaseValue, options.payouts);
    if (template.witnessCommitmentScript !== null) {
      this.outputs.push({ value: 0n, script: template.witnessCommitmentScript });
    }
  }

  get state(): JobState {
    return this.prevHash === null ? "future" : "active";
  }

  activate(prevHash: Uint8Array, minNtime: number, bits: number, target: bigint): void {
    this.prevHash = prevHash;
    this.minNtime = minNtime;
    this.bits = bits;
    this.target = target;
    this.targetLe = targetToLeBytes(target);
  }

  /** Coinbase prefix/suffix for a total extranonce length (cached: few distinct lengths exist). */
  coinbase(extranonceLength: number): CoinbaseParts {
    let p = this.parts.get(extranonceLength);
    if (p === undefined) {
      const t = this.template;
      p = buildCoinbaseParts({
        version: 2,
        scriptSigPrefix: concatBytes(bip34HeightScript(t.height), t.coinbaseAux),
        tag: this.options.tag,
        extranonceLength,
        // BIP54-style coinbase (final today, required if the consensus cleanup activates):
        // nLockTime = height - 1 with a non-final sequence.
        sequence: 0xfffffffe,
        outputs: this.outputs,
        locktime: Math.max(0, t.height - 1),
        segwit: t.witnessCommitmentScript !== null,
      });
      this.parts.set(extranonceLength, p);
    }
    return p;
  }

  /** txid of the coinbase with this full extranonce (prefix ‖ rolled part). */
  coinbaseTxid(extranonce: Uint8Array): Uint8Array {
    const p = this.coinbase(extranonce.length);
    return sha256d(assembleCoinbase(p.prefix, extranonce, p.suffix));
  }

  /** Merkle root of the block whose coinbase carries this full extranonce. */
  merkleRoot(extranonce: Uint8Array): Uint8Array {
    let node = this.coinbaseTxid(extranonce);
    const pair = this.pair;
    for (const sibling of this.merklePath) {
      pair.set(node, 0);
      pair.set(sibling, 32);
      node = sha256d(pair);
    }
    return node;
  }

  /** The full block for a solved header: segwit coinbase (when the template needs it) and all txs. */
  assembleBlock(header: Uint8Array, extranonce: Uint8Array): Uint8Array {
    const p = this.coinbase(extranonce.length);
    const coinbase = assembleCoinbase(p.prefixWitness, extranonce, p.suffixWitness);
    const txs = this.template.transactions;
    const parts: Uint8Array[] = [header, encodeCompactSize(txs.length + 1), coinbase];
    for (const tx of txs) parts.push(tx.data);
    return concatBytes(...parts);
  }
}
