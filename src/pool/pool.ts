/**
 * StratumV2Pool: the pool core. Pure and synchronous: it never touches sockets, files or the system
 * clock (a Clock is injected). The servers (SV2 and SV1) feed it templates, tips, channel requests and
 * shares; it answers with what to send, and reports found blocks and difficulty changes to a listener.
 *
 * Job flow (PROTOCOL.md §7.1):
 * - a template on a new tip becomes a job sent as a *future* job, then activated by SetNewPrevHash;
 * - a template on the same tip becomes a job active at once (min_ntime set);
 * - after every tip change the pool prepares a speculative job for the *next* height (empty block,
 *   subsidy only) and sends it ahead as a future job, so that when the next block arrives every
 *   channel only needs a SetNewPrevHash (`newTip`); the full template follows as a same-tip update.
 */
import { SeenShares } from "./seen-shares.ts";
import { equalBytes, internalToDisplayHex, reverseBytes } from "../bitcoin/bytes.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { HEADER_SIZE, serializeHeader, type BlockHeader } from "../bitcoin/header.ts";
import { NETWORKS, type Network } from "../bitcoin/network.ts";
import { blockSubsidy } from "../bitcoin/subsidy.ts";
import {
  difficultyToTarget,
  hashDifficulty,
  hashMeetsTarget,
  hashrateToTarget,
  MAX_TARGET,
  nbitsToTarget,
  targetToDifficulty,
  targetToLeBytes,
} from "../bitcoin/target.ts";
import { StratumV2Error } from "../errors.ts";
import { Channel, type ChannelJob, type ChannelKind } from "./channel.ts";
import type { Clock } from "./clock.ts";
import { ExtranonceAllocator, MAX_EXTRANONCE_TOTAL, PREFIX_SIZE } from "./extranonce.ts";
import { Job, type CoinbaseOptions } from "./jobs.ts";
import { validatePayouts, type Payout } from "./payout.ts";
import type { FoundBlock, ShareResult, ShareSubmission } from "./share.ts";
import { MeteredShareStats, ShareStats, WorkerStats, type ShareRejectReason } from "./stats.ts";
import type { BlockTemplate } from "./template.ts";
import type { ChannelInfo, Hash, JobInfo, MinerConnection, PoolStats, ShareData } from "./types.ts";
import { DEFAULT_VARDIFF, retargetOnShare, retargetWhenIdle, type VardiffConfig } from "./vardiff.ts";

/** BIP323's general-purpose version bits, a superset of BIP320's 0x1fffe000 (PROTOCOL.md §7.7). */
export const VERSION_ROLLING_MASK = 0x1fffffe0;

export interface PoolOptions {
  network: Network;
  payouts: Payout[];
  /** Text pushed in every coinbase scriptSig after the BIP34 height. */
  coinbaseTag: string;
  /** Distinguishes pool processes that share the listening ports (first extranonce byte). */
  serverId: number;
  /** Jobs remembered per channel (the seed's max_jobs). */
  maxJobsPerChannel: number;
  versionMask: number;
  /** Shares with ntime further ahead of the pool's clock are refused (consensus allows 2 h). */
  ntimeMaxFutureSec: number;
  vardiff: VardiffConfig;
  /** Difficulty for channels that announce no hashrate (SV1 sessions, proxies with no devices yet). */
  initialDifficulty: number;
  /** Prepare next-height jobs ahead of time so a new block costs one SetNewPrevHash. */
  speculativeJobs: boolean;
  /** Remember this many shares per job for duplicate detection (bounded memory). */
  maxSeenSharesPerJob: number;
  /**
   * After a vardiff retarget, shares meeting the previous target are still accepted (and credited at
   * its difficulty) for this long: devices apply SetTarget to the work in hand, so two retargets in
   * opposite directions within a round trip would otherwise refuse honest shares.
   */
  retargetGraceMs: number;
  /**
   * Workers without an open channel are forgotten (their totals live on in the ledger) after this
   * long, and at once when more than `maxWorkers` are known: a miner cycling through new names must
   * not grow memory without bound.
   */
  idleWorkerForgetMs: number;
  maxWorkers: number;
}

export const DEFAULT_POOL_OPTIONS: Omit<PoolOptions, "network" | "payouts"> = {
  coinbaseTag: "sv2pool",
  serverId: 0,
  maxJobsPerChannel: 8,
  versionMask: VERSION_ROLLING_MASK,
  ntimeMaxFutureSec: 7200,
  vardiff: DEFAULT_VARDIFF,
  initialDifficulty: 1,
  speculativeJobs: true,
  maxSeenSharesPerJob: 100_000,
  retargetGraceMs: 10_000,
  idleWorkerForgetMs: 24 * 3600_000,
  maxWorkers: 100_000,
};

/** The chain tip the pool's active jobs build on. */
export interface Tip {
  prevHash: Uint8Array;
  /** Height of the block being mined (tip height + 1). */
  height: number;
  bits: number;
  minNtime: number;
}

export interface TemplateChange {
  /** "new-tip": send `job` as future + SetNewPrevHash. "update": send `job` active (min_ntime set). */
  kind: "new-tip" | "update";
  job: Job;
  /** A new next-height job to send ahead as a future job, or null when channels already have it. */
  speculative: Job | null;
}

export interface TipChange {
  /** The job to activate with SetNewPrevHash (channels already hold it as a future job). */
  job: Job;
  prevHash: Uint8Array;
  minNtime: number;
  bits: number;
}

export interface OpenChannelRequest {
  userIdentity: string;
  /** Announced hashrate in H/s (0 = unknown). */
  nominalHashrate: number;
  /** Highest target the miner accepts (its max_target), as an integer. */
  maxTarget: bigint;
  /** Extended channels: the smallest rolled extranonce the miner needs. */
  minExtranonceSize?: number;
  /** Start at this difficulty instead of deriving it from the hashrate (SV1 suggestions). */
  difficulty?: number;
  versionRollingAllowed?: boolean;
}

export interface PoolListener {
  /** A share met the network target. Called synchronously; the block must be stored and submitted. */
  blockFound?(block: FoundBlock): void;
  /** Vardiff (or UpdateChannel) changed a channel's target: the owner must send SetTarget. */
  targetChanged?(channel: Channel): void;
  /** Every share, accepted or not, for statistics and persistence. */
  share?(channel: Channel | null, endpoint: string, result: ShareResult, nowMs: number): void;
}

/** An OpenMiningChannel refusal with the SV2 error code to send. */
export class OpenChannelError extends StratumV2Error {
  constructor(readonly code: string, message: string) {
    super("PoolError", message);
    this.name = "OpenChannelError";
  }
}

/** What the front end owning a connection hears about its channels (SV2 SetTarget, SV1 set_difficulty). */
export interface MinerHooks {
  targetChanged(channel: Channel): void;
}

/**
 * One miner connection: its channels, the front end's hooks and its share counters (fields of this
 * object: one object per connection, and the hooks here rather than in a second map by endpoint).
 */
class Miner extends ShareStats {
  /** Open channels in opening order: an array (most miners have one; a Map costs ~500 bytes). */
  readonly channels: Channel[] = [];

  constructor(
    readonly endpoint: string,
    public hooks: MinerHooks | null,
    public lastActivityMs: number,
  ) {
    super();
  }
}

const RECENT_JOBS = 64;

export class StratumV2Pool {
  readonly options: PoolOptions;
  private lastWorkerSweepMs = 0;
  private readonly clock: Clock;
  private listener: PoolListener = {};
  private readonly coinbaseOptions: CoinbaseOptions;
  private readonly extranonce: ExtranonceAllocator;
  private readonly miners = new Map<string, Miner>();
  private readonly channels = new Map<number, Channel>();
  private readonly workers = new Map<string, WorkerStats>();
  private readonly totals = new MeteredShareStats();
  /** Recently created jobs by id: tells a stale share (known job, old tip) from an unknown job id. */
  private readonly recentJobs = new Map<number, Job>();
  private nextChannelId = 1;
  private nextJobId = 1;
  private nextTemplateId = 1;
  private tip: Tip | null = null;
  /** The prev hash every channel's jobs were last trimmed to (cleanupOldJobs), or null when due. */
  private cleanedFor: Uint8Array | null = null;
  private current: Job | null = null;
  private speculative: Job | null = null;
  private readonly headerScratch: BlockHeader = {
    version: 0,
    prevHash: new Uint8Array(32),
    merkleRoot: new Uint8Array(32),
    time: 0,
    bits: 0,
    nonce: 0,
  };
  /** The serialized header of the share being checked (copied when it is a block). */
  private readonly headerBytes = new Uint8Array(HEADER_SIZE);

  constructor(options: Partial<PoolOptions> & Pick<PoolOptions, "network" | "payouts">, clock: Clock) {
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
    validatePayouts(this.options.payouts);
    this.clock = clock;
    this.coinbaseOptions = { payouts: this.options.payouts, tag: new TextEncoder().encode(this.options.coinbaseTag) };
    this.extranonce = new ExtranonceAllocator(this.options.serverId, () => Array.from(this.channels.values(), (c) => c.extranoncePrefix));
  }

  setListener(listener: PoolListener): void {
    this.listener = listener;
  }

  // ---- miners and channels -------------------------------------------------------------------

  /** Registers a miner connection (idempotent; given hooks replace earlier ones). */
  registerMiner(endpoint: string, hooks?: MinerHooks): void {
    const miner = this.miners.get(endpoint);
    if (miner === undefined) this.miners.set(endpoint, new Miner(endpoint, hooks ?? null, this.clock.nowMs()));
    else if (hooks !== undefined) miner.hooks = hooks;
  }

  /** The hooks the connection's front end registered, if any. */
  minerHooks(endpoint: string): MinerHooks | null {
    return this.miners.get(endpoint)?.hooks ?? null;
  }

  /** Forgets a miner and closes its channels (its workers' statistics stay). */
  unregisterMiner(endpoint: string): void {
    const miner = this.miners.get(endpoint);
    if (miner === undefined) return;
    for (const ch of miner.channels.slice()) this.dropChannel(miner, ch);
    this.miners.delete(endpoint);
  }

  private minerOf(endpoint: string): Miner {
    const miner = this.miners.get(endpoint);
    if (miner === undefined) throw StratumV2Error.pool(`unknown miner ${endpoint}`);
    return miner;
  }

  private workerOf(name: string, nowMs: number): WorkerStats {
    let w = this.workers.get(name);
    if (w === undefined) {
      w = new WorkerStats(name, nowMs);
      this.workers.set(name, w);
    }
    return w;
  }

  private initialDifficulty(req: OpenChannelRequest): number {
    if (req.difficulty !== undefined && req.difficulty > 0) return req.difficulty;
    if (req.nominalHashrate > 0) {
      const target = hashrateToTarget(req.nominalHashrate, this.options.vardiff.sharesPerMinute);
      return targetToDifficulty(target);
    }
    return this.options.initialDifficulty;
  }

  private clampDifficulty(channel: Channel, difficulty: number): number {
    const floor = channel.difficultyFloor(this.options.vardiff.minDifficulty);
    return Math.min(Math.max(difficulty, floor), Math.max(floor, this.options.vardiff.maxDifficulty));
  }

  private openChannelOfKind(endpoint: string, kind: ChannelKind, req: OpenChannelRequest, channelId?: number): Channel {
    const miner = this.minerOf(endpoint);
    if (!Number.isFinite(req.nominalHashrate) || req.nominalHashrate < 0) {
      throw new OpenChannelError("invalid-nominal-hashrate", `nominal hashrate ${req.nominalHashrate} is not valid`);
    }
    if (req.userIdentity.length === 0 || req.userIdentity.length > 255) {
      throw new OpenChannelError("invalid-user-identity", "user identity must be 1..255 bytes");
    }
    let extranonceSize = 0;
    if (kind === "extended") {
      const wanted = req.minExtranonceSize ?? 0;
      if (!Number.isInteger(wanted) || wanted < 0 || PREFIX_SIZE + wanted > MAX_EXTRANONCE_TOTAL) {
        throw new OpenChannelError(
          "min-extranonce-size-too-large",
          `min_extranonce_size ${wanted} exceeds the ${MAX_EXTRANONCE_TOTAL - PREFIX_SIZE} bytes available`,
        );
      }
      extranonceSize = wanted;
    }
    if (req.maxTarget <= 0n) throw new OpenChannelError("max-target-out-of-range", "max_target is zero");
    const nowMs = this.clock.nowMs();
    const worker = this.workerOf(req.userIdentity, nowMs);
    const channel = new Channel({
      id: channelId ?? this.allocateChannelId(),
      kind,
      endpoint,
      worker,
      extranoncePrefix: this.extranonce.allocate(),
      extranonceSize,
      maxTarget: req.maxTarget,
      nominalHashrate: req.nominalHashrate,
      difficulty: 1,
      maxJobs: this.options.maxJobsPerChannel,
      versionRollingAllowed: req.versionRollingAllowed ?? true,
      nowMs,
    });
    channel.setDifficulty(this.clampDifficulty(channel, this.initialDifficulty(req)));
    miner.channels.push(channel);
    this.channels.set(channel.id, channel);
    worker.channels++;
    worker.lastSeenMs = nowMs;
    miner.lastActivityMs = nowMs;
    return channel;
  }

  private allocateChannelId(): number {
    // Ids come from one space for channels and groups (SV2 requires it per connection; we make them
    // unique pool-wide, which also lets a share be routed by channel id alone).
    while (this.channels.has(this.nextChannelId) || this.nextChannelId === 0) {
      this.nextChannelId = (this.nextChannelId + 1) >>> 0;
    }
    const id = this.nextChannelId;
    this.nextChannelId = (this.nextChannelId + 1) >>> 0;
    return id;
  }

  /** Reserves an id for a group channel (same id space as channels). */
  allocateGroupId(): number {
    const id = this.allocateChannelId();
    return id;
  }

  openStandardChannel(endpoint: string, req: OpenChannelRequest): Channel {
    return this.openChannelOfKind(endpoint, "standard", req);
  }

  openExtendedChannel(endpoint: string, req: OpenChannelRequest): Channel {
    return this.openChannelOfKind(endpoint, "extended", req);
  }

  /**
   * The seed's open_channel: opens a standard channel under `channelId` for a miner registered with
   * `registerMiner`, at `minDifficulty`. Returns the channel target (display order). SV2 lets the pool
   * choose channel ids; the SV2 server uses openStandardChannel, which does.
   */
  openChannel(endpoint: string, channelId: number, minDifficulty: number): Hash {
    if (channelId === 0 || this.channels.has(channelId)) {
      throw StratumV2Error.pool(`channel id ${channelId} is not available`);
    }
    const channel = this.openChannelOfKind(
      endpoint,
      "standard",
      { userIdentity: endpoint, nominalHashrate: 0, maxTarget: MAX_TARGET, difficulty: minDifficulty },
      channelId,
    );
    return reverseBytes(channel.targetLe);
  }

  getChannel(channelId: number): Channel | undefined {
    return this.channels.get(channelId);
  }

  /** Channels of one connection. */
  channelsOf(endpoint: string): Channel[] {
    const miner = this.miners.get(endpoint);
    return miner === undefined ? [] : miner.channels.slice();
  }

  allChannels(): IterableIterator<Channel> {
    return this.channels.values();
  }

  get channelCount(): number {
    return this.channels.size;
  }

  closeChannel(endpoint: string, channelId: number): boolean {
    const miner = this.miners.get(endpoint);
    const channel = this.channels.get(channelId);
    if (miner === undefined || channel === undefined || channel.endpoint !== endpoint) return false;
    this.dropChannel(miner, channel);
    return true;
  }

  private dropChannel(miner: Miner, channel: Channel): void {
    const i = miner.channels.indexOf(channel);
    if (i >= 0) miner.channels.splice(i, 1);
    this.channels.delete(channel.id);
    this.extranonce.release(channel.extranoncePrefix);
    channel.worker.channels = Math.max(0, channel.worker.channels - 1);
    if (this.workers.size > this.options.maxWorkers) this.forgetIdleWorkers(Number.POSITIVE_INFINITY, Math.floor(this.options.maxWorkers * 0.9));
  }

  /** Drops workers without channels, least recently seen first, idle longer than `idleMs`, down to `keep`. */
  private forgetIdleWorkers(idleMs: number, keep: number): number {
    const nowMs = this.clock.nowMs();
    const idle = [...this.workers.values()].filter((w) => w.channels === 0 && (idleMs === Number.POSITIVE_INFINITY || nowMs - w.lastSeenMs > idleMs));
    idle.sort((a, b) => a.lastSeenMs - b.lastSeenMs);
    let dropped = 0;
    for (const w of idle) {
      if (idleMs === Number.POSITIVE_INFINITY && this.workers.size <= keep) break;
      this.workers.delete(w.name);
      dropped++;
    }
    return dropped;
  }

  /**
   * UpdateChannel: a new hashrate (and max target) for a channel. Returns the channel (its target
   * updated) or throws OpenChannelError with the SV2 UpdateChannel.Error code.
   */
  updateChannel(endpoint: string, channelId: number, nominalHashrate: number, maxTarget: bigint): Channel {
    const channel = this.channels.get(channelId);
    if (channel === undefined || channel.endpoint !== endpoint) {
      throw new OpenChannelError("invalid-channel-id", `channel ${channelId} is not open on this connection`);
    }
    if (!Number.isFinite(nominalHashrate) || nominalHashrate < 0) {
      throw new OpenChannelError("invalid-nominal-hashrate", `nominal hashrate ${nominalHashrate} is not valid`);
    }
    if (maxTarget <= 0n) throw new OpenChannelError("max-target-out-of-range", "max_target is zero");
    channel.maxTarget = maxTarget;
    channel.nominalHashrate = nominalHashrate;
    const difficulty = nominalHashrate > 0 ? this.initialDifficulty({ userIdentity: "", nominalHashrate, maxTarget }) : channel.difficulty;
    channel.setDifficulty(this.clampDifficulty(channel, difficulty));
    channel.vardiff.reset(this.clock.nowMs());
    this.listener.targetChanged?.(channel);
    return channel;
  }

  /** Sets a channel's difficulty directly (SV1 suggest_difficulty, operator overrides). */
  setChannelDifficulty(channel: Channel, difficulty: number): void {
    channel.setDifficulty(this.clampDifficulty(channel, difficulty));
    channel.vardiff.reset(this.clock.nowMs());
  }

  // ---- templates, tips and jobs --------------------------------------------------------------

  get currentTip(): Tip | null {
    return this.tip;
  }

  get currentJob(): Job | null {
    return this.current;
  }

  get speculativeJob(): Job | null {
    return this.speculative;
  }

  /** Next template id for callers that build templates (BlockTemplate.id). */
  allocateTemplateId(): number {
    return this.nextTemplateId++;
  }

  private newJob(template: BlockTemplate): Job {
    const job = new Job(this.nextJobId, template, this.coinbaseOptions);
    this.nextJobId = this.nextJobId >= 0xffffffff ? 1 : this.nextJobId + 1;
    this.recentJobs.set(job.id, job);
    if (this.recentJobs.size > RECENT_JOBS) {
      const oldest = this.recentJobs.keys().next().value as number;
      this.recentJobs.delete(oldest);
    }
    return job;
  }

  /**
   * A new template from the node. Returns what to send (see TemplateChange). Same-tip templates
   * become active jobs; a template on another tip switches the tip.
   */
  setTemplate(template: BlockTemplate): TemplateChange {
    const job = this.newJob(template);
    const sameTip = this.tip !== null && equalBytes(this.tip.prevHash, template.prevHash);
    if (sameTip && this.tip !== null) {
      const minNtime = Math.max(template.curtime, this.tip.minNtime);
      job.activate(this.tip.prevHash, minNtime, template.bits, template.target);
      this.tip = { ...this.tip, height: template.height, bits: template.bits };
      this.current = job;
      let speculative: Job | null = null;
      if (this.options.speculativeJobs && (this.speculative === null || this.speculative.template.height !== template.height + 1)) {
        speculative = this.prepareSpeculative(template);
      }
      return { kind: "update", job, speculative };
    }
    job.activate(template.prevHash, template.curtime, template.bits, template.target);
    this.tip = { prevHash: template.prevHash, height: template.height, bits: template.bits, minNtime: template.curtime };
    this.current = job;
    const speculative = this.options.speculativeJobs ? this.prepareSpeculative(template) : null;
    return { kind: "new-tip", job, speculative };
  }

  /** The empty next-height template every channel gets ahead of the next block. */
  private prepareSpeculative(template: BlockTemplate): Job {
    const height = template.height + 1;
    const next: BlockTemplate = {
      id: this.allocateTemplateId(),
      height,
      version: template.version,
      // Unknown until the next block exists; the job's prev hash is set when it is activated.
      prevHash: new Uint8Array(32),
      bits: template.bits,
      target: template.target,
      curtime: template.curtime,
      mintime: template.mintime,
      coinbaseValue: blockSubsidy(height, NETWORKS[this.options.network].halvingInterval),
      transactions: [],
      merklePath: [],
      witnessCommitmentScript: null,
      coinbaseAux: template.coinbaseAux,
      longpollId: null,
      speculative: true,
    };
    this.speculative = this.newJob(next);
    return this.speculative;
  }

  /**
   * Fast path for a new block seen on the network: activates the speculative job if it was built for
   * this height. Returns null when it cannot (no speculative job, another height, or disabled); the
   * caller then waits for the full template.
   */
  newTip(prevHash: Uint8Array, height: number, bits: number, minNtime: number): TipChange | null {
    if (this.tip !== null && equalBytes(this.tip.prevHash, prevHash)) return null;
    const spec = this.speculative;
    if (spec === null || spec.template.height !== height) return null;
    let target: bigint;
    try {
      target = nbitsToTarget(bits);
    } catch {
      return null;
    }
    const ntime = Math.max(minNtime, spec.template.mintime);
    spec.activate(prevHash, ntime, bits, target);
    this.tip = { prevHash, height, bits, minNtime: ntime };
    this.current = spec;
    this.speculative = null;
    return { job: spec, prevHash, minNtime: ntime, bits };
  }

  /**
   * Records that `job` is being sent to `channel` and returns the channel's view of it. For standard
   * channels the merkle root is computed now when `withMerkleRoot` (NewMiningJob needs it), otherwise
   * on the first share (group channels get NewExtendedMiningJob and compute it themselves).
   */
  assignJob(channel: Channel, job: Job, withMerkleRoot: boolean): ChannelJob {
    // A job on another prev hash (a fan-out still running when the tip moved) is for cleanup to drop.
    if (job.prevHash !== null && this.cleanedFor !== null && !equalBytes(job.prevHash, this.cleanedFor)) this.cleanedFor = null;
    const root = channel.kind === "standard" && withMerkleRoot ? job.merkleRoot(channel.extranoncePrefix) : null;
    return channel.addJob(job, root);
  }

  /**
   * The jobs a freshly opened channel needs, in order: the current job (send as future, then
   * SetNewPrevHash) and the speculative next-height job (send as future).
   */
  jobsForNewChannel(): { current: Job | null; speculative: Job | null } {
    return { current: this.current, speculative: this.speculative };
  }

  /** The seed's cleanup_old_jobs: trims every channel's job ring to jobs that can still get shares. */
  cleanupOldJobs(): number {
    const tip = this.tip;
    if (tip === null) return 0;
    // Nothing to drop until the tip moves again or a job on another prev hash is assigned: the
    // service calls this every second, and a pass over 10,000 channels costs milliseconds.
    if (this.cleanedFor !== null && equalBytes(this.cleanedFor, tip.prevHash)) return 0;
    let dropped = 0;
    for (const ch of this.channels.values()) dropped += ch.dropJobsNotOn(tip.prevHash);
    this.cleanedFor = tip.prevHash;
    return dropped;
  }

  /** The seed's cleanup_disconnected_miners: forgets miners silent for longer than the timeout. */
  cleanupDisconnectedMiners(timeoutSeconds: number): string[] {
    const now = this.clock.nowMs();
    const gone: string[] = [];
    for (const miner of this.miners.values()) {
      if (now - miner.lastActivityMs > timeoutSeconds * 1000) gone.push(miner.endpoint);
    }
    for (const endpoint of gone) this.unregisterMiner(endpoint);
    return gone;
  }

  /** Marks a miner as alive (any message counts, not only shares). */
  touch(endpoint: string): void {
    const miner = this.miners.get(endpoint);
    if (miner !== undefined) miner.lastActivityMs = this.clock.nowMs();
  }

  // ---- shares ---------------------------------------------------------------------------------

  private reject(
    channel: Channel | null,
    endpoint: string,
    reason: ShareRejectReason,
    nowMs: number,
    detail?: string,
  ): ShareResult {
    const result: ShareResult = detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
    const miner = this.miners.get(endpoint);
    miner?.reject(reason, nowMs);
    if (channel !== null) {
      channel.stats.reject(reason, nowMs);
      channel.worker.reject(reason, nowMs);
      channel.worker.lastSeenMs = nowMs;
    }
    this.totals.reject(reason, nowMs);
    this.listener.share?.(channel, endpoint, result, nowMs);
    return result;
  }

  /** Validates and accounts one share (PROTOCOL.md §7.8 order). */
  submitShare(endpoint: string, s: ShareSubmission): ShareResult {
    const nowMs = this.clock.nowMs();
    const miner = this.miners.get(endpoint);
    if (miner !== undefined) miner.lastActivityMs = nowMs;
    const channel = this.channels.get(s.channelId);
    if (channel === undefined || channel.endpoint !== endpoint) {
      return this.reject(null, endpoint, "invalid-channel-id", nowMs);
    }
    const cj = channel.getJob(s.jobId);
    const tip = this.tip;
    if (cj === undefined) {
      const known = this.recentJobs.get(s.jobId);
      const stale = known !== undefined && known.prevHash !== null && (tip === null || !equalBytes(known.prevHash, tip.prevHash));
      return this.reject(channel, endpoint, stale ? "stale-share" : "invalid-job-id", nowMs);
    }
    const job = cj.job;
    if (job.prevHash === null || tip === null) return this.reject(channel, endpoint, "invalid-job-id", nowMs, "future-job");
    if (!equalBytes(job.prevHash, tip.prevHash)) return this.reject(channel, endpoint, "stale-share", nowMs);

    let extranonce = channel.extranoncePrefix;
    if (channel.kind === "extended") {
      if (s.extranonce === undefined || s.extranonce.length !== channel.extranonceSize) {
        return this.reject(channel, endpoint, "bad-extranonce-size", nowMs);
      }
      extranonce = new Uint8Array(channel.extranonceLength);
      extranonce.set(channel.extranoncePrefix, 0);
      extranonce.set(s.extranonce, channel.extranoncePrefix.length);
    }

    const minNtime = Math.min(job.minNtime ?? job.template.mintime, job.template.mintime);
    if (s.ntime < minNtime) return this.reject(channel, endpoint, "invalid-share", nowMs, "ntime-too-old");
    if (s.ntime > Math.floor(nowMs / 1000) + this.options.ntimeMaxFutureSec) {
      return this.reject(channel, endpoint, "invalid-share", nowMs, "ntime-too-new");
    }
    const mask = this.options.versionMask;
    if (!channel.versionRollingAllowed) {
      if (s.version >>> 0 !== job.version >>> 0) return this.reject(channel, endpoint, "version-rolling-not-allowed", nowMs);
    } else if (((s.version & ~mask) >>> 0) !== ((job.version & ~mask) >>> 0)) {
      return this.reject(channel, endpoint, "invalid-non-rollable-version-bit", nowMs);
    }

    let merkleRoot: Uint8Array;
    if (channel.kind === "standard") {
      if (cj.merkleRoot === null) cj.merkleRoot = job.merkleRoot(extranonce);
      merkleRoot = cj.merkleRoot;
    } else {
      merkleRoot = job.merkleRoot(extranonce);
    }
    const h = this.headerScratch;
    h.version = s.version >>> 0;
    h.prevHash = job.prevHash;
    h.merkleRoot = merkleRoot;
    h.time = s.ntime >>> 0;
    h.bits = job.bits;
    h.nonce = s.nonce >>> 0;
    const header = serializeHeader(h, this.headerBytes);
    const hash = sha256d(header);

    const isBlock = hashMeetsTarget(hash, job.targetLe);
    const meetsJob = hashMeetsTarget(hash, cj.targetLe);
    const meetsCurrent = cj.target === channel.target ? meetsJob : hashMeetsTarget(hash, channel.targetLe);
    // The target before the last retarget, for a few seconds after it (see Channel.grace).
    let graceDifficulty = 0;
    if (!isBlock && !meetsJob && !meetsCurrent) {
      const grace = channel.grace(nowMs);
      if (grace === null || !hashMeetsTarget(hash, grace.targetLe)) return this.reject(channel, endpoint, "difficulty-too-low", nowMs);
      graceDifficulty = grace.difficulty;
    }

    cj.seen ??= new SeenShares(this.options.maxSeenSharesPerJob);
    if (!cj.seen.add(hash)) return this.reject(channel, endpoint, "duplicate-share", nowMs);

    // Credit the harder of the targets the share meets (the job's, or the channel's current one).
    const jobDiff = cj.difficulty;
    const credited = meetsJob && meetsCurrent ? Math.max(jobDiff, channel.difficulty) : meetsJob ? jobDiff : meetsCurrent ? channel.difficulty : graceDifficulty || channel.difficulty;
    const hashDiff = hashDifficulty(hash);

    let block: FoundBlock | null = null;
    if (isBlock) {
      block = {
        hash,
        hashHex: internalToDisplayHex(hash),
        height: job.template.height,
        prevHashHex: internalToDisplayHex(job.prevHash),
        header: header.slice(),
        block: job.assembleBlock(header, extranonce),
        worker: channel.worker.name,
        endpoint,
        channelId: channel.id,
        jobId: job.id,
        templateId: job.template.id,
        coinbaseValue: job.template.coinbaseValue,
        foundAtMs: nowMs,
      };
    }

    channel.stats.accept(credited, hashDiff, nowMs);
    channel.worker.accept(credited, hashDiff, nowMs);
    channel.worker.lastSeenMs = nowMs;
    miner?.accept(credited, hashDiff, nowMs);
    this.totals.accept(credited, hashDiff, nowMs);
    if (block !== null) {
      channel.stats.blockFound();
      channel.worker.blockFound();
      miner?.blockFound();
      this.totals.blockFound();
    }
    const result: ShareResult = { ok: true, difficulty: credited, hashDifficulty: hashDiff, hash, block };
    this.listener.share?.(channel, endpoint, result, nowMs);
    if (block !== null) this.listener.blockFound?.(block);

    channel.vardiff.record(credited);
    const next = retargetOnShare(
      channel.vardiff,
      channel.difficulty,
      nowMs,
      this.options.vardiff,
      channel.difficultyFloor(this.options.vardiff.minDifficulty),
      this.options.vardiff.maxDifficulty,
    );
    if (next !== null && channel.setDifficulty(next, nowMs + this.options.retargetGraceMs)) this.listener.targetChanged?.(channel);
    return result;
  }

  /**
   * The seed's handle_share: `[isValidShare, isValidBlock]`. The seed's ShareData carries the merkle
   * root; SV2 shares do not (the pool rebuilds it), so a given merkle root must match the one the
   * pool computes for the channel, and ntime defaults to the job's min_ntime.
   */
  handleShare(endpoint: string, share: ShareData): [boolean, boolean] {
    const channel = this.channels.get(share.channelId);
    const cj = channel?.getJob(share.jobId);
    if (channel === undefined || channel.endpoint !== endpoint) {
      throw StratumV2Error.pool(`channel ${share.channelId} is not open for ${endpoint}`);
    }
    if (cj !== undefined && channel.kind === "standard" && share.merkleRoot.some((b) => b !== 0)) {
      const expected = cj.merkleRoot ?? cj.job.merkleRoot(channel.extranoncePrefix);
      if (!equalBytes(reverseBytes(share.merkleRoot), expected)) return [false, false];
    }
    const submission: ShareSubmission = {
      channelId: share.channelId,
      sequenceNumber: share.sequenceNumber ?? 0,
      jobId: share.jobId,
      nonce: share.nonce,
      ntime: share.ntime ?? cj?.job.minNtime ?? 0,
      version: share.version,
    };
    if (share.extranonce !== undefined) submission.extranonce = share.extranonce;
    const r = this.submitShare(endpoint, submission);
    return r.ok ? [true, r.block !== null] : [false, false];
  }

  /**
   * The seed's validate_share: does the share's header hash meet `target` (display order)?
   * Uses the job's prev hash and bits and the share's merkle root, version, nonce and ntime.
   */
  validateShare(share: ShareData, jobInfo: JobInfo, target: Hash): boolean {
    const header: BlockHeader = {
      version: share.version >>> 0,
      prevHash: reverseBytes(jobInfo.prevHash),
      merkleRoot: reverseBytes(share.merkleRoot),
      time: share.ntime ?? jobInfo.timestamp,
      bits: jobInfo.bits,
      nonce: share.nonce >>> 0,
    };
    return this.hashLessThanOrEqual(this.calculateBlockHash(header), target);
  }

  /** The seed's calculate_channel_target: the target (display order) for a difficulty. */
  calculateChannelTarget(minDifficulty: number): Hash {
    if (!(minDifficulty > 0)) throw StratumV2Error.pool(`difficulty must be positive, got ${minDifficulty}`);
    return reverseBytes(targetToLeBytes(difficultyToTarget(minDifficulty)));
  }

  /** The seed's calculate_block_hash: double SHA-256 of the header, display order. */
  calculateBlockHash(header: BlockHeader): Hash {
    return reverseBytes(sha256d(serializeHeader(header)));
  }

  /** The seed's hash_less_than_or_equal: compares two hashes as big-endian integers. */
  hashLessThanOrEqual(hash1: Hash, hash2: Hash): boolean {
    for (let i = 0; i < 32; i++) {
      const a = hash1[i] as number;
      const b = hash2[i] as number;
      if (a !== b) return a < b;
    }
    return true;
  }

  /** Periodic vardiff for quiet channels. Returns the channels whose target changed. */
  tick(): Channel[] {
    const nowMs = this.clock.nowMs();
    const changed: Channel[] = [];
    for (const ch of this.channels.values()) {
      const next = retargetWhenIdle(
        ch.vardiff,
        ch.difficulty,
        nowMs,
        this.options.vardiff,
        ch.difficultyFloor(this.options.vardiff.minDifficulty),
        this.options.vardiff.maxDifficulty,
      );
      if (next !== null && ch.setDifficulty(next, nowMs + this.options.retargetGraceMs)) {
        changed.push(ch);
        this.listener.targetChanged?.(ch);
      }
    }
    // Once a minute is plenty for forgetting day-old idle workers.
    if (nowMs - this.lastWorkerSweepMs > 60_000) {
      this.lastWorkerSweepMs = nowMs;
      this.forgetIdleWorkers(this.options.idleWorkerForgetMs, 0);
    }
    return changed;
  }

  // ---- statistics -----------------------------------------------------------------------------

  getPoolStats(): PoolStats {
    const c = this.totals.counters;
    return {
      minerCount: this.miners.size,
      totalShares: c.accepted + c.rejected,
      acceptedShares: c.accepted,
      rejectedShares: c.rejected,
      channelCount: this.channels.size,
      staleShares: c.stale,
      blocksFound: c.blocksFound,
      hashrate: this.totals.meter.hashrate(this.clock.nowMs()),
      workerCount: this.workers.size,
    };
  }

  get totalStats(): MeteredShareStats {
    return this.totals;
  }

  getWorkers(): WorkerStats[] {
    return [...this.workers.values()];
  }

  getWorker(name: string): WorkerStats | undefined {
    return this.workers.get(name);
  }

  /** Restores a worker's counters (persistence across restarts). */
  restoreWorker(name: string, restore: (w: WorkerStats) => void): void {
    restore(this.workerOf(name, this.clock.nowMs()));
  }

  get minerCount(): number {
    return this.miners.size;
  }

  /** The seed's MinerConnection view of one connection. */
  getMiner(endpoint: string): MinerConnection | undefined {
    const miner = this.miners.get(endpoint);
    if (miner === undefined) return undefined;
    const channels = new Map<number, ChannelInfo>();
    for (const ch of miner.channels) channels.set(ch.id, this.channelInfo(ch));
    const c = miner.counters;
    return {
      endpoint,
      channels,
      stats: { totalShares: c.accepted + c.rejected, acceptedShares: c.accepted, rejectedShares: c.rejected, lastShareTime: c.lastShareMs },
    };
  }

  channelInfo(ch: Channel): ChannelInfo {
    const jobs = new Map<number, JobInfo>();
    for (const cj of ch.jobList()) jobs.set(cj.job.id, jobInfo(cj.job));
    return {
      channelId: ch.id,
      target: reverseBytes(ch.targetLe),
      currentJobId: ch.currentJobId,
      minDifficulty: ch.difficulty,
      maxJobs: ch.maxJobs,
      jobs,
      kind: ch.kind,
      userIdentity: ch.worker.name,
      extranoncePrefix: ch.extranoncePrefix,
      extranonceSize: ch.extranonceSize,
    };
  }
}

export function jobInfo(job: Job): JobInfo {
  return {
    jobId: job.id,
    prevHash: job.prevHash === null ? new Uint8Array(32) : reverseBytes(job.prevHash),
    bits: job.bits,
    timestamp: job.minNtime ?? job.template.curtime,
    version: job.version,
    future: job.prevHash === null,
    height: job.template.height,
  };
}
