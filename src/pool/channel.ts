/**
 * A mining channel: the unit that receives jobs and submits shares (SV2 standard or extended channel;
 * every SV1 session is an extended channel too).
 */
import type { SeenShares } from "./seen-shares.ts";
import { equalBytes } from "../bitcoin/bytes.ts";
import { MAX_TARGET, difficultyToTarget, targetToDifficulty, targetToLeBytes } from "../bitcoin/target.ts";
import type { Job } from "./jobs.ts";
import { ShareStats, type WorkerStats } from "./stats.ts";
import { VardiffState } from "./vardiff.ts";

export type ChannelKind = "standard" | "extended";

/** A job as one channel knows it. */
export interface ChannelJob {
  job: Job;
  /** Standard channels: the merkle root for this channel's coinbase (computed when first needed). */
  merkleRoot: Uint8Array | null;
  /** The channel target when the job was issued (SetTarget applies to later jobs, PROTOCOL.md §7.2). */
  target: bigint;
  targetLe: Uint8Array;
  /** Difficulty of `target`, computed once (the share path credits it per share). */
  difficulty: number;
  /**
   * Shares already seen on this job (duplicate detection), keyed by header hash; created with the
   * job's first share (future jobs, and jobs replaced before any share, never need one).
   */
  seen: SeenShares | null;
}

const ALL_ONES_MAX_TARGET = { target: MAX_TARGET, difficulty: targetToDifficulty(MAX_TARGET) };

/** A previous channel target and until when shares meeting it are still accepted. */
export interface TargetGrace {
  readonly targetLe: Uint8Array;
  readonly difficulty: number;
  readonly untilMs: number;
}

export interface ChannelParams {
  id: number;
  kind: ChannelKind;
  endpoint: string;
  worker: WorkerStats;
  extranoncePrefix: Uint8Array;
  /** Bytes the miner rolls after the prefix (extended channels; 0 for standard). */
  extranonceSize: number;
  maxTarget: bigint;
  nominalHashrate: number;
  difficulty: number;
  maxJobs: number;
  versionRollingAllowed: boolean;
  nowMs: number;
}

/**
 * A farm has tens of thousands of channels, so a channel carries no field that nothing reads
 * (JavaScriptCore sizes objects in steps: up to 18 fields take 160 bytes, 19 to 26 take 224).
 */
export class Channel {
  readonly id: number;
  readonly kind: ChannelKind;
  readonly endpoint: string;
  readonly worker: WorkerStats;
  readonly extranoncePrefix: Uint8Array;
  readonly extranonceSize: number;
  readonly maxJobs: number;
  readonly stats = new ShareStats();
  readonly vardiff: VardiffState;
  nominalHashrate: number;
  versionRollingAllowed: boolean;

  /** max_target with its difficulty (vardiff reads the floor on every share): one field, see above. */
  private maxTargetInfo: { target: bigint; difficulty: number } = { target: 0n, difficulty: 0 };
  /** The target before the last vardiff change, accepted until `untilMs` (see `grace`). */
  private previous: TargetGrace | null = null;
  private currentTarget = 0n;
  private currentTargetLe: Uint8Array = new Uint8Array(32);
  private currentDifficulty = 0;
  /**
   * Jobs sent to this channel, oldest first, at most `maxJobs` (a few): an array, not a Map, since a
   * Map with entries costs about 500 bytes and the pool holds one ring per channel.
   */
  private readonly jobs: ChannelJob[] = [];
  /** Most recent job sent to this channel (the seed's `current_job_id`). */
  currentJobId: number | null = null;

  constructor(p: ChannelParams) {
    this.id = p.id;
    this.kind = p.kind;
    this.endpoint = p.endpoint;
    this.worker = p.worker;
    this.extranoncePrefix = p.extranoncePrefix;
    this.extranonceSize = p.extranonceSize;
    this.maxTarget = p.maxTarget;
    this.nominalHashrate = p.nominalHashrate;
    this.maxJobs = p.maxJobs;
    this.versionRollingAllowed = p.versionRollingAllowed;
    this.vardiff = new VardiffState(p.nowMs);
    this.setDifficulty(p.difficulty);
  }

  /** Total extranonce length in the coinbase (prefix + rolled part). */
  get extranonceLength(): number {
    return this.extranoncePrefix.length + this.extranonceSize;
  }

  /** The easiest target the miner accepts (OpenChannel / UpdateChannel max_target). */
  get maxTarget(): bigint {
    return this.maxTargetInfo.target;
  }
  set maxTarget(target: bigint) {
    // Most miners send the all-ones max_target: they share one record.
    this.maxTargetInfo = target === MAX_TARGET ? ALL_ONES_MAX_TARGET : { target, difficulty: targetToDifficulty(target) };
  }

  /**
   * The target the channel had before its last retarget, while it is still honoured. Devices apply
   * SetTarget to the work in hand at once, so when two retargets go opposite ways within a round
   * trip, shares mined for the middle target meet neither the job's target nor the current one.
   */
  grace(nowMs: number): TargetGrace | null {
    const p = this.previous;
    return p !== null && nowMs < p.untilMs ? p : null;
  }

  get target(): bigint {
    return this.currentTarget;
  }
  /** The target as the SV2 wire wants it (U256 little-endian). */
  get targetLe(): Uint8Array {
    return this.currentTargetLe;
  }
  get difficulty(): number {
    return this.currentDifficulty;
  }

  /**
   * Sets the difficulty, never handing out a target above the miner's max_target. Returns whether
   * the target changed: a difficulty that rounds to the current target is not news to the miner
   * (a pinned difficulty would otherwise resend the same SetTarget at every retarget).
   */
  setDifficulty(difficulty: number, graceUntilMs?: number): boolean {
    let target = difficultyToTarget(difficulty);
    if (target > this.maxTarget) target = this.maxTarget;
    if (target === this.currentTarget) return false;
    if (graceUntilMs !== undefined) this.previous = { targetLe: this.currentTargetLe, difficulty: this.currentDifficulty, untilMs: graceUntilMs };
    this.setTarget(target);
    return true;
  }

  setTarget(target: bigint): void {
    this.currentTarget = target;
    this.currentTargetLe = targetToLeBytes(target);
    this.currentDifficulty = targetToDifficulty(target);
  }

  /** The lowest difficulty this channel may get: the pool floor, raised by the miner's max_target. */
  difficultyFloor(poolMin: number): number {
    return Math.max(poolMin, this.maxTargetInfo.difficulty);
  }

  /** Records that `job` was sent to this channel, dropping the oldest beyond `maxJobs`. */
  addJob(job: Job, merkleRoot: Uint8Array | null): ChannelJob {
    const entry: ChannelJob = {
      job,
      merkleRoot,
      target: this.currentTarget,
      targetLe: this.currentTargetLe,
      difficulty: this.currentDifficulty,
      seen: null,
    };
    const jobs = this.jobs;
    const i = this.indexOf(job.id);
    if (i >= 0) jobs.splice(i, 1);
    jobs.push(entry);
    if (jobs.length > this.maxJobs) jobs.splice(0, jobs.length - this.maxJobs);
    this.currentJobId = job.id;
    return entry;
  }

  /** Newest first: shares are mostly for the latest jobs. */
  private indexOf(jobId: number): number {
    const jobs = this.jobs;
    for (let i = jobs.length - 1; i >= 0; i--) if ((jobs[i] as ChannelJob).job.id === jobId) return i;
    return -1;
  }

  getJob(jobId: number): ChannelJob | undefined {
    const i = this.indexOf(jobId);
    return i < 0 ? undefined : this.jobs[i];
  }

  hasJob(jobId: number): boolean {
    return this.indexOf(jobId) >= 0;
  }

  get jobCount(): number {
    return this.jobs.length;
  }

  /** Jobs on this channel, oldest first. */
  jobList(): ChannelJob[] {
    return this.jobs.slice();
  }

  /** Drops activated jobs built on another prev hash: they can only get stale shares now. */
  dropJobsNotOn(prevHash: Uint8Array): number {
    const jobs = this.jobs;
    let kept = 0;
    for (const cj of jobs) {
      const jobPrev = cj.job.prevHash;
      // Jobs of one tip share its prev hash array: the identity test spares the byte compare.
      if (jobPrev !== null && jobPrev !== prevHash && !equalBytes(jobPrev, prevHash)) continue;
      jobs[kept++] = cj;
    }
    const dropped = jobs.length - kept;
    jobs.length = kept;
    return dropped;
  }
}
