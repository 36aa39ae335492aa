/**
 * A real CPU Stratum V1 miner: connects, negotiates (mining.configure for version rolling and a
 * minimum difficulty, subscribe, extranonce.subscribe, suggest_difficulty, authorize), builds the
 * coinbase and merkle root for each job, hashes headers with sha256d at the announced difficulty and
 * submits what meets it. It follows clean_jobs, set_difficulty, set_extranonce, set_version_mask and
 * client.reconnect.
 *
 * Hashing runs in batches with a macrotask yield between them, so several miners (and a pool) share
 * one process. Messages are accepted in any order firmware sees them: a notify or set_difficulty
 * before the authorize answer is kept and mined once the worker is authorized.
 */
import type { Socket } from "bun";
import { bytesToHex, hexToBytes, writeU32LE } from "../bitcoin/bytes.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { difficultyToTarget, hashMeetsTarget, nbitsToTarget, targetToLeBytes } from "../bitcoin/target.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { StratumV2Error } from "../errors.ts";
import { Outbox } from "../server/outbox.ts";
import { LineSplitter, parseDifficulty, parseIncoming, parseNotify, parseU32Hex, u32Hex, type Sv1Notify } from "../server/sv1/protocol.ts";
import { depositBits, headerFor, merkleRootFor, submitParams } from "./sv1-work.ts";

const encoder = new TextEncoder();

export interface Sv1MinerOptions {
  host: string;
  port: number;
  /** Worker name, `account.worker`. */
  username: string;
  password?: string;
  userAgent?: string;
  /** Ask for version rolling with this mask (mining.configure); omit for no rolling. */
  versionRollingMask?: number;
  /** mining.configure minimum-difficulty. */
  minimumDifficulty?: number;
  /** mining.suggest_difficulty, sent before authorize (NerdMiner/Bitaxe style). */
  suggestDifficulty?: number;
  /** mining.extranonce.subscribe after subscribe. */
  extranonceSubscribe?: boolean;
  /** Hashes per batch between event-loop yields (default 2000). */
  hashesPerBatch?: number;
  /** Reconnect after an unexpected disconnect (client.reconnect is always followed). Default true. */
  autoReconnect?: boolean;
  reconnectDelayMs?: number;
  logger?: Logger;
}

export interface Sv1MinerStats {
  hashes: number;
  submitted: number;
  accepted: number;
  rejected: number;
  /** Submitted shares whose answer never came (the connection closed first). */
  lost: number;
  /** Accepted shares whose hash also met the network target. */
  blocks: number;
  jobs: number;
  reconnects: number;
  /** Rejections by JSON-RPC error code. */
  rejectedByCode: Record<number, number>;
}

export interface Sv1ShareOutcome {
  accepted: boolean;
  jobId: string;
  /** Header hash, display order. */
  hashHex: string;
  block: boolean;
  /** The pool's error ([code, message, ...]) when rejected. */
  error: unknown;
}

export interface Sv1MinerEvents {
  onJob?(job: Sv1Notify): void;
  onShare?(outcome: Sv1ShareOutcome): void;
  onDifficulty?(difficulty: number): void;
  onReconnect?(host: string, port: number): void;
  onClose?(reason: string): void;
}

interface Pending {
  method: string;
  resolve(result: unknown, error: unknown): void;
}

/** The error a request gets when its connection closed before the answer came. */
export class Sv1ConnectionLost extends StratumV2Error {
  constructor(readonly reason: string) {
    super("PoolConnectionError", `no answer: ${reason}`);
    this.name = "Sv1ConnectionLost";
  }
}

interface Work {
  job: Sv1Notify;
  extranonce1: Uint8Array;
  header: Uint8Array;
  extranonce2: Uint8Array;
  versionBits: number | undefined;
  nonce: number;
}

export class Sv1Miner {
  readonly stats: Sv1MinerStats = { hashes: 0, submitted: 0, accepted: 0, rejected: 0, lost: 0, blocks: 0, jobs: 0, reconnects: 0, rejectedByCode: {} };
  private readonly logger: Logger;
  private host: string;
  private port: number;
  private socket: Socket<undefined> | null = null;
  private outbox: Outbox | null = null;
  private splitter = new LineSplitter(1 << 20);
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private running = false;
  private authorizedFlag = false;
  private job: Sv1Notify | null = null;
  private en1: Uint8Array | null = null;
  private en2Size = 0;
  private pendingExtranonce: { en1: Uint8Array; size: number } | null = null;
  private mask: number | null = null;
  private currentDifficulty: number | null = null;
  private targetLe: Uint8Array | null = null;
  private generation = 0;
  private en2Counter = 0;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private expectingClose = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: Sv1MinerOptions,
    private readonly events: Sv1MinerEvents = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.host = options.host;
    this.port = options.port;
  }

  get authorized(): boolean {
    return this.authorizedFlag;
  }
  get difficulty(): number | null {
    return this.currentDifficulty;
  }
  get extranonce1(): string | null {
    return this.en1 === null ? null : bytesToHex(this.en1);
  }
  get extranonce2Size(): number {
    return this.en2Size;
  }
  /** The negotiated version-rolling mask (null without version rolling). */
  get versionMask(): number | null {
    return this.mask;
  }
  get currentJob(): Sv1Notify | null {
    return this.job;
  }

  /** Connects and resolves once the worker is authorized (rejects if the pool refuses it). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.connectAndHandshake();
    } catch (e) {
      this.running = false;
      this.expectingClose = true;
      this.socket?.end();
      this.socket = null;
      throw e;
    }
    this.loop ??= this.mineLoop();
  }

  /** Stops hashing, waits briefly for answers to shares in flight (so counts match the pool's), closes. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.kick();
    await this.loop;
    this.loop = null;
    const deadline = Date.now() + 1000;
    while (this.socket !== null && this.hasPendingSubmits() && Date.now() < deadline) await Bun.sleep(2);
    this.expectingClose = true;
    this.socket?.end();
    this.socket = null;
    this.failPending("miner stopped");
  }

  private hasPendingSubmits(): boolean {
    for (const p of this.pending.values()) if (p.method === "mining.submit") return true;
    return false;
  }

  // ---- connection -----------------------------------------------------------------------------------

  private async connectAndHandshake(): Promise<void> {
    this.resetSessionState();
    const socket = await Bun.connect<undefined>({
      hostname: this.host,
      port: this.port,
      socket: {
        data: (_s, chunk) => this.onData(chunk),
        drain: () => this.outbox?.drain(),
        close: () => this.onSocketClosed(),
        error: (_s, e) => this.logger.debug("sv1 miner socket error", { error: e.message }),
      },
    });
    this.socket = socket;
    this.outbox = new Outbox(socket, 1 << 22);
    this.expectingClose = false;
    const configure = this.configureRequest();
    const configured = configure === null ? Promise.resolve<unknown>(null) : this.request("mining.configure", configure);
    const subscribe = this.request("mining.subscribe", [this.options.userAgent ?? "sv2pool-sv1-miner/0.1"]);
    const conf = await configured;
    this.applyConfigure(conf);
    const sub = await subscribe;
    this.applySubscribe(sub);
    if (this.options.extranonceSubscribe === true) void this.request("mining.extranonce.subscribe", []).catch(() => undefined);
    if (this.options.suggestDifficulty !== undefined) void this.request("mining.suggest_difficulty", [this.options.suggestDifficulty]).catch(() => undefined);
    const ok = await this.request("mining.authorize", [this.options.username, this.options.password ?? "x"]);
    if (ok !== true) throw StratumV2Error.poolConnection(`mining.authorize refused for ${this.options.username}`);
    this.authorizedFlag = true;
    this.kick();
  }

  private resetSessionState(): void {
    this.splitter = new LineSplitter(1 << 20);
    this.pending = new Map();
    this.authorizedFlag = false;
    this.job = null;
    this.en1 = null;
    this.pendingExtranonce = null;
    this.mask = null;
    this.currentDifficulty = null;
    this.targetLe = null;
    this.generation++;
  }

  private configureRequest(): unknown[] | null {
    const exts: string[] = [];
    const opts: Record<string, unknown> = {};
    if (this.options.versionRollingMask !== undefined) {
      exts.push("version-rolling");
      opts["version-rolling.mask"] = u32Hex(this.options.versionRollingMask);
      opts["version-rolling.min-bit-count"] = 2;
    }
    if (this.options.minimumDifficulty !== undefined) {
      exts.push("minimum-difficulty");
      opts["minimum-difficulty.value"] = this.options.minimumDifficulty;
    }
    return exts.length === 0 ? null : [exts, opts];
  }

  private applyConfigure(result: unknown): void {
    if (typeof result !== "object" || result === null) return;
    const r = result as Record<string, unknown>;
    if (r["version-rolling"] === true) this.mask = parseU32Hex(r["version-rolling.mask"]);
  }

  private applySubscribe(result: unknown): void {
    if (!Array.isArray(result) || result.length < 3) throw StratumV2Error.protocol("mining.subscribe: unexpected result");
    const en1 = result[1];
    const size = result[2];
    if (typeof en1 !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(en1) || typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 32) {
      throw StratumV2Error.protocol("mining.subscribe: bad extranonce1 or extranonce2 size");
    }
    this.en1 = hexToBytes(en1);
    this.en2Size = size;
  }

  /** Sends a request; resolves with the pool's result and error (error null on success). */
  private call(method: string, params: unknown[]): Promise<{ result: unknown; error: unknown }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { method, resolve: (result, error) => resolve({ result, error: error ?? null }) });
      this.send({ id, method, params });
    });
  }

  /** Sends a request and returns its result; throws when the pool answers with an error. */
  private async request(method: string, params: unknown[]): Promise<unknown> {
    const r = await this.call(method, params);
    if (r.error instanceof Sv1ConnectionLost) throw r.error;
    if (r.error !== null) throw StratumV2Error.poolConnection(`${method} failed: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  private send(msg: unknown): void {
    this.outbox?.write(encoder.encode(`${JSON.stringify(msg)}\n`));
  }

  private failPending(reason: string): void {
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) p.resolve(null, new Sv1ConnectionLost(reason));
  }

  private onSocketClosed(): void {
    this.socket = null;
    this.outbox = null;
    this.authorizedFlag = false;
    this.failPending("connection closed");
    this.kick();
    const expected = this.expectingClose;
    this.events.onClose?.(expected ? "closed" : "connection lost");
    if (!expected && this.running && this.options.autoReconnect !== false) this.scheduleReconnect(this.options.reconnectDelayMs ?? 1000);
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.running) return;
      this.stats.reconnects++;
      this.events.onReconnect?.(this.host, this.port);
      this.connectAndHandshake().catch((e: unknown) => {
        this.logger.warn("sv1 miner reconnect failed", { error: e instanceof Error ? e.message : String(e) });
        if (this.running && this.socket === null) this.scheduleReconnect(this.options.reconnectDelayMs ?? 1000);
      });
    }, delayMs);
  }

  // ---- messages from the pool -----------------------------------------------------------------------

  private onData(chunk: Uint8Array): void {
    const ok = this.splitter.push(chunk, (line) => {
      this.onLine(line);
      return true;
    });
    if (!ok) this.socket?.end();
  }

  private onLine(line: string): void {
    let msg;
    try {
      msg = parseIncoming(line);
    } catch {
      this.logger.warn("sv1 miner: pool sent a non-JSON line", { line: line.slice(0, 120) });
      return;
    }
    if (msg === null) return;
    if (msg.kind === "response") {
      const id = typeof msg.id === "number" ? msg.id : Number(msg.id);
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      p.resolve(msg.result, msg.error);
      return;
    }
    try {
      this.onNotification(msg.method, msg.params);
    } catch (e) {
      this.logger.warn("sv1 miner: bad notification", { method: msg.method, error: e instanceof Error ? e.message : String(e) });
    }
  }

  private onNotification(method: string, params: unknown[]): void {
    switch (method) {
      case "mining.notify": {
        const job = parseNotify(params);
        if (this.pendingExtranonce !== null) {
          // set_extranonce applies from the next job on.
          this.en1 = this.pendingExtranonce.en1;
          this.en2Size = this.pendingExtranonce.size;
          this.pendingExtranonce = null;
        }
        this.job = job;
        this.stats.jobs++;
        this.generation++;
        this.events.onJob?.(job);
        this.kick();
        return;
      }
      case "mining.set_difficulty": {
        const d = parseDifficulty(params[0]);
        if (d === null) throw StratumV2Error.protocol("mining.set_difficulty: bad difficulty");
        this.currentDifficulty = d;
        this.targetLe = targetToLeBytes(difficultyToTarget(d));
        this.events.onDifficulty?.(d);
        this.kick();
        return;
      }
      case "mining.set_extranonce": {
        const [en1, size] = params;
        if (typeof en1 !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(en1) || typeof size !== "number") {
          throw StratumV2Error.protocol("mining.set_extranonce: bad parameters");
        }
        this.pendingExtranonce = { en1: hexToBytes(en1), size };
        return;
      }
      case "mining.set_version_mask": {
        const m = parseU32Hex(params[0]);
        if (m === null) throw StratumV2Error.protocol("mining.set_version_mask: bad mask");
        this.mask = m;
        this.generation++;
        return;
      }
      case "client.reconnect": {
        const [host, port, wait] = params;
        if (typeof host === "string" && host.length > 0) this.host = host;
        const p = typeof port === "number" ? port : typeof port === "string" ? Number(port) : NaN;
        if (Number.isInteger(p) && p > 0 && p < 65536) this.port = p;
        const waitSec = typeof wait === "number" && wait > 0 ? Math.min(wait, 60) : 0;
        this.expectingClose = true;
        this.socket?.end();
        if (this.running) this.scheduleReconnect(waitSec * 1000);
        return;
      }
      default:
        // client.show_message, client.get_version and the like: nothing to do for a CPU miner.
        return;
    }
  }

  // ---- mining ----------------------------------------------------------------------------------------

  private kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private nextWork(): Work | null {
    const job = this.job;
    const en1 = this.en1;
    if (job === null || en1 === null || this.targetLe === null || !this.authorizedFlag || this.en2Size < 1) return null;
    const extranonce2 = new Uint8Array(this.en2Size);
    let c = this.en2Counter++;
    for (let i = extranonce2.length - 1; i >= 0 && c > 0; i--) {
      extranonce2[i] = c & 0xff;
      c = Math.floor(c / 256);
    }
    let versionBits: number | undefined;
    let version = job.version;
    if (this.mask !== null && this.mask !== 0) {
      // Roll a different version for every extranonce2, so the rolled path is exercised.
      versionBits = depositBits(this.en2Counter, this.mask);
      version = ((job.version & ~this.mask) | versionBits) >>> 0;
    }
    const root = merkleRootFor(job, en1, extranonce2);
    return { job, extranonce1: en1, header: headerFor(job, root, job.ntime, version), extranonce2, versionBits, nonce: 0 };
  }

  private async mineLoop(): Promise<void> {
    const batch = this.options.hashesPerBatch ?? 2000;
    let work: Work | null = null;
    let workGeneration = -1;
    while (this.running) {
      if (work === null || workGeneration !== this.generation || work.nonce > 0xffffffff) {
        work = this.nextWork();
        workGeneration = this.generation;
        if (work === null) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
      }
      const targetLe = this.targetLe as Uint8Array;
      const header = work.header;
      const end = Math.min(work.nonce + batch, 0x100000000);
      for (let n = work.nonce; n < end; n++) {
        writeU32LE(header, 76, n);
        const hash = sha256d(header);
        if (hashMeetsTarget(hash, targetLe)) this.submit(work, n, hash);
      }
      this.stats.hashes += end - work.nonce;
      work.nonce = end;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private submit(work: Work, nonce: number, hash: Uint8Array): void {
    const job = work.job;
    const block = hashMeetsTarget(hash, targetToLeBytes(nbitsToTarget(job.nbits)));
    const hashHex = bytesToHex(Uint8Array.from(hash).reverse());
    const params = submitParams(this.options.username, job.jobId, {
      extranonce1: work.extranonce1,
      extranonce2: work.extranonce2,
      ntime: job.ntime,
      nonce,
      ...(work.versionBits === undefined ? {} : { versionBits: work.versionBits }),
    });
    this.stats.submitted++;
    void this.call("mining.submit", params).then((r) => this.onShareAnswer(r.result === true && r.error === null, job.jobId, hashHex, block, r.error));
  }

  private onShareAnswer(accepted: boolean, jobId: string, hashHex: string, block: boolean, error: unknown): void {
    if (error instanceof Sv1ConnectionLost) {
      this.stats.lost++;
    } else if (accepted) {
      this.stats.accepted++;
      if (block) this.stats.blocks++;
    } else {
      this.stats.rejected++;
      const code = Array.isArray(error) && typeof error[0] === "number" ? error[0] : 0;
      this.stats.rejectedByCode[code] = (this.stats.rejectedByCode[code] ?? 0) + 1;
    }
    this.events.onShare?.({ accepted, jobId, hashHex, block: accepted && block, error });
  }
}
