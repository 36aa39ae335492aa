/**
 * A Stratum V2 mining device in software: Noise initiator that checks the pool's certificate against
 * the configured authority key, SetupConnection, one standard or extended channel, CPU mining on the
 * active job, share submission, and reconnect (with backoff, and at once on Reconnect).
 *
 * Mining runs in short batches with a macrotask yield between them, so many miners share one process
 * (`sv2pool miner --count N`) and the event loop stays responsive.
 */
import { concatBytes } from "../bitcoin/bytes.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { HeaderHasher } from "../bitcoin/header.ts";
import { merkleRootFromPath } from "../bitcoin/merkle.ts";
import { hashMeetsTarget, MAX_TARGET, nbitsToTarget, targetToLeBytes } from "../bitcoin/target.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { decodeAuthorityPublicKey } from "../noise/keys.ts";
import { InitiatorSession } from "../noise/session.ts";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../sv2/constants.ts";
import { EXTENSION_ID_MASK } from "../sv2/frame.ts";
import { decodeMessage, encodeFrame, type Sv2Message } from "../sv2/messages/registry.ts";

export type ChannelKind = "standard" | "extended";

export interface Sv2MinerOptions {
  host: string;
  port: number;
  /** The pool's authority public key (base58check, as `sv2pool keygen` prints it) or x-only bytes. */
  authorityPublicKey: string | Uint8Array;
  /** user_identity: the worker name, e.g. "farm.rig7". */
  user: string;
  channel?: ChannelKind;
  /** Header-only device: ask for NewMiningJob per channel instead of group jobs. */
  requireStandardJobs?: boolean;
  /** Announced hashrate (H/s); the pool sets the first target from it. */
  nominalHashrate?: number;
  /** Extended channels: rollable extranonce bytes wanted. */
  minExtranonceSize?: number;
  /** Hashes per batch before yielding (default 2048). */
  batch?: number;
  /** Cap on hashes per second (0 = as fast as the CPU allows). */
  maxHashrate?: number;
  /** Roll version bits (BIP320 mask) when nonces run out; default true. */
  versionRolling?: boolean;
  reconnect?: boolean;
  logger?: Logger;
  /** Clock for certificate checks (tests). */
  nowMs?: () => number;
}

export interface Sv2MinerStats {
  hashes: number;
  submitted: number;
  accepted: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Shares whose hash also met the network target. */
  blockCandidates: number;
  connects: number;
  jobs: number;
  prevHashes: number;
}

interface ActiveWork {
  jobId: number;
  version: number;
  versionRollingAllowed: boolean;
  prevHash: Uint8Array;
  merkleRoot: Uint8Array | null;
  /** Extended jobs: build the merkle root from these with our extranonce. */
  coinbasePrefix: Uint8Array | null;
  coinbaseSuffix: Uint8Array | null;
  merklePath: Uint8Array[];
  ntime: number;
  bits: number;
  networkTargetLe: Uint8Array;
}

interface PendingJob {
  jobId: number;
  version: number;
  versionRollingAllowed: boolean;
  minNtime: number | null;
  merkleRoot: Uint8Array | null;
  coinbasePrefix: Uint8Array | null;
  coinbaseSuffix: Uint8Array | null;
  merklePath: Uint8Array[];
}

const BIP320_MASK = 0x1fffe000;

export class Sv2Miner {
  readonly stats: Sv2MinerStats = { hashes: 0, submitted: 0, accepted: 0, rejected: 0, rejectReasons: {}, blockCandidates: 0, connects: 0, jobs: 0, prevHashes: 0 };
  /** Called for every message from the pool (tests and the CLI's verbose mode). */
  onMessage: ((msg: Sv2Message) => void) | null = null;
  channelId: number | null = null;
  groupChannelId: number | null = null;
  extranoncePrefix: Uint8Array = new Uint8Array(0);
  extranonceSize = 0;
  targetLe: Uint8Array = targetToLeBytes(MAX_TARGET);
  private readonly opts: Required<Omit<Sv2MinerOptions, "logger" | "nowMs" | "authorityPublicKey">>;
  private readonly authority: Uint8Array;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private socket: import("bun").Socket<undefined> | null = null;
  private session: InitiatorSession | null = null;
  private readonly jobs = new Map<number, PendingJob>();
  private work: ActiveWork | null = null;
  private nonce = 0;
  private versionRoll = 0;
  private sequence = 0;
  private running = false;
  private miningScheduled = false;
  private readonly hasher = new HeaderHasher();
  private rateWindowStart = 0;
  private rateWindowHashes = 0;
  private backoffMs = 250;
  private readyResolvers: (() => void)[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** Extended channels: the extranonce currently mined (rolled part only). */
  private extranonce: Uint8Array = new Uint8Array(0);

  constructor(options: Sv2MinerOptions) {
    this.authority = typeof options.authorityPublicKey === "string" ? decodeAuthorityPublicKey(options.authorityPublicKey) : options.authorityPublicKey;
    this.logger = options.logger ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.opts = {
      host: options.host,
      port: options.port,
      user: options.user,
      channel: options.channel ?? "standard",
      requireStandardJobs: options.requireStandardJobs ?? false,
      nominalHashrate: options.nominalHashrate ?? 0,
      minExtranonceSize: options.minExtranonceSize ?? 4,
      batch: options.batch ?? 2048,
      maxHashrate: options.maxHashrate ?? 0,
      versionRolling: options.versionRolling ?? true,
      reconnect: options.reconnect ?? true,
    };
  }

  get connected(): boolean {
    return this.channelId !== null;
  }

  get currentJobId(): number | null {
    return this.work?.jobId ?? null;
  }

  get currentPrevHash(): Uint8Array | null {
    return this.work?.prevHash ?? null;
  }

  /** Connects and resolves once a channel is open. */
  async start(): Promise<void> {
    this.running = true;
    const ready = new Promise<void>((resolve) => this.readyResolvers.push(resolve));
    await this.connect();
    await ready;
  }

  stop(): void {
    this.running = false;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.socket?.end();
    this.socket = null;
  }

  private async connect(): Promise<void> {
    this.channelId = null;
    this.work = null;
    this.jobs.clear();
    const session = new InitiatorSession({ authorityXonly: this.authority, clock: { nowMs: this.nowMs } });
    this.session = session;
    try {
      this.socket = await Bun.connect<undefined>({
        hostname: this.opts.host,
        port: this.opts.port,
        socket: {
          open: (s) => {
            s.write(session.start());
          },
          data: (_s, chunk) => this.onData(session, chunk),
          close: () => this.onClose(session),
          error: (_s, e) => this.logger.debug("miner socket error", { error: e.message }),
        },
      });
    } catch (e) {
      this.logger.warn("cannot connect to the pool", { error: e instanceof Error ? e.message : String(e) });
      this.scheduleReconnect();
    }
  }

  private onClose(session: InitiatorSession): void {
    if (session !== this.session) return;
    this.channelId = null;
    this.work = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(delayMs?: number): void {
    if (!this.running || !this.opts.reconnect || this.reconnectTimer !== null) return;
    const wait = delayMs ?? this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) void this.connect();
    }, wait);
  }

  private onData(session: InitiatorSession, chunk: Uint8Array): void {
    if (session !== this.session) return;
    const out = session.receive(chunk);
    if (out.error !== null) {
      this.logger.warn("pool connection failed", { error: out.error.message });
      this.socket?.end();
      return;
    }
    if (out.handshakeCompleted) {
      this.send({
        type: "SetupConnection",
        protocol: Protocol.Mining,
        minVersion: SV2_VERSION,
        maxVersion: SV2_VERSION,
        flags: (this.opts.requireStandardJobs ? MiningSetupFlags.REQUIRES_STANDARD_JOBS : 0) | (this.opts.versionRolling ? MiningSetupFlags.REQUIRES_VERSION_ROLLING : 0),
        endpointHost: this.opts.host,
        endpointPort: this.opts.port,
        vendor: "sv2pool",
        hardwareVersion: "cpu",
        firmware: "sv2pool-miner",
        deviceId: this.opts.user,
      });
    }
    for (const f of out.frames) {
      let msg: Sv2Message;
      try {
        msg = decodeMessage(f.msgType, f.payload, f.extensionType & EXTENSION_ID_MASK);
      } catch (e) {
        this.logger.debug("undecodable message from the pool", { error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      this.onMessage?.(msg);
      this.handle(msg);
    }
  }

  /** Sends any message (tests use it to submit hand-made shares). */
  send(msg: Sv2Message): void {
    if (this.session === null || this.socket === null) return;
    this.socket.write(this.session.sendSerialized(encodeFrame(msg)));
  }

  private handle(msg: Sv2Message): void {
    switch (msg.type) {
      case "SetupConnectionSuccess":
        this.stats.connects++;
        this.backoffMs = 250;
        if (this.opts.channel === "standard") {
          this.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: this.opts.user, nominalHashRate: this.opts.nominalHashrate, maxTarget: targetToLeBytes(MAX_TARGET) });
        } else {
          this.send({
            type: "OpenExtendedMiningChannel",
            requestId: 1,
            userIdentity: this.opts.user,
            nominalHashRate: this.opts.nominalHashrate,
            maxTarget: targetToLeBytes(MAX_TARGET),
            minExtranonceSize: this.opts.minExtranonceSize,
          });
        }
        return;
      case "SetupConnectionError":
        this.logger.error("pool refused SetupConnection", { code: msg.errorCode });
        this.stop();
        return;
      case "OpenStandardMiningChannelSuccess":
        this.channelId = msg.channelId;
        this.groupChannelId = msg.groupChannelId === 0 ? null : msg.groupChannelId;
        this.extranoncePrefix = msg.extranoncePrefix;
        this.extranonceSize = 0;
        this.targetLe = msg.target;
        this.channelReady();
        return;
      case "OpenExtendedMiningChannelSuccess":
        this.channelId = msg.channelId;
        this.extranoncePrefix = msg.extranoncePrefix;
        this.extranonceSize = msg.extranonceSize;
        this.extranonce = new Uint8Array(msg.extranonceSize);
        this.targetLe = msg.target;
        this.channelReady();
        return;
      case "OpenMiningChannelError":
        this.logger.error("pool refused the channel", { code: msg.errorCode });
        return;
      case "NewMiningJob":
        this.addJob({ jobId: msg.jobId, version: msg.version, versionRollingAllowed: true, minNtime: msg.minNtime, merkleRoot: msg.merkleRoot, coinbasePrefix: null, coinbaseSuffix: null, merklePath: [] });
        return;
      case "NewExtendedMiningJob":
        this.addJob({
          jobId: msg.jobId,
          version: msg.version,
          versionRollingAllowed: msg.versionRollingAllowed,
          minNtime: msg.minNtime,
          merkleRoot: null,
          coinbasePrefix: msg.coinbaseTxPrefix,
          coinbaseSuffix: msg.coinbaseTxSuffix,
          merklePath: msg.merklePath,
        });
        return;
      case "SetNewPrevHash": {
        this.stats.prevHashes++;
        const job = this.jobs.get(msg.jobId);
        // Jobs of the previous block can never be mined again.
        for (const id of [...this.jobs.keys()]) if (id < msg.jobId) this.jobs.delete(id);
        if (job === undefined) return;
        this.activate(job, msg.prevHash, msg.minNtime, msg.nbits);
        return;
      }
      case "SetTarget":
        this.targetLe = msg.maximumTarget;
        return;
      case "SubmitSharesSuccess":
        this.stats.accepted += msg.newSubmitsAcceptedCount;
        return;
      case "SubmitSharesError":
        this.stats.rejected++;
        this.stats.rejectReasons[msg.errorCode] = (this.stats.rejectReasons[msg.errorCode] ?? 0) + 1;
        return;
      case "Reconnect":
        this.logger.info("pool asked us to reconnect", { host: msg.newHost, port: msg.newPort });
        if (msg.newHost !== "") this.opts.host = msg.newHost;
        if (msg.newPort !== 0) this.opts.port = msg.newPort;
        this.socket?.end();
        return;
      default:
        return;
    }
  }

  private channelReady(): void {
    for (const r of this.readyResolvers.splice(0)) r();
  }

  private addJob(job: PendingJob): void {
    this.stats.jobs++;
    this.jobs.set(job.jobId, job);
    // A job with min_ntime is for the current prev hash: switch to it now.
    if (job.minNtime !== null && this.work !== null) {
      this.activate(job, this.work.prevHash, job.minNtime, this.work.bits);
    }
  }

  private activate(job: PendingJob, prevHash: Uint8Array, minNtime: number, bits: number): void {
    let networkTargetLe: Uint8Array;
    try {
      networkTargetLe = targetToLeBytes(nbitsToTarget(bits));
    } catch {
      networkTargetLe = new Uint8Array(32);
    }
    this.work = {
      jobId: job.jobId,
      version: job.version,
      versionRollingAllowed: job.versionRollingAllowed,
      prevHash,
      merkleRoot: job.merkleRoot,
      coinbasePrefix: job.coinbasePrefix,
      coinbaseSuffix: job.coinbaseSuffix,
      merklePath: job.merklePath,
      ntime: Math.max(minNtime, Math.floor(this.nowMs() / 1000)),
      bits,
      networkTargetLe,
    };
    this.nonce = 0;
    this.versionRoll = 0;
    this.loadHeader();
    this.scheduleMining();
  }

  /** Merkle root of the current work with the current extranonce. */
  private merkleRootFor(work: ActiveWork): Uint8Array {
    if (work.merkleRoot !== null) return work.merkleRoot;
    const prefix = work.coinbasePrefix as Uint8Array;
    const suffix = work.coinbaseSuffix as Uint8Array;
    const coinbase = concatBytes(prefix, this.extranoncePrefix, this.extranonce, suffix);
    return merkleRootFromPath(sha256d(coinbase), work.merklePath);
  }

  private loadHeader(): void {
    const w = this.work;
    if (w === null) return;
    this.hasher.load({ version: this.currentVersion(w), prevHash: w.prevHash, merkleRoot: this.merkleRootFor(w), time: w.ntime, bits: w.bits, nonce: 0 });
  }

  private currentVersion(w: ActiveWork): number {
    if (!w.versionRollingAllowed || !this.opts.versionRolling || this.versionRoll === 0) return w.version >>> 0;
    return ((w.version & ~BIP320_MASK) | ((this.versionRoll << 13) & BIP320_MASK)) >>> 0;
  }

  private scheduleMining(): void {
    if (this.miningScheduled || !this.running) return;
    this.miningScheduled = true;
    setImmediate(() => {
      this.miningScheduled = false;
      this.mineBatch();
    });
  }

  private mineBatch(): void {
    const w = this.work;
    if (w === null || this.channelId === null || !this.running) return;
    let batch = this.opts.batch;
    if (this.opts.maxHashrate > 0) {
      const now = performance.now();
      if (now - this.rateWindowStart > 1000) {
        this.rateWindowStart = now;
        this.rateWindowHashes = 0;
      }
      const allowed = this.opts.maxHashrate - this.rateWindowHashes;
      if (allowed <= 0) {
        setTimeout(() => this.mineBatch(), Math.max(1, 1000 - (now - this.rateWindowStart)));
        return;
      }
      batch = Math.min(batch, allowed);
      this.rateWindowHashes += batch;
    }
    const target = this.targetLe;
    for (let i = 0; i < batch; i++) {
      this.hasher.setNonce(this.nonce);
      const hash = this.hasher.hash();
      if (hashMeetsTarget(hash, target)) this.submit(w, this.nonce, hashMeetsTarget(hash, w.networkTargetLe));
      this.nonce = (this.nonce + 1) >>> 0;
      if (this.nonce === 0) this.rollWork(w);
      if (this.work !== w) break;
    }
    this.stats.hashes += batch;
    this.scheduleMining();
  }

  /** Nonce space exhausted: roll version bits, else the extranonce (extended), else ntime. */
  private rollWork(w: ActiveWork): void {
    if (w.versionRollingAllowed && this.opts.versionRolling && this.versionRoll < 0xffff) this.versionRoll++;
    else if (this.extranonceSize > 0) {
      // Little-endian counter over however many bytes the pool gave us.
      for (let i = 0; i < this.extranonce.length; i++) {
        this.extranonce[i] = ((this.extranonce[i] as number) + 1) & 0xff;
        if (this.extranonce[i] !== 0) break;
      }
      this.versionRoll = 0;
    } else w.ntime++;
    this.loadHeader();
  }

  private submit(w: ActiveWork, nonce: number, isBlock: boolean): void {
    if (this.channelId === null) return;
    this.stats.submitted++;
    if (isBlock) this.stats.blockCandidates++;
    const version = this.currentVersion(w);
    const sequenceNumber = this.sequence++ >>> 0;
    if (this.extranonceSize > 0 || this.opts.channel === "extended") {
      this.send({ type: "SubmitSharesExtended", channelId: this.channelId, sequenceNumber, jobId: w.jobId, nonce, ntime: w.ntime, version, extranonce: this.extranonce.slice() });
    } else {
      this.send({ type: "SubmitSharesStandard", channelId: this.channelId, sequenceNumber, jobId: w.jobId, nonce, ntime: w.ntime, version });
    }
  }
}
