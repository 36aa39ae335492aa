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

/** The longest window any reader asks a meter for (API, /metrics, pool stats): 10 minutes. */
export const HASHRATE_WINDOW_MS = 600_000;
const BUCKET_MS = 10_000;
/** Enough 10-s buckets to cover the longest window, with the partly elapsed current bucket. */
const METER_BUCKETS = HASHRATE_WINDOW_MS / BUCKET_MS + 1;

/**
 * Difficulty accepted per time bucket, over a bounded horizon: a ring of sums indexed by bucket
 * number (time / bucketMs). Only the newest bucket number is kept; the slots between it and a newer
 * one are zeroed when time moves on, so no per-slot start times are needed (half the memory of
 * storing them: tens of thousands of workers each own a meter).
 */
export class HashrateMeter {
  // Bucket size and count are module constants, not fields: two fields keep a meter in JSC's
  // smallest object class.
  private readonly sums = new Float64Array(METER_BUCKETS);
  /** Bucket number of the newest slot written; -1 before the first share. */
  private newest = -1;

  add(difficulty: number, nowMs: number): void {
    const b = Math.floor(nowMs / BUCKET_MS);
    if (b > this.newest) {
      // Slots of the buckets skipped since the newest one belong to the past horizon: clear them.
      if (this.newest < 0 || b - this.newest >= METER_BUCKETS) this.sums.fill(0);
      else for (let k = this.newest + 1; k <= b; k++) this.sums[k % METER_BUCKETS] = 0;
      this.newest = b;
    } else if (b <= this.newest - METER_BUCKETS) {
      return; // older than the horizon (a wall clock stepped far back): nothing to add it to
    }
    const i = b % METER_BUCKETS;
    this.sums[i] = (this.sums[i] as number) + difficulty;
  }

  /** Hashes per second over the last `windowMs` (at most the meter's horizon). */
  hashrate(nowMs: number, windowMs = HASHRATE_WINDOW_MS): number {
    const horizon = Math.min(windowMs, BUCKET_MS * (METER_BUCKETS - 1));
    const from = nowMs - horizon;
    let sum = 0;
    for (let b = this.newest, k = 0; b >= 0 && k < METER_BUCKETS; b--, k++) {
      const s = b * BUCKET_MS;
      if (s + BUCKET_MS <= from) break;
      if (s <= nowMs) sum += this.sums[b % METER_BUCKETS] as number;
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

/** Shared by every ShareStats without rejections yet (most channels never have one); never written. */
const NO_REJECTIONS: Partial<Record<ShareRejectReason, number>> = Object.freeze({});

/**
 * Share counters: what the pool keeps per channel and per connection (and, with a meter, per worker
 * and in total). The counters are fields of this object, not a separate one: a farm has tens of
 * thousands of channels and connections, each with its stats.
 */
export class ShareStats implements ShareCounters {
  accepted = 0;
  rejected = 0;
  stale = 0;
  acceptedDifficulty = 0;
  rejectedByReason: Partial<Record<ShareRejectReason, number>> = NO_REJECTIONS;
  bestShareDifficulty = 0;
  lastShareMs: number | null = null;
  blocksFound = 0;

  get counters(): ShareCounters {
    return this;
  }

  accept(difficulty: number, hashDifficulty: number, nowMs: number): void {
    this.accepted++;
    this.acceptedDifficulty += difficulty;
    if (hashDifficulty > this.bestShareDifficulty) this.bestShareDifficulty = hashDifficulty;
    this.lastShareMs = nowMs;
  }

  reject(reason: ShareRejectReason, nowMs: number): void {
    this.rejected++;
    if (reason === "stale-share") this.stale++;
    if (this.rejectedByReason === NO_REJECTIONS) this.rejectedByReason = {};
    this.rejectedByReason[reason] = (this.rejectedByReason[reason] ?? 0) + 1;
    this.lastShareMs = nowMs;
  }

  blockFound(): void {
    this.blocksFound++;
  }
}

/**
 * Counters plus a hashrate meter: per worker and for the whole pool, the figures the API, /metrics
 * and the dashboard show. Channels and connections have no meter: nothing reads a hashrate per
 * channel or per connection, and a meter is most of what their stats would cost.
 */
export class MeteredShareStats extends ShareStats {
  readonly meter = new HashrateMeter();

  override accept(difficulty: number, hashDifficulty: number, nowMs: number): void {
    super.accept(difficulty, hashDifficulty, nowMs);
    this.meter.add(difficulty, nowMs);
  }
}

/** One worker (the user_identity / SV1 worker name), across all its connections and channels. */
export class WorkerStats extends MeteredShareStats {
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
