// Real proof of work for tests: grind nonces until a header meets a target (or provably misses it).
import { sha256d } from "../../src/bitcoin/hash.ts";
import { serializeHeader } from "../../src/bitcoin/header.ts";
import { hashMeetsTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import type { Channel } from "../../src/pool/channel.ts";
import type { Job } from "../../src/pool/jobs.ts";
import type { ShareSubmission } from "../../src/pool/share.ts";

export interface GrindResult {
  nonce: number;
  hash: Uint8Array;
  /** Hashes tried to get there. */
  tries: number;
}

export interface GrindInput {
  version: number;
  prevHash: Uint8Array;
  merkleRoot: Uint8Array;
  ntime: number;
  bits: number;
}

/** First nonce from `startNonce` whose header hash meets (`want` = true) or misses (`want` = false) the target. */
export function grind(h: GrindInput, target: bigint, want = true, startNonce = 0, maxTries = 50_000_000): GrindResult {
  const targetLe = targetToLeBytes(target);
  const header = { version: h.version >>> 0, prevHash: h.prevHash, merkleRoot: h.merkleRoot, time: h.ntime, bits: h.bits, nonce: 0 };
  for (let i = 0; i < maxTries; i++) {
    header.nonce = (startNonce + i) >>> 0;
    const hash = sha256d(serializeHeader(header));
    if (hashMeetsTarget(hash, targetLe) === want) return { nonce: header.nonce, hash, tries: i + 1 };
  }
  throw new Error(`grind: no nonce found in ${maxTries} tries`);
}

/** The full extranonce of a channel with a rolled part. */
export function fullExtranonce(channel: Channel, rolled: Uint8Array): Uint8Array {
  const out = new Uint8Array(channel.extranoncePrefix.length + rolled.length);
  out.set(channel.extranoncePrefix, 0);
  out.set(rolled, channel.extranoncePrefix.length);
  return out;
}

/**
 * Mines a share for `channel` on `job` that meets `target` (default: the channel target) or, with
 * `want = false`, one that misses it. Returns the submission and the hash.
 */
export function mineShare(
  channel: Channel,
  job: Job,
  opts: { target?: bigint; want?: boolean; ntime?: number; version?: number; rolled?: Uint8Array; startNonce?: number; sequenceNumber?: number } = {},
): { submission: ShareSubmission; hash: Uint8Array; tries: number } {
  const rolled = opts.rolled ?? new Uint8Array(channel.extranonceSize);
  const extranonce = channel.kind === "extended" ? fullExtranonce(channel, rolled) : channel.extranoncePrefix;
  if (job.prevHash === null) throw new Error("mineShare: job is not active");
  const ntime = opts.ntime ?? job.minNtime ?? job.template.curtime;
  const version = opts.version ?? job.version;
  const r = grind(
    { version, prevHash: job.prevHash, merkleRoot: job.merkleRoot(extranonce), ntime, bits: job.bits },
    opts.target ?? channel.target,
    opts.want ?? true,
    opts.startNonce ?? 0,
  );
  const submission: ShareSubmission = {
    channelId: channel.id,
    sequenceNumber: opts.sequenceNumber ?? 0,
    jobId: job.id,
    nonce: r.nonce,
    ntime,
    version,
  };
  if (channel.kind === "extended") submission.extranonce = rolled;
  return { submission, hash: r.hash, tries: r.tries };
}
