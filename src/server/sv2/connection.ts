/**
 * One Stratum V2 miner connection: Noise responder -> SetupConnection -> channels -> shares.
 *
 * The connection is written against `ConnectionHost` (what the server provides: the pool service,
 * limits, the job frame cache) and `Outbox` (bounded writes), so its logic has no socket code.
 *
 * Channel layout per connection (spec 5.3.x):
 *  - standard channels of a connection that did NOT set REQUIRES_STANDARD_JOBS share one group
 *    channel: one NewExtendedMiningJob and one SetNewPrevHash to the group id serve them all;
 *  - standard channels of a REQUIRES_STANDARD_JOBS connection (header-only devices) get their own
 *    NewMiningJob with the channel's merkle root;
 *  - extended channels (proxies) get NewExtendedMiningJob each.
 */
import { leBytesToTarget, targetToLeBytes } from "../../bitcoin/target.ts";
import type { Logger } from "../../log.ts";
import { NoiseError } from "../../noise/errors.ts";
import type { ResponderSession } from "../../noise/session.ts";
import type { Sv2Frame } from "../../noise/transport.ts";
import type { Channel } from "../../pool/channel.ts";
import type { Job } from "../../pool/jobs.ts";
import { OpenChannelError } from "../../pool/pool.ts";
import type { ShareSubmission } from "../../pool/share.ts";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../../sv2/constants.ts";
import { Sv2CodecError } from "../../sv2/errors.ts";
import { EXTENSION_ID_MASK } from "../../sv2/frame.ts";
import { decodeMessage, encodeFrame, type Sv2Message } from "../../sv2/messages/registry.ts";
import type { OpenExtendedMiningChannel, OpenStandardMiningChannel, SubmitSharesExtended, SubmitSharesStandard } from "../../sv2/messages/mining.ts";
import type { Outbox } from "../outbox.ts";
import type { PoolService, SessionHooks } from "../pool-service.ts";
import { ChannelTable, type ConnectionChannel, type RateBucket } from "./channel-table.ts";

export type ConnectionState = "handshake" | "setup" | "ready" | "closing" | "closed";

export interface ConnectionLimits {
  maxChannelsPerConnection: number;
  maxSharesPerSecond: number;
  shareBatchSize: number;
}

/** What the server gives each connection. */
export interface ConnectionHost {
  readonly service: PoolService;
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
  /** Cached NewExtendedMiningJob frame (channel id 0, patched per channel by `sendPatched`). */
  extendedJobFrame(job: Job, active: boolean, extranonceLength: number, versionRollingAllowed: boolean): Uint8Array;
  /** Cached SetNewPrevHash frame for an active job (channel id 0). */
  prevHashFrame(job: Job): Uint8Array;
  countDisconnect(reason: string): void;
  countLimit(limit: string, detail: string): void;
  onReady(conn: Sv2Connection): void;
}

/** The socket as a connection closes it (Bun's TCP socket is one). */
export interface ClosableSocket {
  /** Closes after the queued writes. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
}

/** Close reasons that are limits, logged by the server's rate-limited limit log. */
const LIMIT_CLOSES = new Set(["handshake-timeout", "idle-timeout", "slow-client"]);

const CHANNEL_ID_OFFSET = 6; // every job / prev-hash message starts with channel_id right after the header

/**
 * Memory: a pool holds tens of thousands of these, so per-connection state is kept flat and created
 * only when needed (channel records in one small table, no per-connection closures: the session
 * factory is the server's, the pool's hooks are this object). Mind the field count: JavaScriptCore
 * sizes objects in steps, up to 18 fields take 160 bytes, 19 to 26 take 224.
 */
export class Sv2Connection implements SessionHooks {
  state: ConnectionState = "handshake";
  lastReceiveMs: number;
  /** Deadline for handshake + SetupConnection; 0 once set up. Like the other times here, on the server's monotonic clock. */
  setupDeadlineMs: number;
  private setupFlags = 0;
  /** The channels, the group channel, and per channel its rate bucket and batched Successes. */
  private readonly channels = new ChannelTable();
  /** One share-rate bucket for shares naming no channel of this connection (refused anyway); created by the first. */
  private stray: RateBucket | null = null;
  private registered = false;
  private closeReason = "";
  /** While corked, encrypted frames collect here and go out in one socket write (one syscall per burst). */
  private corked = false;
  private corkBuf: Uint8Array[] | null = null;
  /** Created on the first bytes (the handshake queue), so accepting a socket costs no key work. */
  private sessionValue: ResponderSession | null = null;
  /** Input waiting in the server's handshake queue (kept in order); null when not queued. */
  pendingIn: Uint8Array[] | null = null;

  constructor(
    readonly endpoint: string,
    readonly remoteIp: string,
    private readonly host: ConnectionHost,
    /** Shared by the server's connections (one function, not one closure per connection). */
    private readonly makeSession: () => ResponderSession,
    private readonly outbox: Outbox,
    private readonly socket: ClosableSocket,
    nowMs: number,
    handshakeTimeoutMs: number,
  ) {
    this.lastReceiveMs = nowMs;
    this.setupDeadlineMs = nowMs + handshakeTimeoutMs;
  }

  private get session(): ResponderSession {
    this.sessionValue ??= this.makeSession();
    return this.sessionValue;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  get requiresStandardJobs(): boolean {
    return (this.setupFlags & MiningSetupFlags.REQUIRES_STANDARD_JOBS) !== 0;
  }

  get reason(): string {
    return this.closeReason;
  }

  // ---- input ------------------------------------------------------------------------------------

  onData(chunk: Uint8Array, nowMs: number): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.lastReceiveMs = nowMs;
    const out = this.session.receive(chunk);
    for (const bytes of out.outgoing) this.outbox.write(bytes);
    if (out.error !== null) {
      this.fail(noiseReason(out.error), `${out.error.message}`);
      return;
    }
    if (out.handshakeCompleted && this.state === "handshake") this.state = "setup";
    this.cork();
    try {
      for (const frame of out.frames) {
        if (this.state !== "setup" && this.state !== "ready") break;
        this.onFrame(frame);
      }
      this.flushSuccesses();
    } finally {
      this.uncork();
    }
  }

  cork(): void {
    this.corked = true;
  }

  /** Writes everything collected since `cork` as one buffer. */
  uncork(): void {
    this.corked = false;
    const parts = this.corkBuf;
    if (parts === null) return;
    this.corkBuf = null;
    let bytes: Uint8Array;
    if (parts.length === 1) bytes = parts[0] as Uint8Array;
    else {
      let n = 0;
      for (const p of parts) n += p.length;
      bytes = new Uint8Array(n);
      let o = 0;
      for (const p of parts) {
        bytes.set(p, o);
        o += p.length;
      }
    }
    this.writeOut(bytes);
  }

  private onFrame(frame: Sv2Frame): void {
    let msg: Sv2Message;
    try {
      msg = decodeMessage(frame.msgType, frame.payload, frame.extensionType & EXTENSION_ID_MASK);
    } catch (e) {
      if (e instanceof Sv2CodecError && e.reason === "unknown-message" && this.state === "ready") {
        // Spec 3.4: unknown messages are ignored once the connection is set up.
        this.host.countLimit("unknown-message", `type 0x${frame.msgType.toString(16)}`);
        return;
      }
      this.fail("bad-message", e instanceof Error ? e.message : String(e));
      return;
    }
    if (this.state === "setup") {
      if (msg.type !== "SetupConnection") {
        this.fail("no-setup", `${msg.type} before SetupConnection`);
        return;
      }
      this.onSetup(msg.protocol, msg.minVersion, msg.maxVersion, msg.flags);
      return;
    }
    switch (msg.type) {
      case "SubmitSharesStandard":
      case "SubmitSharesExtended":
        this.onShare(msg);
        return;
      case "OpenStandardMiningChannel":
        this.onOpenStandard(msg);
        return;
      case "OpenExtendedMiningChannel":
        this.onOpenExtended(msg);
        return;
      case "UpdateChannel":
        this.onUpdateChannel(msg.channelId, msg.nominalHashRate, msg.maximumTarget);
        return;
      case "CloseChannel":
        this.closeChannel(msg.channelId);
        return;
      case "SetupConnection":
        this.fail("protocol-violation", "SetupConnection sent twice");
        return;
      default:
        // Messages a pool never receives (e.g. SetTarget from a miner): a broken peer.
        this.fail("protocol-violation", `unexpected ${msg.type} from a miner`);
    }
  }

  // ---- setup ------------------------------------------------------------------------------------

  private onSetup(protocol: number, minVersion: number, maxVersion: number, flags: number): void {
    if (protocol !== Protocol.Mining) {
      this.send({ type: "SetupConnectionError", flags: 0, errorCode: "unsupported-protocol" });
      this.fail("setup-refused", `protocol ${protocol} is not served here (only Mining = 0)`, true);
      return;
    }
    if (minVersion > SV2_VERSION || maxVersion < SV2_VERSION) {
      this.send({ type: "SetupConnectionError", flags: 0, errorCode: "protocol-version-mismatch" });
      this.fail("setup-refused", `versions ${minVersion}..${maxVersion} do not include ${SV2_VERSION}`, true);
      return;
    }
    if ((flags & MiningSetupFlags.REQUIRES_WORK_SELECTION) !== 0) {
      // Custom work needs Job Declaration, which this pool does not run.
      this.send({ type: "SetupConnectionError", flags: MiningSetupFlags.REQUIRES_WORK_SELECTION, errorCode: "unsupported-feature-flags" });
      this.fail("setup-refused", "REQUIRES_WORK_SELECTION is not supported", true);
      return;
    }
    this.setupFlags = flags;
    // Version rolling is always allowed, so REQUIRES_VERSION_ROLLING needs nothing; we never demand
    // fixed versions or extended channels: the answer's flags are 0.
    this.send({ type: "SetupConnectionSuccess", usedVersion: SV2_VERSION, flags: 0 });
    this.state = "ready";
    this.setupDeadlineMs = 0;
    this.host.service.registerSession(this.endpoint, this);
    this.registered = true;
    this.host.onReady(this);
  }

  // ---- channels ---------------------------------------------------------------------------------

  private channelLimitReached(requestId: number): boolean {
    if (this.channelCount < this.host.limits.maxChannelsPerConnection) return false;
    this.host.countLimit("channels-per-connection", this.endpoint);
    this.send({ type: "OpenMiningChannelError", requestId, errorCode: "max-channels-reached" });
    return true;
  }

  private onOpenStandard(msg: OpenStandardMiningChannel): void {
    if (this.channelLimitReached(msg.requestId)) return;
    const pool = this.host.service.pool;
    let ch: Channel;
    try {
      ch = pool.openStandardChannel(this.endpoint, {
        userIdentity: msg.userIdentity,
        nominalHashrate: msg.nominalHashRate,
        maxTarget: leBytesToTarget(msg.maxTarget),
      });
    } catch (e) {
      this.refuseChannel(msg.requestId, e);
      return;
    }
    let groupId = 0;
    let entry: ConnectionChannel;
    if (!this.requiresStandardJobs) {
      if (this.channels.groupId === 0) this.channels.groupId = pool.allocateGroupId();
      entry = this.channels.add(ch, "group");
      groupId = this.channels.groupId;
    } else {
      entry = this.channels.add(ch, "solo");
    }
    this.send({ type: "OpenStandardMiningChannelSuccess", requestId: msg.requestId, channelId: ch.id, target: ch.targetLe, extranoncePrefix: ch.extranoncePrefix, groupChannelId: groupId });
    this.primeChannel(entry);
  }

  private onOpenExtended(msg: OpenExtendedMiningChannel): void {
    if (this.channelLimitReached(msg.requestId)) return;
    let ch: Channel;
    try {
      ch = this.host.service.pool.openExtendedChannel(this.endpoint, {
        userIdentity: msg.userIdentity,
        nominalHashrate: msg.nominalHashRate,
        maxTarget: leBytesToTarget(msg.maxTarget),
        minExtranonceSize: msg.minExtranonceSize,
      });
    } catch (e) {
      this.refuseChannel(msg.requestId, e);
      return;
    }
    const entry = this.channels.add(ch, "extended");
    this.send({
      type: "OpenExtendedMiningChannelSuccess",
      requestId: msg.requestId,
      channelId: ch.id,
      target: ch.targetLe,
      extranonceSize: ch.extranonceSize,
      extranoncePrefix: ch.extranoncePrefix,
      groupChannelId: 0,
    });
    this.primeChannel(entry);
  }

  private refuseChannel(requestId: number, e: unknown): void {
    const code = e instanceof OpenChannelError ? e.code : "unknown-user";
    this.host.logger.info("channel refused", { endpoint: this.endpoint, code, error: e instanceof Error ? e.message : String(e) });
    this.send({ type: "OpenMiningChannelError", requestId, errorCode: code });
  }

  /** A new channel gets the current job (future + SetNewPrevHash) and the speculative next one. */
  private primeChannel(entry: ConnectionChannel): void {
    const ch = entry.channel;
    const { current, speculative } = this.host.service.pool.jobsForNewChannel();
    const inGroup = entry.route === "group";
    if (inGroup && this.channels.groupPrimed) {
      // The group already has these jobs: only record them for the new channel's share checks.
      if (current !== null) this.host.service.pool.assignJob(ch, current, false);
      if (speculative !== null) this.host.service.pool.assignJob(ch, speculative, false);
      return;
    }
    if (current !== null && current.prevHash !== null) {
      this.sendJobTo(entry, current, false);
      this.sendPrevHashTo(inGroup ? this.channels.groupId : ch.id, current);
    }
    if (speculative !== null && speculative !== current) this.sendJobTo(entry, speculative, false);
    if (inGroup) this.channels.groupPrimed = current !== null;
  }

  private onUpdateChannel(channelId: number, nominalHashrate: number, maximumTarget: Uint8Array): void {
    try {
      // The pool calls targetChanged, which sends SetTarget.
      this.host.service.pool.updateChannel(this.endpoint, channelId, nominalHashrate, leBytesToTarget(maximumTarget));
    } catch (e) {
      const code = e instanceof OpenChannelError ? e.code : "invalid-channel-id";
      this.send({ type: "UpdateChannelError", channelId, errorCode: code });
    }
  }

  private closeChannel(channelId: number): void {
    this.host.service.pool.closeChannel(this.endpoint, channelId);
    this.channels.delete(channelId);
  }

  /** SessionHooks: vardiff or UpdateChannel changed a channel's target. */
  targetChanged(ch: Channel): void {
    this.sendSetTarget(ch);
  }

  sendSetTarget(ch: Channel): void {
    this.send({ type: "SetTarget", channelId: ch.id, maximumTarget: targetToLeBytes(ch.target) });
  }

  // ---- shares -----------------------------------------------------------------------------------

  private onShare(msg: SubmitSharesStandard | SubmitSharesExtended): void {
    const nowMs = this.host.service.clock.nowMs();
    const entry = this.channels.get(msg.channelId);
    if (!this.withinRate(entry, nowMs)) {
      this.send({ type: "SubmitSharesError", channelId: msg.channelId, sequenceNumber: msg.sequenceNumber, errorCode: "rate-limited" });
      return;
    }
    // The decoded message has the submission's fields (and the extranonce of an extended share):
    // no copy per share.
    const submission: ShareSubmission = msg;
    const result = this.host.service.submitShare(this.endpoint, submission);
    if (!result.ok) {
      // Answer errors after any successes already batched for this channel, keeping order.
      if (entry !== undefined) this.flushSuccess(entry);
      this.send({ type: "SubmitSharesError", channelId: msg.channelId, sequenceNumber: msg.sequenceNumber, errorCode: result.reason });
      return;
    }
    if (entry === undefined) {
      // Accepted on a channel this connection does not list (cannot happen: the pool checks the
      // channel's connection); answer it alone rather than lose the answer.
      this.sendSuccess(msg.channelId, msg.sequenceNumber, 1, result.difficulty);
      return;
    }
    entry.pendingLastSequence = msg.sequenceNumber;
    entry.pendingCount++;
    entry.pendingDifficultySum += result.difficulty;
    this.channels.pendingAny = true;
    if (entry.pendingCount >= this.host.limits.shareBatchSize) this.flushSuccess(entry);
  }

  /**
   * Token bucket per channel: `maxSharesPerSecond`, with a burst of the same size. Shares naming a
   * channel this connection does not have share one bucket (they are refused either way).
   */
  private withinRate(entry: ConnectionChannel | undefined, nowMs: number): boolean {
    const cap = this.host.limits.maxSharesPerSecond;
    const b = entry ?? (this.stray ??= { rateTokens: 0, rateLastMs: -1 });
    if (b.rateLastMs < 0) {
      b.rateTokens = cap;
      b.rateLastMs = nowMs;
    }
    // A wall clock stepped back must not drain the bucket (hours of refusals): elapsed time is never negative.
    b.rateTokens = Math.min(cap, b.rateTokens + (Math.max(0, nowMs - b.rateLastMs) * cap) / 1000);
    b.rateLastMs = nowMs;
    if (b.rateTokens < 1) {
      this.host.countLimit("share-rate", this.endpoint);
      return false;
    }
    b.rateTokens -= 1;
    return true;
  }

  private flushSuccess(entry: ConnectionChannel): void {
    if (entry.pendingCount === 0) return;
    this.sendSuccess(entry.channel.id, entry.pendingLastSequence, entry.pendingCount, entry.pendingDifficultySum);
    entry.pendingCount = 0;
    entry.pendingDifficultySum = 0;
  }

  private sendSuccess(channelId: number, lastSequence: number, count: number, difficultySum: number): void {
    this.send({
      type: "SubmitSharesSuccess",
      channelId,
      lastSequenceNumber: lastSequence,
      newSubmitsAcceptedCount: count,
      newSharesSum: BigInt(Math.max(0, Math.round(difficultySum))),
    });
  }

  /** One SubmitShares.Success per channel per read burst (spec: batching is the pool's choice). */
  private flushSuccesses(): void {
    if (!this.channels.pendingAny) return;
    this.channels.pendingAny = false;
    for (const entry of this.channels.entries) this.flushSuccess(entry);
  }

  // ---- jobs (called by the server's fan-out) ----------------------------------------------------

  /** Sends `job` (future when !active) to every channel of this connection. */
  sendJob(job: Job, active: boolean): void {
    if (this.state !== "ready") return;
    const entries = this.channels.entries;
    if (this.channels.groupSize > 0) {
      const pool = this.host.service.pool;
      let first: Channel | null = null;
      for (const e of entries) {
        if (e.route !== "group") continue;
        pool.assignJob(e.channel, job, false);
        first ??= e.channel;
      }
      this.sendPatched(this.host.extendedJobFrame(job, active, (first as Channel).extranonceLength, true), this.channels.groupId);
      this.channels.groupPrimed = true;
    }
    // Extended channels first, then header-only ones, as the channels were always served.
    for (const e of entries) if (e.route === "extended") this.sendJobTo(e, job, active);
    for (const e of entries) if (e.route === "solo") this.sendJobTo(e, job, active);
  }

  /** Sends SetNewPrevHash for an activated future job to every channel (or group) of this connection. */
  sendPrevHash(job: Job): void {
    if (this.state !== "ready") return;
    const entries = this.channels.entries;
    if (this.channels.groupSize > 0) this.sendPrevHashTo(this.channels.groupId, job);
    for (const e of entries) if (e.route === "extended") this.sendPrevHashTo(e.channel.id, job);
    for (const e of entries) if (e.route === "solo") this.sendPrevHashTo(e.channel.id, job);
  }

  private sendJobTo(entry: ConnectionChannel, job: Job, active: boolean): void {
    const pool = this.host.service.pool;
    const ch = entry.channel;
    if (entry.route === "solo") {
      const cj = pool.assignJob(ch, job, true);
      this.send({
        type: "NewMiningJob",
        channelId: ch.id,
        jobId: job.id,
        minNtime: active ? job.minNtime : null,
        version: job.version,
        merkleRoot: cj.merkleRoot as Uint8Array,
      });
      return;
    }
    pool.assignJob(ch, job, false);
    const target = entry.route === "group" ? this.channels.groupId : ch.id;
    this.sendPatched(this.host.extendedJobFrame(job, active, ch.extranonceLength, ch.versionRollingAllowed), target);
  }

  private sendPrevHashTo(channelId: number, job: Job): void {
    this.sendPatched(this.host.prevHashFrame(job), channelId);
  }

  // ---- output -----------------------------------------------------------------------------------

  send(msg: Sv2Message): void {
    if (this.state === "closed") return;
    this.writeEncrypted(this.session.sendSerialized(encodeFrame(msg)));
  }

  /** Writes a cached frame with its channel id replaced (the cache is only read back after encryption). */
  private sendPatched(frame: Uint8Array, channelId: number): void {
    if (this.state === "closed") return;
    new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(CHANNEL_ID_OFFSET, channelId, true);
    this.writeEncrypted(this.session.sendSerialized(frame));
  }

  private writeEncrypted(bytes: Uint8Array): void {
    if (this.corked) {
      if (this.corkBuf === null) this.corkBuf = [bytes];
      else this.corkBuf.push(bytes);
      return;
    }
    this.writeOut(bytes);
  }

  /** The socket can take more: write what the outbox holds. */
  drain(): void {
    this.outbox.drain();
  }

  private writeOut(bytes: Uint8Array): void {
    if (this.state === "closed") return;
    if (this.outbox.write(bytes)) return;
    this.host.countLimit("write-buffer", this.endpoint);
    this.fail("slow-client", `write buffer over its cap; the peer does not read fast enough`);
  }

  /** Server shutdown: ask the miner to come back (to this address) and close after the write. */
  sendReconnect(): void {
    if (this.state === "ready") this.send({ type: "Reconnect", newHost: "", newPort: 0 });
  }

  // ---- end --------------------------------------------------------------------------------------

  fail(reason: string, detail: string, graceful = false): void {
    if (this.state === "closed" || this.state === "closing") return;
    // Whatever was answered before the failure (e.g. SetupConnection.Error) goes out first.
    if (this.corked) this.uncork();
    this.closeReason = reason;
    this.state = "closing";
    this.host.countDisconnect(reason);
    // Limit closes can come by the thousand (a storm of half-open sockets): the server logs those once
    // per cause (countLimit); the per-connection line is then only for debugging.
    const level = LIMIT_CLOSES.has(reason) ? "debug" : "info";
    this.host.logger[level]("closing SV2 connection", { endpoint: this.endpoint, reason, detail });
    if (graceful) this.socket.end();
    else this.socket.terminate();
  }

  /** Server stop: cuts the socket whatever its state. */
  terminate(): void {
    this.socket.terminate();
  }

  /** The socket is gone: release the miner's channels. */
  onClosed(): void {
    if (this.state === "closed") return;
    if (this.state !== "closing") this.host.countDisconnect("peer-closed");
    this.state = "closed";
    if (this.registered) this.host.service.unregisterSession(this.endpoint);
    this.registered = false;
  }
}

function noiseReason(e: NoiseError): string {
  return `noise-${e.code}`;
}
