/** Bitcoin merkle trees over txids (internal byte order), and the coinbase's merkle path. */
import { sha256d } from "./hash.ts";

function hashPair(scratch: Uint8Array, left: Uint8Array, right: Uint8Array): Uint8Array {
  scratch.set(left, 0);
  scratch.set(right, 32);
  return sha256d(scratch);
}

/** Merkle root of a non-empty list (the last node of an odd level is paired with itself). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32);
  const scratch = new Uint8Array(64);
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array;
      next.push(hashPair(scratch, left, level[i + 1] ?? left));
    }
    level = next;
  }
  return (level[0] as Uint8Array).slice();
}

/**
 * The merkle path (branch) of leaf 0 — the coinbase — given the txids of the *other* transactions
 * in block order. Folding the coinbase txid with these siblings gives the root.
 */
export function coinbaseMerklePath(txidsWithoutCoinbase: readonly Uint8Array[]): Uint8Array[] {
  const path: Uint8Array[] = [];
  const scratch = new Uint8Array(64);
  // Level 0 with a placeholder for the coinbase; position 0 never needs its own value.
  let level: (Uint8Array | null)[] = [null, ...txidsWithoutCoinbase];
  while (level.length > 1) {
    const sibling = level[1] ?? null;
    path.push((sibling ?? (level[0] as Uint8Array)).slice());
    const next: (Uint8Array | null)[] = [null];
    for (let i = 2; i < level.length; i += 2) {
      const left = level[i] as Uint8Array;
      next.push(hashPair(scratch, left, level[i + 1] ?? left));
    }
    level = next;
  }
  return path;
}

/** Root from a leaf at position 0 and its path (what miners do with a job). */
export function merkleRootFromPath(leaf: Uint8Array, path: readonly Uint8Array[]): Uint8Array {
  const scratch = new Uint8Array(64);
  let node = leaf;
  for (const sibling of path) node = hashPair(scratch, node, sibling);
  return node === leaf ? leaf.slice() : node;
}
