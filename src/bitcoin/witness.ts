/** BIP141 witness commitment in the coinbase. */
import { concatBytes, equalBytes } from "./bytes.ts";
import { sha256d } from "./hash.ts";
import { merkleRoot } from "./merkle.ts";
import type { Transaction } from "./tx.ts";

/** OP_RETURN, push 36, and the commitment header aa21a9ed. */
const COMMITMENT_HEAD = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/** Witness merkle root; the first entry is the coinbase, whose wtxid counts as zero (BIP141). */
export function witnessMerkleRoot(wtxids: readonly Uint8Array[]): Uint8Array {
  if (wtxids.length === 0) return merkleRoot([new Uint8Array(32)]);
  return merkleRoot([new Uint8Array(32), ...wtxids.slice(1)]);
}

/** SHA256d(witness root ‖ witness reserved value). */
export function witnessCommitment(witnessRoot: Uint8Array, reservedValue: Uint8Array = new Uint8Array(32)): Uint8Array {
  return sha256d(concatBytes(witnessRoot, reservedValue));
}

/** The commitment output's scriptPubKey (38 bytes). */
export function witnessCommitmentScript(commitment: Uint8Array): Uint8Array {
  return concatBytes(COMMITMENT_HEAD, commitment);
}

/** The commitment of a coinbase (the last matching output, as BIP141 says), or null. */
export function findWitnessCommitment(coinbase: Transaction): Uint8Array | null {
  for (let i = coinbase.outputs.length - 1; i >= 0; i--) {
    const s = (coinbase.outputs[i] as { script: Uint8Array }).script;
    if (s.length >= 38 && equalBytes(s.subarray(0, 6), COMMITMENT_HEAD)) return s.slice(6, 38);
  }
  return null;
}
