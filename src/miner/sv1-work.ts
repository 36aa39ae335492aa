/**
 * Stratum V1 work on the miner side, pure: the coinbase from coinb1 ‖ extranonce1 ‖ extranonce2 ‖
 * coinb2, the merkle root from the branches, the 80-byte header, and the submit parameters.
 */
import { bytesToHex } from "../bitcoin/bytes.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { HEADER_SIZE, serializeHeader } from "../bitcoin/header.ts";
import { rolledVersion, u32Hex, type Sv1Notify } from "../server/sv1/protocol.ts";

export function coinbaseFor(job: Sv1Notify, extranonce1: Uint8Array, extranonce2: Uint8Array): Uint8Array {
  const out = new Uint8Array(job.coinb1.length + extranonce1.length + extranonce2.length + job.coinb2.length);
  let o = 0;
  out.set(job.coinb1, o);
  o += job.coinb1.length;
  out.set(extranonce1, o);
  o += extranonce1.length;
  out.set(extranonce2, o);
  o += extranonce2.length;
  out.set(job.coinb2, o);
  return out;
}

/** Merkle root (internal order) of the block whose coinbase carries these extranonces. */
export function merkleRootFor(job: Sv1Notify, extranonce1: Uint8Array, extranonce2: Uint8Array): Uint8Array {
  let node = sha256d(coinbaseFor(job, extranonce1, extranonce2));
  const pair = new Uint8Array(64);
  for (const branch of job.merkleBranches) {
    pair.set(node, 0);
    pair.set(branch, 32);
    node = sha256d(pair);
  }
  return node;
}

/** The header a miner hashes for this job (nonce 0; set it at offset 76). */
export function headerFor(job: Sv1Notify, merkleRoot: Uint8Array, ntime: number, version: number, nonce = 0): Uint8Array {
  return serializeHeader({ version, prevHash: job.prevHash, merkleRoot, time: ntime, bits: job.nbits, nonce }, new Uint8Array(HEADER_SIZE));
}

export interface Sv1ShareInput {
  extranonce1: Uint8Array;
  extranonce2: Uint8Array;
  ntime: number;
  nonce: number;
  /** Rolled version bits (the 6th submit parameter) and the negotiated mask; none = job version. */
  versionBits?: number;
  versionMask?: number;
}

/** Header and its hash for a share as a pool rebuilds it from mining.submit. */
export function shareHeader(job: Sv1Notify, s: Sv1ShareInput): { header: Uint8Array; hash: Uint8Array; version: number } {
  const version = s.versionBits === undefined ? job.version : rolledVersion(job.version, s.versionMask ?? 0xffffffff, s.versionBits);
  const header = headerFor(job, merkleRootFor(job, s.extranonce1, s.extranonce2), s.ntime, version, s.nonce);
  return { header, hash: sha256d(header), version };
}

/** mining.submit params: worker, job_id, extranonce2, ntime, nonce[, version bits]. */
export function submitParams(worker: string, jobId: string, s: Sv1ShareInput): string[] {
  const params = [worker, jobId, bytesToHex(s.extranonce2), u32Hex(s.ntime), u32Hex(s.nonce)];
  if (s.versionBits !== undefined) params.push(u32Hex(s.versionBits));
  return params;
}

/** Spreads the low bits of `counter` over the set bits of `mask` (which version bits to roll next). */
export function depositBits(counter: number, mask: number): number {
  let out = 0;
  let c = counter >>> 0;
  for (let bit = 0; bit < 32 && c !== 0; bit++) {
    const b = (1 << bit) >>> 0;
    if ((mask & b) !== 0) {
      if (c & 1) out |= b;
      c >>>= 1;
    }
  }
  return out >>> 0;
}
