/**
 * Variable difficulty per channel: steer each channel toward a configured share rate.
 *
 * The estimate is the hash work the accepted shares prove: every share at difficulty d stands for
 * d·2^32 hashes on average, so over a window the rate is Σd·2^32 / seconds, and the difficulty that
 * would give the wanted rate is Σd·(seconds per share wanted) / seconds. Shares arrive as a Poisson
 * process, so a window of a handful of shares is noisy: changes inside a tolerance band are ignored,
 * each step is bounded, and a window closes on whichever comes first of enough shares or enough time.
 * A channel that goes quiet (difficulty far too high for it) is stepped down by `tick` without waiting
 * for shares that may never come.
 */

export interface VardiffConfig {
  /** Wanted shares per minute per channel (default 6: one every 10 s). */
  sharesPerMinute: number;
  /** Lowest difficulty the pool hands out (fractional allowed for CPU miners and small devices). */
  minDifficulty: number;
  /** Highest difficulty the pool hands out. */
  maxDifficulty: number;
  /** A window closes after this long (with at least one share)... */
  retargetAfterMs: number;
  /** ...or after this many shares, whichever comes first. */
  retargetAfterShares: number;
  /** The most one retarget may multiply or divide the difficulty by. */
  maxStepFactor: number;
  /** Ratios within [1/(1+tolerance), 1+tolerance] of the current difficulty do not retarget. */
  tolerance: number;
}

export const DEFAULT_VARDIFF: VardiffConfig = {
  sharesPerMinute: 6,
  minDifficulty: 0.0001,
  maxDifficulty: 1e15,
  retargetAfterMs: 60_000,
  retargetAfterShares: 20,
  maxStepFactor: 4,
  tolerance: 0.3,
};

/** Per-channel window state. */
export class VardiffState {
  windowStartMs: number;
  shares = 0;
  difficultySum = 0;

  constructor(nowMs: number) {
    this.windowStartMs = nowMs;
  }

  reset(nowMs: number): void {
    this.windowStartMs = nowMs;
    this.shares = 0;
    this.difficultySum = 0;
  }

  /** Records an accepted share credited at `difficulty`. */
  record(difficulty: number): void {
    this.shares++;
    this.difficultySum += difficulty;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The difficulty that yields `sharesPerMinute` at `hashrate` H/s. */
export function difficultyForHashrate(hashrate: number, sharesPerMinute: number): number {
  return (hashrate * (60 / sharesPerMinute)) / 2 ** 32;
}

/**
 * Decides, after a share was recorded, whether the channel's difficulty should change.
 * Returns the new difficulty, or null to keep the current one. Resets the window when it closes.
 * `ceiling` is the highest difficulty allowed for this channel (the pool maximum), `floor` the lowest
 * (the larger of the pool minimum and what the miner's max_target demands).
 */
export function retargetOnShare(
  state: VardiffState,
  current: number,
  nowMs: number,
  cfg: VardiffConfig,
  floor: number,
  ceiling: number,
): number | null {
  const elapsedMs = nowMs - state.windowStartMs;
  if (elapsedMs <= 0 && state.shares >= cfg.retargetAfterShares) {
    // The clock stepped back: the window's rate is unknowable; start a new one, keep the difficulty.
    state.reset(nowMs);
    return null;
  }
  if (state.shares < cfg.retargetAfterShares && elapsedMs < cfg.retargetAfterMs) return null;
  const elapsedSec = Math.max(elapsedMs, 1) / 1000;
  const ideal = (state.difficultySum * (60 / cfg.sharesPerMinute)) / elapsedSec;
  state.reset(nowMs);
  return step(current, ideal, cfg, floor, ceiling);
}

/**
 * Periodic check for channels that submit nothing: after a quiet spell several times the wanted share
 * interval, the true rate is at most one share per elapsed time, so the difficulty can safely drop by
 * that ratio (bounded by the step factor).
 */
export function retargetWhenIdle(
  state: VardiffState,
  current: number,
  nowMs: number,
  cfg: VardiffConfig,
  floor: number,
  ceiling: number,
): number | null {
  if (state.shares > 0) return null;
  const elapsedMs = nowMs - state.windowStartMs;
  if (elapsedMs < 0) {
    state.reset(nowMs);
    return null;
  }
  const wantedIntervalMs = 60_000 / cfg.sharesPerMinute;
  if (elapsedMs < Math.max(cfg.retargetAfterMs, 6 * wantedIntervalMs)) return null;
  const ideal = current * (wantedIntervalMs / elapsedMs);
  state.reset(nowMs);
  return step(current, ideal, cfg, floor, ceiling);
}

function step(current: number, ideal: number, cfg: VardiffConfig, floor: number, ceiling: number): number | null {
  const ratio = clamp(ideal / current, 1 / cfg.maxStepFactor, cfg.maxStepFactor);
  if (ratio <= 1 + cfg.tolerance && ratio >= 1 / (1 + cfg.tolerance)) return null;
  const next = clamp(current * ratio, floor, ceiling);
  return next === current ? null : next;
}
