/**
 * Share statistics: per worker, per miner connection and for the whole pool.
 *
 * Hashrate is estimated from the work accepted shares prove (Σ difficulty · 2^32 / seconds), kept in
 * fixed time buckets so memory does not grow with the share rate and an estimate over any recent
 * window is a cheap sum.
 */

/** The rejection reasons the pool reports (SV2 SubmitShares.Error codes, also used for SV1). */
export type ShareRejectReason =
  | "invalid-channel-id"
  | "stale-share"
  | "invalid-job-id"
  | "bad-extranonce-size"
  | "invalid-share"
  | "version-rolling-not-allowed"
  | "invalid-non-rollable-version-bit"
  | "difficulty-too-low"
  | "duplicate-share"
  | "rate-limited";

const HASHES_PER_DIFF1 = 2 ** 32;

/** Buckets (of 10 s) for per-channel and per-connection meters: 3 minutes. */
export const SHORT_METER_BUCKETS = 18;

/** Difficulty accepted per time bucket, over a bounded horizon. */
export class HashrateMeter {
  private readonly sums: Float64Array;
  private readonly starts: Float64Array;

  constructor(
    readonly bucketMs = 10_000,
    readonly buckets = 90,
  ) {
    this.sums = new Float64Array(buckets);
    this.starts = new Float64Array(buckets).fill(-1);
  }

  add(difficulty: number, nowMs: number): void {
    const start = nowMs - (nowMs % this.bucketMs);
    const i = Math.floor(start / this.bucketMs) % this.buckets;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.sums[i] = 0;
    }
    this.sums[i] = (this.sums[i] as number) + difficulty;
  }

  /** Hashes per second over the last `windowMs` (at most the meter's horizon). */
  hashrate(nowMs: number, windowMs = 600_000): number {
    const horizon = Math.min(windowMs, this.bucketMs * (this.buckets - 1));
    const from = nowMs - horizon;
    let sum = 0;
    for (let i = 0; i < this.buckets; i++) {
      const s = this.starts[i] as number;
      if (s >= 0 && s + this.bucketMs > from && s <= nowMs) sum += this.sums[i] as number;
    }
    return (sum * HASHES_PER_DIFF1) / (horizon / 1000);
  }
}

export interface ShareCounters {
  accepted: number;
  rejected: number;
  stale: number;
  /** Sum of the difficulties credited to accepted shares. */
  acceptedDifficulty: number;
  rejectedByReason: Partial<Record<ShareRejectReason, number>>;
  /** Highest difficulty any share reached (from its hash), accepted or block. */
  bestShareDifficulty: number;
  lastShareMs: number | null;
  blocksFound: number;
}

export function emptyCounters(): ShareCounters {
  return {
    accepted: 0,
    rejected: 0,
    stale: 0,
    acceptedDifficulty: 0,
    rejectedByReason: {},
    bestShareDifficulty: 0,
    lastShareMs: null,
    blocksFound: 0,
  };
}

/** Counters plus a hashrate meter: what the pool keeps per worker, per connection and in total. */
export class ShareStats {
  readonly counters: ShareCounters = emptyCounters();
  readonly meter: HashrateMeter;

  /**
   * `meterBuckets` of 10 s: per-worker and pool stats keep 15 minutes; channels and connections,
   * of which a farm has tens of thousands, keep 3 minutes (memory per miner matters at that scale).
   */
  constructor(meterBuckets = 90) {
    this.meter = new HashrateMeter(10_000, meterBuckets);
  }

  accept(difficulty: number, hashDifficulty: number, nowMs: number): void {
    const c = this.counters;
    c.accepted++;
    c.acceptedDifficulty += difficulty;
    if (hashDifficulty > c.bestShareDifficulty) c.bestShareDifficulty = hashDifficulty;
    c.lastShareMs = nowMs;
    this.meter.add(difficulty, nowMs);
  }

  reject(reason: ShareRejectReason, nowMs: number): void {
    const c = this.counters;
    c.rejected++;
    if (reason === "stale-share") c.stale++;
    c.rejectedByReason[reason] = (c.rejectedByReason[reason] ?? 0) + 1;
    c.lastShareMs = nowMs;
  }

  blockFound(): void {
    this.counters.blocksFound++;
  }
}

/** One worker (the user_identity / SV1 worker name), across all its connections and channels. */
export class WorkerStats extends ShareStats {
  /** Channels currently open under this name. */
  channels = 0;
  readonly firstSeenMs: number;
  lastSeenMs: number;

  constructor(
    readonly name: string,
    nowMs: number,
  ) {
    super();
    this.firstSeenMs = nowMs;
    this.lastSeenMs = nowMs;
  }
}
