/**
 * The Stratum V1 listener: line-delimited JSON-RPC on its own port (Bun.listen), into the same pool
 * core, statistics and block path as the V2 miners (every session is an extended channel).
 *
 * `start()` registers the listener with the service (`service.addFrontend`), as the SV2 listener
 * does, so the caller only constructs and starts it.
 *
 * Fan-out: a job's mining.notify line is built once (NotifyLine) and the same bytes go to every
 * session (sessions still on extranonce1 = S get the line with their channel prefix inserted into
 * coinb1, one copy). The loop runs in chunks with a macrotask yield between them so shares arriving
 * meanwhile are answered; a newer fan-out queues behind the running one so every miner sees every
 * job in order.
 */
import type { Socket, TCPSocketListener } from "bun";
import { RateLimitedLog, type LogFields, type Logger } from "../../log.ts";
import type { Counter, CounterChild, Gauge, Histogram } from "../../metrics.ts";
import type { Channel } from "../../pool/channel.ts";
import type { Job } from "../../pool/jobs.ts";
import type { TemplateChange, TipChange } from "../../pool/pool.ts";
import type { Config } from "../../config.ts";
import { StratumV2Error } from "../../errors.ts";
import { ConnectionLimiter } from "../connection-limiter.ts";
import { FanoutQueue } from "../fanout.ts";
import type { ListenFn } from "../early-listener.ts";
import { Outbox } from "../outbox.ts";
import type { MiningFrontend, PoolService } from "../pool-service.ts";
import type { Sv1Limits, Sv1ServerContext } from "./context.ts";
import { NotifyLine } from "./protocol.ts";
import { SESSION_TAG_SIZE, Sv1Session } from "./session.ts";

export interface Sv1ServerOptions {
  host: string;
  port: number;
  /** extranonce2 bytes the miners roll (config sv1.extranonce2_size). */
  extranonce2Size: number;
  /** Longest JSON line accepted; a longer one closes the connection (config sv1.max_line_bytes). */
  maxLineBytes: number;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** Connections silent this long are closed (default 15 min). */
  idleTimeoutMs?: number;
  /** Share rate cap per connection; shares over it are answered with error 20 (default 1000/s). */
  maxSharesPerSecond?: number;
  /** Unsent bytes per connection before the connection is dropped (default 1 MiB). */
  writeBufferBytes?: number;
  /** Floor for V1 channel difficulty, fractional allowed (default: the pool's minimum). */
  minDifficulty?: number;
  /** Sessions handled per fan-out slice before yielding (default 1000). */
  fanoutChunk?: number;
  /** SO_REUSEPORT, so several processes can share the port. */
  reusePort?: boolean;
  /** Opens the listener (default Bun.listen); start-up passes a port it opened before loading the rest. */
  listen?: ListenFn;
}

/** Listener options from the configuration ([sv1], [limits], mining.min_difficulty). */
export function sv1OptionsFromConfig(config: Config): Sv1ServerOptions {
  return {
    host: config.sv1.listen.host,
    port: config.sv1.listen.port,
    extranonce2Size: config.sv1.extranonce2Size,
    maxLineBytes: config.sv1.maxLineBytes,
    maxConnections: config.limits.maxConnections,
    maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
    idleTimeoutMs: config.limits.idleTimeoutMs,
    maxSharesPerSecond: config.limits.maxSharesPerSecond,
    writeBufferBytes: config.limits.writeBufferBytes,
    minDifficulty: config.mining.minDifficulty,
  };
}

interface SocketData {
  session: Sv1Session | null;
  outbox: Outbox | null;
}

type Sv1Socket = Socket<SocketData>;

/** V1 methods counted by name; anything else is counted as "other" (bounded label set). */
const KNOWN_METHODS = [
  "mining.subscribe",
  "mining.authorize",
  "mining.auth",
  "mining.configure",
  "mining.submit",
  "mining.suggest_difficulty",
  "mining.suggest_target",
  "mining.extranonce.subscribe",
  "mining.ping",
] as const;

export interface Sv1ServerMetrics {
  connections: Gauge;
  accepted: Counter;
  disconnects: Counter;
  messages: Counter;
  errors: Counter;
  submits: Counter;
  limitHits: Counter;
  fanoutMs: Histogram;
}

/** Upper bound of the extranonce region (SV2 caps prefix + rolled part at 32 bytes). */
const MAX_EXTRANONCE2 = 32 - 4 - SESSION_TAG_SIZE;

export class Sv1Server implements MiningFrontend, Sv1ServerContext {
  readonly name = "sv1";
  readonly logger: Logger;
  readonly options: Sv1Limits;
  readonly m: Sv1ServerMetrics;
  private readonly opts: Required<Omit<Sv1ServerOptions, "minDifficulty" | "listen">>;
  private listener: TCPSocketListener<SocketData> | null = null;
  private readonly listen: ListenFn | undefined;
  private readonly sessions = new Set<Sv1Session>();
  private readonly sockets = new Map<Sv1Session, Sv1Socket>();
  private readonly limiter: ConnectionLimiter;
  private readonly lines = new Map<string, NotifyLine>();
  private readonly methodCounters = new Map<string, CounterChild>();
  private readonly acceptedShares: CounterChild;
  private readonly rejectedShares: CounterChild;
  private readonly badInputLog: RateLimitedLog;
  private readonly limitLog: RateLimitedLog;
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly fanouts: FanoutQueue;
  private nextSession = 1;
  private stopping = false;
  private mask: number;

  constructor(
    readonly service: PoolService,
    options: Sv1ServerOptions,
  ) {
    if (!Number.isInteger(options.extranonce2Size) || options.extranonce2Size < 1 || options.extranonce2Size > MAX_EXTRANONCE2) {
      throw StratumV2Error.config(`sv1 extranonce2 size must be 1..${MAX_EXTRANONCE2}, got ${options.extranonce2Size}`);
    }
    this.logger = service.logger.child({ component: "sv1" });
    this.opts = {
      host: options.host,
      port: options.port,
      extranonce2Size: options.extranonce2Size,
      maxLineBytes: options.maxLineBytes,
      maxConnections: options.maxConnections ?? 50_000,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? 20_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 900_000,
      maxSharesPerSecond: options.maxSharesPerSecond ?? 1000,
      writeBufferBytes: options.writeBufferBytes ?? 1 << 20,
      fanoutChunk: options.fanoutChunk ?? 1000,
      reusePort: options.reusePort ?? false,
    };
    this.listen = options.listen;
    this.limiter = new ConnectionLimiter(this.opts.maxConnections, this.opts.maxConnectionsPerIp);
    this.fanouts = new FanoutQueue(this.opts.fanoutChunk);
    this.options = {
      extranonce2Size: options.extranonce2Size,
      maxLineBytes: options.maxLineBytes,
      maxSharesPerSecond: this.opts.maxSharesPerSecond,
      minDifficulty: options.minDifficulty ?? 0,
    };
    this.mask = service.pool.options.versionMask >>> 0;
    this.badInputLog = new RateLimitedLog(this.logger, 10_000);
    this.limitLog = new RateLimitedLog(this.logger, 10_000);
    const r = service.metrics;
    this.m = {
      connections: r.gauge("sv2pool_sv1_connections", "Open Stratum V1 connections"),
      accepted: r.counter("sv2pool_sv1_connections_accepted_total", "Stratum V1 connections accepted"),
      disconnects: r.counter("sv2pool_sv1_disconnects_total", "Stratum V1 connections closed by the pool, by reason"),
      messages: r.counter("sv2pool_sv1_messages_total", "Stratum V1 requests received, by method"),
      errors: r.counter("sv2pool_sv1_errors_total", "Stratum V1 errors answered or causing a close, by reason"),
      submits: r.counter("sv2pool_sv1_submits_total", "Stratum V1 mining.submit answered, by result"),
      // Shared with the SV2 listener (same name and type: the registry returns the one instance).
      limitHits: r.counter("sv2pool_limit_hits_total", "Limits hit, by limit"),
      fanoutMs: r.histogram("sv2pool_sv1_fanout_ms", "Job fan-out to all SV1 sessions, first to last write (ms)", [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000]),
    };
    this.m.connections.collect(() => this.m.connections.set(this.sessions.size));
    for (const method of KNOWN_METHODS) this.methodCounters.set(method, this.m.messages.labels({ method }));
    this.acceptedShares = this.m.submits.labels({ result: "accepted" });
    this.rejectedShares = this.m.submits.labels({ result: "rejected" });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Sessions that are subscribed and authorized (they receive jobs). */
  get readySessionCount(): number {
    let n = 0;
    for (const s of this.sessions) if (s.ready) n++;
    return n;
  }

  get address(): { host: string; port: number } {
    if (this.listener === null) throw StratumV2Error.server("Sv1Server is not started");
    return { host: this.opts.host, port: this.listener.port };
  }

  /** The version bits V1 miners may roll (pool mask, possibly narrowed by setVersionMask). */
  get versionMask(): number {
    return this.mask;
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.listener !== null) return this.address;
    // reusePort works at runtime but is missing from bun-types' listen options.
    const listenOptions: import("bun").TCPSocketListenOptions<SocketData> & { reusePort: boolean } = {
      hostname: this.opts.host,
      port: this.opts.port,
      reusePort: this.opts.reusePort,
      data: { session: null, outbox: null },
      socket: {
        open: (s) => this.onOpen(s),
        data: (s, chunk) => s.data.session?.onData(chunk, monotonicMs()),
        drain: (s) => s.data.outbox?.drain(),
        close: (s) => this.onSocketClosed(s),
        error: (s, e) => this.logger.debug("socket error", { endpoint: s.data.session?.endpoint ?? "", error: e.message }),
      },
    };
    this.listener = this.listen !== undefined ? this.listen(listenOptions) : Bun.listen<SocketData>(listenOptions);
    this.service.addFrontend(this);
    const sweepMs = Math.max(50, Math.min(5000, Math.floor(this.opts.idleTimeoutMs / 4)));
    this.timers.push(setInterval(() => this.sweep(), sweepMs));
    this.logger.info("Stratum V1 listening", { host: this.opts.host, port: this.listener.port });
    return this.address;
  }

  private onOpen(s: Sv1Socket): void {
    const ip = s.remoteAddress;
    if (this.stopping) {
      s.terminate();
      return;
    }
    const admitted = this.limiter.admit(ip);
    if (admitted !== "ok") {
      this.countLimit(admitted === "total" ? "sv1-connections" : "sv1-connections-per-ip", admitted === "total" ? `total ${this.sessions.size}` : ip);
      s.terminate();
      return;
    }
    const outbox = new Outbox(s, this.opts.writeBufferBytes);
    const n = this.nextSession++;
    const endpoint = `sv1:${ip}:${s.remotePort}#${n}`;
    const session = new Sv1Session(
      this,
      {
        write: (bytes) => outbox.write(bytes),
        close: (graceful) => {
          if (graceful) s.end();
          else s.terminate();
        },
      },
      { endpoint, remoteIp: ip, sessionNumber: n, nowMs: monotonicMs() },
    );
    s.data = { session, outbox };
    this.sessions.add(session);
    this.sockets.set(session, s);
    this.service.registerSession(endpoint, { targetChanged: (ch: Channel) => session.onTargetChanged(ch) });
    this.m.accepted.inc();
  }

  private onSocketClosed(s: Sv1Socket): void {
    const session = s.data.session;
    if (session === null) return;
    s.data.session = null;
    session.onClosed();
    this.service.unregisterSession(session.endpoint);
    this.sessions.delete(session);
    this.sockets.delete(session);
    this.limiter.release(session.remoteIp);
  }

  /** Idle connections. */
  private sweep(): void {
    const now = monotonicMs();
    for (const session of this.sessions) {
      if (now - session.lastReceiveMs > this.opts.idleTimeoutMs) {
        this.logger.debug("SV1 connection idle, closing", session.logFields());
        this.countLimit("sv1-idle-timeout", session.endpoint);
        session.close("idle-timeout", true);
      }
    }
  }

  // ---- Sv1ServerContext ---------------------------------------------------------------------------

  notifyLine(job: Job, clean: boolean): NotifyLine {
    const key = `${job.id}:${clean ? 1 : 0}:${job.minNtime ?? 0}`;
    let line = this.lines.get(key);
    if (line === undefined) {
      line = new NotifyLine(job, 4 + SESSION_TAG_SIZE + this.options.extranonce2Size, clean);
      // A handful of live jobs at a time; dropping everything now and then is cheaper than an LRU.
      if (this.lines.size >= 32) this.lines.clear();
      this.lines.set(key, line);
    }
    return line;
  }

  countMessage(method: string): void {
    const c = this.methodCounters.get(method);
    if (c !== undefined) c.inc();
    else this.m.messages.inc(1, { method: "other" });
  }

  countError(reason: string): void {
    this.m.errors.inc(1, { reason });
  }

  countShare(accepted: boolean): void {
    (accepted ? this.acceptedShares : this.rejectedShares).inc();
  }

  countLimit(limit: string, detail: string): void {
    this.m.limitHits.inc(1, { limit });
    this.limitLog.warn(limit, `limit hit: ${limit}`, { detail });
  }

  countDisconnect(reason: string): void {
    this.m.disconnects.inc(1, { reason });
  }

  logBadInput(cause: string, msg: string, fields: LogFields): void {
    this.badInputLog.warn(cause, msg, fields);
  }

  // ---- MiningFrontend -----------------------------------------------------------------------------

  onNewTip(change: TipChange): void {
    this.broadcast("new-tip", change.job, true);
  }

  onTemplate(change: TemplateChange): void {
    // V1 has no future jobs: the speculative next-height job reaches V1 miners when onNewTip
    // activates it.
    this.broadcast(change.kind, change.job, change.kind === "new-tip");
  }

  private broadcast(what: string, job: Job, clean: boolean): void {
    if (job.prevHash === null) return;
    const line = this.notifyLine(job, clean);
    this.fanout(what, (session) => {
      session.sendJob(job, line);
    });
  }

  private fanout(what: string, perSession: (session: Sv1Session) => void): void {
    this.fanouts.run(
      // Snapshot when it starts: sessions authorized during the fan-out get the current job from authorize.
      () => [...this.sessions].filter((s) => s.ready),
      (session) => {
        try {
          perSession(session);
        } catch (e) {
          this.logger.error(`SV1 ${what} fan-out failed for a session`, { ...session.logFields(), error: e instanceof Error ? e.message : String(e) });
          session.close("internal-error", false);
        }
      },
      (ms) => this.m.fanoutMs.observe(ms),
    );
  }

  /**
   * Narrows the rollable version bits for V1 miners (never wider than the pool's mask) and tells every
   * session that negotiated version rolling its new mask (mining.set_version_mask).
   */
  setVersionMask(mask: number): void {
    this.mask = (mask & this.service.pool.options.versionMask) >>> 0;
    for (const s of this.sessions) s.sendVersionMask(this.mask);
  }

  /** Sends client.reconnect to every session (optionally to another pool address), then closes them. */
  reconnectAll(target?: { host: string; port: number; waitSec?: number }): void {
    for (const s of [...this.sessions]) {
      s.sendReconnect(target);
      s.close("reconnect", true);
    }
  }

  /** Graceful stop: no new connections, client.reconnect to every miner, close after the writes. */
  async stop(reason = "shutting down"): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.listener?.stop(false);
    this.logger.info("Stratum V1 stopping", { reason, sessions: this.sessions.size });
    for (const s of [...this.sessions]) {
      s.sendReconnect();
      s.close("server-stop", true);
    }
    // Give the kernel a moment to flush the reconnect lines, then cut whatever is left.
    const deadline = Date.now() + 1000;
    while (this.sessions.size > 0 && Date.now() < deadline) await Bun.sleep(10);
    for (const s of this.sockets.values()) s.terminate();
    this.listener?.stop(true);
    this.listener = null;
  }
}

/**
 * Session deadlines and rate buckets run on a monotonic clock: a step of the host's wall clock must
 * neither close every miner as idle nor lock a session out of its rate budget.
 */
function monotonicMs(): number {
  return performance.now();
}
