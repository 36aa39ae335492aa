/**
 * One Stratum V1 connection: the JSON-RPC state machine between a miner's lines and the pool core.
 *
 * A session is one extended channel of the pool core, opened on mining.authorize under the worker
 * name, so validation, vardiff, duplicate/stale detection, statistics and the block path are the V2
 * code. The coinbase extranonce region of every V1 session has the same layout:
 *
 *     channel prefix P (4 bytes, unique pool-wide) ‖ session tag S (4 bytes) ‖ extranonce2 (miner)
 *
 * The channel's rolled part is S ‖ extranonce2. mining.subscribe must return extranonce1 before the
 * worker is known, and the core only hands out P when the channel opens, so a session first gets
 * extranonce1 = S and receives P at the end of coinb1. Sessions that sent mining.extranonce.subscribe
 * are switched to extranonce1 = P ‖ S (mining.set_extranonce) before their first job, and then get
 * the notify line that is byte-identical for all of them.
 */
import { bytesToHex, concatBytes } from "../../bitcoin/bytes.ts";
import { MAX_TARGET, difficultyToTarget, targetToDifficulty } from "../../bitcoin/target.ts";
import type { LogFields } from "../../log.ts";
import type { Channel } from "../../pool/channel.ts";
import type { Job } from "../../pool/jobs.ts";
import { OpenChannelError } from "../../pool/pool.ts";
import type { ShareSubmission } from "../../pool/share.ts";
import {
  SV1_ERROR,
  LineSplitter,
  announcedDifficulty,
  bitCount,
  errorLine,
  notificationLine,
  parseConfigure,
  parseDifficulty,
  parseHexBytes,
  parsePassword,
  parseRequest,
  parseSv1JobId,
  parseU32Hex,
  rejectToSv1,
  resultLine,
  rolledVersion,
  u32Hex,
  type NotifyLine,
  type Sv1Error,
  type Sv1Request,
} from "./protocol.ts";
import type { Sv1ServerContext } from "./context.ts";

/** Bytes of the session tag S (see the module comment). */
export const SESSION_TAG_SIZE = 4;
/** Consecutive bad lines (non-JSON, not a request) tolerated before the connection is closed. */
export const MAX_BAD_LINES = 10;

const encoder = new TextEncoder();

/** Token bucket: `rate` per second, bursts up to `rate`. */
class RateBucket {
  private tokens: number;
  private lastMs: number;
  constructor(
    private readonly rate: number,
    nowMs: number,
  ) {
    this.tokens = rate;
    this.lastMs = nowMs;
  }
  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.rate, this.tokens + ((nowMs - this.lastMs) * this.rate) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What a session needs from its socket. */
export interface Sv1Link {
  /** Queues bytes; false when the write buffer overflowed (the session is then closed). */
  write(bytes: Uint8Array): boolean;
  /** Closes the socket (graceful: after what is written; else at once). */
  close(graceful: boolean): void;
}

export type SessionState = "open" | "closed";

export class Sv1Session {
  readonly endpoint: string;
  readonly remoteIp: string;
  /** S: fixed for the session, the first extranonce1 it announces. */
  readonly sessionTag: Uint8Array;
  readonly subscriptionId: string;
  subscribed = false;
  channel: Channel | null = null;
  workerName: string | null = null;
  /** Negotiated by mining.configure (miner mask AND pool mask); null when never negotiated. */
  versionMask: number | null = null;
  /** The mask the miner asked for (kept to renegotiate when the pool's mask changes). */
  minerVersionMask = 0;
  extranonceSubscribed = false;
  /** After mining.set_extranonce: extranonce1 = P ‖ S and the shared notify line. */
  extranonce1IsFull = false;
  lastReceiveMs: number;
  state: SessionState = "open";
  /** Difficulty asked for before the channel existed (password d=, suggest_difficulty). */
  private suggestedDifficulty: number | null = null;
  /** Lowest difficulty the miner accepts (mining.configure minimum-difficulty). */
  private minerMinDifficulty: number | null = null;
  /** ASCII hex of P, appended to coinb1 while extranonce1 = S. */
  private coinb1Insert: Uint8Array = new Uint8Array(0);
  private readonly splitter: LineSplitter;
  private readonly shareBucket: RateBucket;
  private readonly lineBucket: RateBucket;
  private badLines = 0;
  private sequence = 0;
  private corked = false;
  /** Lines held while a chunk is processed, written in one go (responses keep their order). */
  private outQueue: (string | Uint8Array)[] = [];

  constructor(
    private readonly ctx: Sv1ServerContext,
    private readonly link: Sv1Link,
    opts: { endpoint: string; remoteIp: string; sessionNumber: number; nowMs: number },
  ) {
    this.endpoint = opts.endpoint;
    this.remoteIp = opts.remoteIp;
    const n = opts.sessionNumber >>> 0;
    this.sessionTag = Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    this.subscriptionId = bytesToHex(this.sessionTag);
    this.lastReceiveMs = opts.nowMs;
    this.splitter = new LineSplitter(ctx.options.maxLineBytes);
    this.shareBucket = new RateBucket(ctx.options.maxSharesPerSecond, opts.nowMs);
    // Everything that is not a share is rare; a peer sending far more lines than the share cap allows
    // is flooding, and is cut off rather than answered.
    this.lineBucket = new RateBucket(ctx.options.maxSharesPerSecond * 2 + 100, opts.nowMs);
  }

  get authorized(): boolean {
    return this.channel !== null;
  }

  /** Receives bytes from the socket. Responses to all lines of one chunk go out in one write. */
  onData(chunk: Uint8Array, nowMs: number): void {
    if (this.state === "closed") return;
    this.lastReceiveMs = nowMs;
    this.corked = true;
    let ok: boolean;
    try {
      ok = this.splitter.push(chunk, (line) => {
        this.onLine(line, nowMs);
        return this.state === "open";
      });
    } finally {
      this.uncork();
    }
    if (!ok && this.state === "open") {
      this.ctx.countError("line-too-long");
      this.ctx.logBadInput("line-too-long", "SV1 line over the length limit, closing", { endpoint: this.endpoint, maxLineBytes: this.ctx.options.maxLineBytes });
      this.close("line-too-long", false);
    }
  }

  private onLine(line: string, nowMs: number): void {
    if (!this.lineBucket.take(nowMs)) {
      this.ctx.countLimit("sv1-messages-per-second", this.endpoint);
      this.ctx.countError("flood");
      this.close("flood", false);
      return;
    }
    let req: Sv1Request | null;
    try {
      req = parseRequest(line);
    } catch {
      this.badLine("bad-json", "SV1 line is not JSON", line);
      return;
    }
    if (req === null) {
      this.badLine("not-a-request", "SV1 line is not a JSON-RPC request", line);
      return;
    }
    this.badLines = 0;
    this.ctx.countMessage(req.method);
    try {
      this.handle(req, nowMs);
    } catch (e) {
      // A bug in one handler must cost this request an error answer, never the rest of the read.
      this.ctx.countError("internal");
      this.ctx.logBadInput("internal", "SV1 request failed", { endpoint: this.endpoint, method: req.method, error: e instanceof Error ? e.message : String(e) });
      this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "Internal error" });
    }
  }

  private badLine(reason: string, msg: string, line: string): void {
    this.ctx.countError(reason);
    this.ctx.logBadInput(reason, msg, { endpoint: this.endpoint, line: line.slice(0, 120) });
    this.send(errorLine("null", { code: SV1_ERROR.OTHER, message: reason === "bad-json" ? "Parse error" : "Invalid request" }));
    if (++this.badLines >= MAX_BAD_LINES) this.close(reason, true);
  }

  private handle(req: Sv1Request, nowMs: number): void {
    switch (req.method) {
      case "mining.submit":
        this.onSubmit(req, nowMs);
        return;
      case "mining.subscribe":
        this.onSubscribe(req);
        return;
      case "mining.authorize":
      case "mining.auth":
        this.onAuthorize(req);
        return;
      case "mining.configure":
        this.onConfigure(req);
        return;
      case "mining.suggest_difficulty":
        this.onSuggestDifficulty(req);
        return;
      case "mining.suggest_target":
        this.onSuggestTarget(req);
        return;
      case "mining.extranonce.subscribe":
        this.extranonceSubscribed = true;
        this.send(resultLine(req.id, true));
        return;
      case "mining.ping":
        this.send(resultLine(req.id, "pong"));
        return;
      default:
        this.ctx.countError("unknown-method");
        this.ctx.logBadInput("unknown-method", "SV1 unknown method", { endpoint: this.endpoint, method: req.method.slice(0, 64) });
        this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "Unknown method" });
    }
  }

  // ---- methods ---------------------------------------------------------------------------------

  private onSubscribe(req: Sv1Request): void {
    const wasSubscribed = this.subscribed;
    this.subscribed = true;
    const subs = [
      ["mining.set_difficulty", this.subscriptionId],
      ["mining.notify", this.subscriptionId],
    ];
    this.send(resultLine(req.id, [subs, this.extranonce1Hex, this.ctx.options.extranonce2Size]));
    // Authorized before subscribing (tolerated, as ckpool does): the work starts now.
    if (!wasSubscribed && this.channel !== null) this.sendInitialWork();
  }

  private onAuthorize(req: Sv1Request): void {
    const [user, password] = req.params;
    if (typeof user !== "string" || user.length === 0 || encoder.encode(user).length > 255) {
      this.sendError(req.id, { code: SV1_ERROR.UNAUTHORIZED, message: "Invalid worker name" });
      return;
    }
    if (this.channel !== null) {
      if (user === this.workerName) this.send(resultLine(req.id, true));
      else this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "One worker per connection" });
      return;
    }
    const fromPassword = parsePassword(password).difficulty;
    const difficulty = fromPassword ?? this.suggestedDifficulty;
    let channel: Channel;
    try {
      const request = {
        userIdentity: user,
        nominalHashrate: 0,
        maxTarget: this.maxTarget(),
        minExtranonceSize: SESSION_TAG_SIZE + this.ctx.options.extranonce2Size,
        versionRollingAllowed: true,
        ...(difficulty === null || difficulty === undefined ? {} : { difficulty }),
      };
      channel = this.ctx.service.pool.openExtendedChannel(this.endpoint, request);
    } catch (e) {
      const message = e instanceof OpenChannelError ? e.message : "Cannot open a channel";
      this.ctx.countError("authorize-failed");
      this.ctx.logger.warn("SV1 authorize refused", { endpoint: this.endpoint, worker: user.slice(0, 64), error: e instanceof Error ? e.message : String(e) });
      this.sendError(req.id, { code: SV1_ERROR.OTHER, message });
      return;
    }
    this.channel = channel;
    this.workerName = user;
    this.coinb1Insert = encoder.encode(bytesToHex(channel.extranoncePrefix));
    this.send(resultLine(req.id, true));
    this.ctx.logger.debug("SV1 worker authorized", { endpoint: this.endpoint, worker: user, channelId: channel.id, difficulty: channel.difficulty });
    if (this.subscribed) this.sendInitialWork();
  }

  private onConfigure(req: Sv1Request): void {
    const c = parseConfigure(req.params);
    if (c === null) {
      this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "Invalid mining.configure parameters" });
      return;
    }
    const result: Record<string, unknown> = {};
    for (const ext of c.extensions) {
      if (ext === "version-rolling") {
        const asked = c.options["version-rolling.mask"];
        const minerMask = asked === undefined ? 0xffffffff : parseU32Hex(asked);
        if (minerMask === null) {
          result[ext] = false;
          result["version-rolling.error"] = "invalid mask";
          continue;
        }
        this.minerVersionMask = minerMask;
        const mask = (minerMask & this.ctx.versionMask) >>> 0;
        this.versionMask = mask;
        const minBits = typeof c.options["version-rolling.min-bit-count"] === "number" ? (c.options["version-rolling.min-bit-count"] as number) : 0;
        result[ext] = mask !== 0;
        result["version-rolling.mask"] = u32Hex(mask);
        if (bitCount(mask) < minBits) result["version-rolling.min-bit-count"] = bitCount(mask);
      } else if (ext === "minimum-difficulty") {
        const d = parseDifficulty(c.options["minimum-difficulty.value"]);
        if (d === null) {
          result[ext] = false;
          continue;
        }
        const before = this.minerMinDifficulty;
        this.minerMinDifficulty = d;
        try {
          this.applyMaxTarget();
          result[ext] = true;
        } catch {
          // The core refused the floor: keep the old one and tell the miner the extension is off.
          this.minerMinDifficulty = before;
          result[ext] = false;
        }
      } else if (ext === "subscribe-extranonce") {
        this.extranonceSubscribed = true;
        result[ext] = true;
      } else {
        // BIP310: an extension the server does not know is answered as not supported.
        result[ext] = false;
      }
    }
    this.send(resultLine(req.id, result));
  }

  private onSuggestDifficulty(req: Sv1Request): void {
    const d = parseDifficulty(req.params[0]);
    if (d === null) {
      this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "Invalid difficulty" });
      return;
    }
    this.applySuggestion(d);
    this.send(resultLine(req.id, true));
  }

  /** mining.suggest_target: the target as 64 hex digits (big-endian). */
  private onSuggestTarget(req: Sv1Request): void {
    const t = req.params[0];
    if (typeof t !== "string" || !/^[0-9a-fA-F]{1,64}$/.test(t) || BigInt(`0x${t}`) === 0n) {
      this.sendError(req.id, { code: SV1_ERROR.OTHER, message: "Invalid target" });
      return;
    }
    const d = targetToDifficulty(BigInt(`0x${t}`));
    if (d > 0 && Number.isFinite(d)) this.applySuggestion(d);
    this.send(resultLine(req.id, true));
  }

  private applySuggestion(d: number): void {
    const ch = this.channel;
    if (ch === null) {
      this.suggestedDifficulty = d;
      return;
    }
    this.ctx.service.pool.setChannelDifficulty(ch, d);
    if (this.subscribed) this.sendDifficulty(ch);
  }

  private maxTarget(): bigint {
    const floor = Math.max(this.ctx.options.minDifficulty, this.minerMinDifficulty ?? 0);
    // An absurd minimum difficulty (1e308) would make the target 0, which no share can meet.
    return floor > 0 ? bigMax(1n, difficultyToTarget(floor)) : MAX_TARGET;
  }

  /** minimum-difficulty after the channel exists: raise its floor through the core's UpdateChannel. */
  private applyMaxTarget(): void {
    const ch = this.channel;
    if (ch === null) return;
    // updateChannel clamps the difficulty to the new floor and reports the change (targetChanged).
    this.ctx.service.pool.updateChannel(this.endpoint, ch.id, 0, this.maxTarget());
  }

  private onSubmit(req: Sv1Request, nowMs: number): void {
    if (!this.subscribed) {
      this.rejectSubmit(req.id, { code: SV1_ERROR.NOT_SUBSCRIBED, message: "Not subscribed" }, "not-subscribed");
      return;
    }
    const ch = this.channel;
    const p = req.params;
    if (ch === null || p[0] !== this.workerName) {
      this.rejectSubmit(req.id, { code: SV1_ERROR.UNAUTHORIZED, message: "Unauthorized worker" }, "unauthorized");
      return;
    }
    if (!this.shareBucket.take(nowMs)) {
      this.ctx.countLimit("sv1-shares-per-second", this.endpoint);
      this.rejectSubmit(req.id, rejectToSv1("rate-limited"), "rate-limited");
      return;
    }
    const jobId = parseSv1JobId(p[1]);
    if (jobId === null) {
      this.rejectSubmit(req.id, { code: SV1_ERROR.JOB_NOT_FOUND, message: "Job not found" }, "bad-job-id");
      return;
    }
    const en2 = parseHexBytes(p[2], this.ctx.options.extranonce2Size);
    if (en2 === null) {
      this.rejectSubmit(req.id, { code: SV1_ERROR.OTHER, message: "Invalid extranonce2 size" }, "bad-extranonce2");
      return;
    }
    const ntime = parseU32Hex(p[3]);
    const nonce = parseU32Hex(p[4]);
    if (ntime === null || nonce === null) {
      this.rejectSubmit(req.id, { code: SV1_ERROR.OTHER, message: ntime === null ? "Invalid ntime" : "Invalid nonce" }, "bad-params");
      return;
    }
    const jobVersion = ch.getJob(jobId)?.job.version ?? 0;
    let version = jobVersion;
    if (p[5] !== undefined && p[5] !== null) {
      const bits = parseU32Hex(p[5]);
      const mask = this.versionMask ?? 0;
      const outside = bits === null ? -1 : (bits & ~mask) >>> 0;
      // Bits outside the negotiated mask are refused (as ckpool does), unless the miner sent the
      // whole version (its outside bits equal the job's).
      if (bits === null || (outside !== 0 && outside !== (jobVersion & ~mask) >>> 0)) {
        this.rejectSubmit(req.id, { code: SV1_ERROR.OTHER, message: "Invalid version bits" }, "bad-version-bits");
        return;
      }
      version = rolledVersion(jobVersion, mask, bits);
    }
    const extranonce = new Uint8Array(SESSION_TAG_SIZE + en2.length);
    extranonce.set(this.sessionTag, 0);
    extranonce.set(en2, SESSION_TAG_SIZE);
    const share: ShareSubmission = { channelId: ch.id, sequenceNumber: ++this.sequence >>> 0, jobId, nonce, ntime, version, extranonce };
    const r = this.ctx.service.submitShare(this.endpoint, share);
    if (r.ok) {
      this.ctx.countShare(true);
      this.send(resultLine(req.id, true));
      if (r.block !== null) this.ctx.logger.info("SV1 share found a block", { endpoint: this.endpoint, worker: ch.worker.name, hash: r.block.hashHex, height: r.block.height });
      return;
    }
    this.ctx.countShare(false);
    this.rejectSubmit(req.id, rejectToSv1(r.reason, r.detail), r.reason);
  }

  private rejectSubmit(id: string, e: Sv1Error, reason: string): void {
    this.ctx.countError(reason);
    this.sendError(id, e);
  }

  // ---- server → miner ----------------------------------------------------------------------------

  get extranonce1Hex(): string {
    const ch = this.channel;
    return this.extranonce1IsFull && ch !== null ? bytesToHex(concatBytes(ch.extranoncePrefix, this.sessionTag)) : this.subscriptionId;
  }

  /** After subscribe + authorize: extranonce switch, difficulty and the current job. */
  private sendInitialWork(): void {
    const ch = this.channel;
    if (ch === null) return;
    if (this.extranonceSubscribed && !this.extranonce1IsFull) {
      this.extranonce1IsFull = true;
      this.coinb1Insert = new Uint8Array(0);
      this.send(notificationLine("mining.set_extranonce", [this.extranonce1Hex, this.ctx.options.extranonce2Size]));
    }
    this.sendDifficulty(ch);
    const job = this.ctx.service.pool.currentJob;
    if (job !== null && job.prevHash !== null) this.sendJob(job, this.ctx.notifyLine(job, true));
  }

  sendDifficulty(ch: Channel): void {
    this.send(notificationLine("mining.set_difficulty", [announcedDifficulty(ch.target, ch.difficulty)]));
  }

  /** Vardiff (or a floor change) moved the channel's target: V1 applies it from the next job on. */
  onTargetChanged(ch: Channel): void {
    if (this.state === "open" && this.subscribed && ch === this.channel) this.sendDifficulty(ch);
  }

  /** Sends a job (the fan-out calls this for every ready session). Returns false if it could not. */
  sendJob(job: Job, line: NotifyLine): boolean {
    const ch = this.channel;
    if (ch === null || !this.subscribed || this.state !== "open") return false;
    this.ctx.service.pool.assignJob(ch, job, false);
    const bytes = line.withInsert(this.coinb1Insert);
    if (this.corked) this.outQueue.push(bytes);
    else this.writeBytes(bytes);
    return true;
  }

  /** True when this session can take jobs. */
  get ready(): boolean {
    return this.state === "open" && this.subscribed && this.channel !== null;
  }

  sendVersionMask(poolMask: number): void {
    if (this.versionMask === null) return;
    const mask = (this.minerVersionMask & poolMask) >>> 0;
    if (mask === this.versionMask) return;
    this.versionMask = mask;
    this.send(notificationLine("mining.set_version_mask", [u32Hex(mask)]));
  }

  sendReconnect(target?: { host: string; port: number; waitSec?: number }): void {
    const params = target === undefined ? [] : [target.host, target.port, target.waitSec ?? 0];
    this.send(notificationLine("client.reconnect", params));
  }

  // ---- output and lifetime -----------------------------------------------------------------------

  private sendError(id: string, e: Sv1Error): void {
    this.send(errorLine(id, e));
  }

  private send(line: string): void {
    if (this.state !== "open") return;
    if (this.corked) {
      this.outQueue.push(line);
      return;
    }
    this.writeBytes(encoder.encode(line));
  }

  private uncork(): void {
    this.corked = false;
    const q = this.outQueue;
    if (q.length === 0) return;
    this.outQueue = [];
    if (q.length === 1) {
      const only = q[0] as string | Uint8Array;
      this.writeBytes(typeof only === "string" ? encoder.encode(only) : only);
      return;
    }
    if (q.every((x) => typeof x === "string")) {
      this.writeBytes(encoder.encode(q.join("")));
      return;
    }
    const parts = q.map((x) => (typeof x === "string" ? encoder.encode(x) : x));
    this.writeBytes(concatBytes(...parts));
  }

  private writeBytes(bytes: Uint8Array): void {
    if (this.state !== "open") return;
    if (!this.link.write(bytes)) {
      this.ctx.countLimit("write-buffer", this.endpoint);
      this.close("write-buffer-full", false);
    }
  }

  /** Closes the connection (the server's socket close handler then calls onClosed). */
  close(reason: string, graceful: boolean): void {
    if (this.state === "closed") return;
    if (this.corked) this.uncork();
    this.state = "closed";
    this.ctx.countDisconnect(reason);
    this.link.close(graceful);
  }

  /** The socket is gone: leave the pool (the channel closes, the worker's statistics stay). */
  onClosed(): void {
    this.state = "closed";
    this.channel = null;
  }

  logFields(): LogFields {
    return { endpoint: this.endpoint, worker: this.workerName ?? undefined };
  }
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
