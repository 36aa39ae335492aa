/**
 * The seed design's data structures (blvm-stratum-v2: MinerConnection, ChannelInfo, JobInfo, ShareData,
 * MinerStats, PoolStats) in TypeScript naming.
 *
 * Where the seed is thin, the Stratum V2 spec decides, and the extra fields say so:
 * - the seed's `Hash` is 32 bytes compared "as big-endian integers"; here a `Hash` is therefore in
 *   display (big-endian) order, and the pool converts to the wire's little-endian order itself;
 * - the seed's ShareData has no ntime or extranonce and its targets come from a u32 difficulty; SV2
 *   shares carry ntime, version and (extended channels) an extranonce, and difficulties are fractional.
 */

/** 32 bytes, big-endian (display order), as the seed compares hashes. */
export type Hash = Uint8Array;

export interface JobInfo {
  jobId: number;
  /** Display order. Zero bytes while the job is a future job (no prev hash yet). */
  prevHash: Hash;
  bits: number;
  /** Unix seconds: the job's min_ntime (or the template time while future). */
  timestamp: number;
  /** Added (SV2): block version and whether the job waits for a SetNewPrevHash. */
  version: number;
  future: boolean;
  height: number;
}

export interface ChannelInfo {
  channelId: number;
  /** Display order (big-endian) target. */
  target: Hash;
  currentJobId: number | null;
  /** The channel's current difficulty (the seed's u32 min_difficulty, fractional here). */
  minDifficulty: number;
  maxJobs: number;
  jobs: Map<number, JobInfo>;
  /** Added (SV2): channel kind, worker name and extranonce layout. */
  kind: "standard" | "extended";
  userIdentity: string;
  extranoncePrefix: Uint8Array;
  extranonceSize: number;
}

export interface MinerStats {
  totalShares: number;
  acceptedShares: number;
  rejectedShares: number;
  /** Unix milliseconds of the last share, or null. */
  lastShareTime: number | null;
}

export interface MinerConnection {
  endpoint: string;
  channels: Map<number, ChannelInfo>;
  stats: MinerStats;
}

export interface ShareData {
  channelId: number;
  jobId: number;
  nonce: number;
  version: number;
  /** Display order. For standard channels it must equal the job's merkle root for the channel. */
  merkleRoot: Hash;
  /** Added (SV2): the header time and, for extended channels, the rolled extranonce. */
  ntime?: number;
  extranonce?: Uint8Array;
  sequenceNumber?: number;
}

export interface PoolStats {
  minerCount: number;
  totalShares: number;
  acceptedShares: number;
  rejectedShares: number;
  /** Added: live channels, stale shares, blocks found, estimated hashrate (H/s, last 10 min). */
  channelCount: number;
  staleShares: number;
  blocksFound: number;
  hashrate: number;
  workerCount: number;
}
