/**
 * Synthetic mempool transactions for the embedded node: structurally valid, unique, a mix of legacy
 * (P2PKH-shaped) and segwit (P2WPKH-shaped) spends, some spending an output of an earlier one (so
 * templates carry `depends`), each with a fee. Their inputs spend outputs that exist nowhere and
 * their signatures are filler: they exist to give templates realistic sizes, fees and non-trivial
 * merkle paths, not to be verified. Pure and deterministic for a given salt.
 */
import { concatBytes } from "../bitcoin/bytes.ts";
import { sha256d } from "../bitcoin/hash.ts";
import type { Transaction } from "../bitcoin/tx.ts";

export interface SyntheticTx {
  tx: Transaction;
  /** Fee in satoshi (what Core's template reports; the inputs' values are fictional). */
  fee: number;
  /** Sigop cost as Core counts it for these shapes (legacy sigops × 4 + witness sigops). */
  sigops: number;
  /** Output 0 can be spent by a later synthetic transaction. */
  spendableValue: bigint;
}

/** An output of an earlier synthetic transaction to spend (internal-order txid). */
export interface SyntheticParent {
  txid: Uint8Array;
  vout: number;
  value: bigint;
}

const SIGHASH_ALL = 0x01;

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** Deterministic filler bytes for transaction `n`, purpose `tag`. */
function filler(salt: Uint8Array, n: number, tag: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (let block = 0; at < length; block++) {
    const h = sha256d(concatBytes(salt, le32(n), le32(tag), le32(block)));
    out.set(h.subarray(0, Math.min(32, length - at)), at);
    at += 32;
  }
  return out;
}

/** A DER-shaped ECDSA signature (71 bytes + sighash byte) and a compressed public key. */
function signatureAndKey(salt: Uint8Array, n: number): { sig: Uint8Array; pubkey: Uint8Array } {
  const r = filler(salt, n, 1, 32);
  const s = filler(salt, n, 2, 32);
  r[0] = (r[0] ?? 0) & 0x7f;
  s[0] = (s[0] ?? 0) & 0x7f;
  const sig = concatBytes(Uint8Array.of(0x30, 0x44, 0x02, 0x20), r, Uint8Array.of(0x02, 0x20), s, Uint8Array.of(SIGHASH_ALL));
  const pubkey = concatBytes(Uint8Array.of(0x02 + ((n & 1) as number)), filler(salt, n, 3, 32));
  return { sig, pubkey };
}

function p2pkh(hash20: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash20, Uint8Array.of(0x88, 0xac));
}

function p2wpkh(hash20: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x00, 0x14), hash20);
}

/**
 * Synthetic transaction number `n`. Odd numbers are segwit, even ones legacy; with `parent` it spends
 * that output, otherwise a fictional outpoint unique to (salt, n).
 */
export function syntheticTransaction(salt: Uint8Array, n: number, parent?: SyntheticParent): SyntheticTx {
  const segwit = n % 2 === 1;
  const { sig, pubkey } = signatureAndKey(salt, n);
  const prevTxid = parent?.txid ?? filler(salt, n, 0, 32);
  const prevVout = parent?.vout ?? n % 3;
  const inputValue = parent?.value ?? BigInt(1_000_000 + ((n * 7_919) % 9_000_000));
  // 1..4 sat/vB-ish fees that differ per transaction.
  const fee = 300 + ((n * 239) % 4_000);
  const outputs = 1 + (n % 2 === 0 ? 1 : n % 3 === 0 ? 1 : 0);
  const spendable = (inputValue - BigInt(fee)) / BigInt(outputs + 1);
  const outValues: bigint[] = [];
  for (let i = 0; i < outputs; i++) outValues.push(spendable);
  const change = inputValue - BigInt(fee) - spendable * BigInt(outputs);
  const scripts: Uint8Array[] = [];
  for (let i = 0; i <= outputs; i++) {
    const h = filler(salt, n, 10 + i, 20);
    scripts.push(segwit ? p2wpkh(h) : p2pkh(h));
  }
  const tx: Transaction = {
    version: 2,
    inputs: [
      {
        prevTxid,
        prevVout,
        scriptSig: segwit ? new Uint8Array(0) : concatBytes(Uint8Array.of(sig.length), sig, Uint8Array.of(pubkey.length), pubkey),
        sequence: 0xfffffffd,
        witness: segwit ? [sig, pubkey] : [],
      },
    ],
    outputs: [...outValues.map((value, i) => ({ value, script: scripts[i] as Uint8Array })), { value: change, script: scripts[outputs] as Uint8Array }],
    locktime: 0,
  };
  // Legacy counting sees OP_CHECKSIG in each P2PKH output (×4 as cost); a P2WPKH spend costs 1.
  const sigops = segwit ? 1 : 4 * (outputs + 1);
  return { tx, fee, sigops, spendableValue: spendable };
}
