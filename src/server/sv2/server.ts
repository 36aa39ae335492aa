/**
 * The Stratum V2 listener: accepts TCP connections (Bun.listen), enforces the connection limits,
 * runs each connection's Noise handshake and state machine, and fans jobs out to every connection
 * when the pool core has new work.
 *
 * New block fan-out: the next block's job was sent to every channel ahead of time as a future job, so
 * a new tip costs one SetNewPrevHash per connection (per group / extended / header-only channel). The
 * frame is encoded once and only its channel id is patched before each encryption. The loop runs in
 * chunks with a macrotask yield between them, so shares arriving meanwhile are still answered; a
 * newer fan-out queues behind the running one so every miner sees every switch in order.
 */
import { MAX_PAYLOAD_SIZE } from "../../sv2/frame.ts";
import { encodeFrame } from "../../sv2/messages/registry.ts";
import type { Logger } from "../../log.ts";
import { RateLimitedLog } from "../../log.ts";
import type { Counter, Gauge, Histogram } from "../../metrics.ts";
import { EphemeralKeyPool } from "../../noise/ephemeral-pool.ts";
import { ResponderSession } from "../../noise/session.ts";
import type { AeadProvider } from "../../noise/aead.ts";
import type { Config } from "../../config.ts";
import type { Job } from "../../pool/jobs.ts";
import type { TemplateChange, TipChange } from "../../pool/pool.ts";
import { ConnectionLimiter } from "../connection-limiter.ts";
import { FanoutQueue } from "../fanout.ts";
import type { ListenFn } from "../early-listener.ts";
import { Outbox } from "../outbox.ts";
import type { MiningFrontend, PoolService } from "../pool-service.ts";
import { Sv2Connection, type ConnectionHost, type ConnectionLimits } from "./connection.ts";
import type { PoolIdentity } from "./identity.ts";

/** Ephemeral-key refill tick: 5 ms, so even one key per tick refills 512 keys in under 3 s. */
const EPHEMERAL_REFILL_MS = 5;

export interface Sv2ServerOptions {
  host: string;
  port: number;
  identity: PoolIdentity;
  aead?: AeadProvider;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  maxChannelsPerConnection?: number;
  handshakeTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxFrameBytes?: number;
  writeBufferBytes?: number;
  maxSharesPerSecond?: number;
  shareBatchSize?: number;
  /** Connections handled per fan-out slice before yielding to the event loop. */
  fanoutChunk?: number;
  /** Ephemeral keys prepared while idle (each handshake takes one). */
  ephemeralKeys?: number;
  /** SO_REUSEPORT, so several processes can share the port. */
  reusePort?: boolean;
  /** Opens the listener (default Bun.listen); start-up passes a port it opened before loading the rest. */
  listen?: ListenFn;
}

/** The listener's options from the config's [sv2], [limits] and mining sections. */
export function sv2OptionsFromConfig(config: Config, identity: PoolIdentity, aead?: AeadProvider): Sv2ServerOptions {
  const l = config.limits;
  const options: Sv2ServerOptions = {
    host: config.sv2.listen.host,
    port: config.sv2.listen.port,
    identity,
    maxConnections: l.maxConnections,
    maxConnectionsPerIp: l.maxConnectionsPerIp,
    maxChannelsPerConnection: l.maxChannelsPerConnection,
    handshakeTimeoutMs: l.handshakeTimeoutMs,
    idleTimeoutMs: l.idleTimeoutMs,
    maxFrameBytes: l.maxFrameBytes,
    writeBufferBytes: l.writeBufferBytes,
    maxSharesPerSecond: l.maxSharesPerSecond,
    shareBatchSize: config.mining.shareBatchSize,
    reusePort: config.reusePort,
  };
  if (aead !== undefined) options.aead = aead;
  return options;
}

/** A socket's connection; null before it is admitted and once it has closed. */
type SocketData = Sv2Connection | null;

type Sv2Socket = import("bun").Socket<SocketData>;

/**
 * Connection deadlines (handshake, idle) run on a monotonic clock, not the pool's wall clock: an NTP
 * step of the host's clock must neither time out every miner at once (forward) nor keep a stalled
 * handshake for hours (backward).
 */
/** Longest run of queued handshakes before the event loop gets to accept and serve others. */
const HANDSHAKE_SLICE_MS = 5;

function monotonicMs(): number {
  return performance.now();
}

export interface Sv2ServerMetrics {
  connections: Gauge;
  accepted: Counter;
  handshakes: Counter;
  disconnects: Counter;
  limitHits: Counter;
  fanoutMs: Histogram;
}

export class Sv2Server implements MiningFrontend, ConnectionHost {
  readonly name = "sv2";
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
  readonly m: Sv2ServerMetrics;
  private listener: import("bun").TCPSocketListener<SocketData> | null = null;
  private readonly conns = new Set<Sv2Connection>();
  private readonly limiter: ConnectionLimiter;
  private readonly ephemeral: EphemeralKeyPool;
  private readonly frameCache = new Map<string, Uint8Array>();
  private readonly limitLog: RateLimitedLog;
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly fanouts: FanoutQueue;
  private handshakeQueue: Sv2Connection[] = [];
  private handshakeHead = 0;
  private handshakeScheduled = false;
  private nextId = 1;
  /** Socket data callbacks so far, and at the last key refill: tells the refill whether the loop is idle. */
  private dataEvents = 0;
  private dataEventsAtRefill = 0;
  private stopping = false;
  private readonly opts: Required<Omit<Sv2ServerOptions, "aead" | "identity" | "listen">>;
  /** One session factory for every connection (a closure per connection would cost memory per miner). */
  private readonly newSession = (): ResponderSession =>
    new ResponderSession({
      identity: this.options.identity.identity,
      ephemeralKey: this.ephemeral.take(),
      aead: this.options.aead,
      maxPayloadLength: this.opts.maxFrameBytes,
    });

  constructor(
    readonly service: PoolService,
    private readonly options: Sv2ServerOptions,
  ) {
    this.logger = service.logger.child({ component: "sv2" });
    this.opts = {
      host: options.host,
      port: options.port,
      maxConnections: options.maxConnections ?? 50_000,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? 20_000,
      maxChannelsPerConnection: options.maxChannelsPerConnection ?? 1024,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 900_000,
      maxFrameBytes: Math.min(options.maxFrameBytes ?? 1 << 20, MAX_PAYLOAD_SIZE),
      writeBufferBytes: options.writeBufferBytes ?? 1 << 20,
      maxSharesPerSecond: options.maxSharesPerSecond ?? 1000,
      shareBatchSize: options.shareBatchSize ?? 1,
      // Small slices: shares are answered between them even during a 1k-miner fan-out.
      fanoutChunk: options.fanoutChunk ?? 250,
      ephemeralKeys: options.ephemeralKeys ?? 512,
      reusePort: options.reusePort ?? false,
    };
    this.limits = {
      maxChannelsPerConnection: this.opts.maxChannelsPerConnection,
      maxSharesPerSecond: this.opts.maxSharesPerSecond,
      shareBatchSize: this.opts.shareBatchSize,
    };
    this.ephemeral = new EphemeralKeyPool(this.opts.ephemeralKeys);
    this.limiter = new ConnectionLimiter(this.opts.maxConnections, this.opts.maxConnectionsPerIp);
    this.fanouts = new FanoutQueue(this.opts.fanoutChunk);
    this.limitLog = new RateLimitedLog(this.logger, 10_000);
    const r = service.metrics;
    this.m = {
      connections: r.gauge("sv2pool_sv2_connections", "Open Stratum V2 connections"),
      accepted: r.counter("sv2pool_sv2_connections_accepted_total", "Stratum V2 connections accepted"),
      handshakes: r.counter("sv2pool_sv2_handshakes_total", "Stratum V2 connections reaching SetupConnection.Success"),
      disconnects: r.counter("sv2pool_sv2_disconnects_total", "Stratum V2 connections closed, by reason"),
      limitHits: r.counter("sv2pool_limit_hits_total", "Limits hit, by limit"),
      fanoutMs: r.histogram("sv2pool_sv2_fanout_ms", "New-tip fan-out to all SV2 connections, first to last write (ms)", [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000]),
    };
    this.m.connections.collect(() => this.m.connections.set(this.conns.size));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get address(): { host: string; port: number } {
    if (this.listener === null) throw new Error("Sv2Server is not started");
    return { host: this.opts.host, port: this.listener.port };
  }

  async start(): Promise<{ host: string; port: number }> {
    // No keys are made up front: that would delay serving by their cost; the first handshakes make
    // their own and the refill timer fills the pool while idle.
    // reusePort works at runtime but is missing from bun-types' listen options.
    const listenOptions: import("bun").TCPSocketListenOptions<SocketData> & { reusePort: boolean } = {
      hostname: this.opts.host,
      port: this.opts.port,
      reusePort: this.opts.reusePort,
      data: null,
      socket: {
        open: (s) => this.onOpen(s),
        data: (s, chunk) => {
          this.dataEvents++;
          const conn = s.data;
          if (conn === null) return;
          if (conn.pendingIn !== null) conn.pendingIn.push(new Uint8Array(chunk));
          else if (conn.state === "handshake") this.queueHandshake(conn, new Uint8Array(chunk));
          else conn.onData(chunk, monotonicMs());
        },
        drain: (s) => s.data?.drain(),
        close: (s) => this.onSocketClosed(s),
        error: (s, e) => {
          this.logger.debug("socket error", { endpoint: s.data?.endpoint ?? "", error: e.message });
        },
      },
    };
    this.listener = this.options.listen !== undefined ? this.options.listen(listenOptions) : Bun.listen<SocketData>(listenOptions);
    this.service.addFrontend(this);
    this.timers.push(
      setInterval(() => this.sweep(), 250),
      setInterval(() => this.refillEphemeralKeys(), EPHEMERAL_REFILL_MS),
    );
    return this.address;
  }

  /**
   * Makes ephemeral keys between bursts of work (each costs ~0.3 ms of CPU): a slice of several
   * when no socket had data since the last tick (the loop is idle), a single key when miners are
   * talking (short enough not to show in a share's round trip), none while handshakes wait (they
   * take keys, generating inline when the pool is empty).
   */
  private refillEphemeralKeys(): void {
    if (this.queuedHandshakes > 0) return;
    const idle = this.dataEvents === this.dataEventsAtRefill;
    this.dataEventsAtRefill = this.dataEvents;
    this.ephemeral.refill(idle ? 8 : 1);
  }

  private onOpen(s: Sv2Socket): void {
    const ip = s.remoteAddress;
    if (this.stopping) {
      s.terminate();
      return;
    }
    const admitted = this.limiter.admit(ip);
    if (admitted !== "ok") {
      this.countLimit(admitted === "total" ? "connections" : "connections-per-ip", admitted === "total" ? `total ${this.conns.size}` : ip);
      s.terminate();
      return;
    }
    const endpoint = `sv2:${ip}:${s.remotePort}#${this.nextId++}`;
    const conn = new Sv2Connection(endpoint, ip, this, this.newSession, new Outbox(s, this.opts.writeBufferBytes), s, monotonicMs(), this.opts.handshakeTimeoutMs);
    s.data = conn;
    this.conns.add(conn);
    this.m.accepted.inc();
  }

  private onSocketClosed(s: Sv2Socket): void {
    const conn = s.data;
    if (conn === null) return;
    s.data = null;
    conn.onClosed();
    this.conns.delete(conn);
    this.limiter.release(conn.remoteIp);
  }

  /**
   * Reconnect storms: a handshake costs about a millisecond of CPU, so answering thousands inline
   * in the data callback would stall the accept loop until the kernel's listen backlog overflows and
   * SYNs are dropped (clients then wait 1, 3, 7 s to retry). Connections that sent handshake bytes
   * wait here instead and are answered in slices of a few milliseconds, the event loop accepting
   * in between; their handshake deadline starts when they are taken from the queue.
   */
  private queueHandshake(conn: Sv2Connection, chunk: Uint8Array): void {
    conn.pendingIn = [chunk];
    this.handshakeQueue.push(conn);
    if (!this.handshakeScheduled) {
      this.handshakeScheduled = true;
      setImmediate(() => this.drainHandshakes());
    }
  }

  private drainHandshakes(): void {
    const start = performance.now();
    while (this.handshakeHead < this.handshakeQueue.length && performance.now() - start < HANDSHAKE_SLICE_MS) {
      const conn = this.handshakeQueue[this.handshakeHead++] as Sv2Connection;
      const chunks = conn.pendingIn ?? [];
      conn.pendingIn = null;
      const now = monotonicMs();
      for (const c of chunks) conn.onData(c, now);
      if (conn.state === "handshake" || conn.state === "setup") conn.setupDeadlineMs = now + this.opts.handshakeTimeoutMs;
    }
    if (this.handshakeHead >= this.handshakeQueue.length) {
      this.handshakeQueue = [];
      this.handshakeHead = 0;
      this.handshakeScheduled = false;
      return;
    }
    setImmediate(() => this.drainHandshakes());
  }

  get queuedHandshakes(): number {
    return this.handshakeQueue.length - this.handshakeHead;
  }

  /** Handshake/setup deadlines and idle connections. */
  private sweep(): void {
    const now = monotonicMs();
    for (const conn of this.conns) {
      if (conn.pendingIn !== null) continue; // waiting in the handshake queue: its deadline starts there
      // Already being closed (its socket's close event is still to come): counted once, not per sweep.
      if (conn.state === "closing" || conn.state === "closed") continue;
      if (conn.setupDeadlineMs !== 0 && now > conn.setupDeadlineMs) {
        this.countLimit("handshake-timeout", conn.remoteIp);
        conn.fail("handshake-timeout", `no SetupConnection within ${this.opts.handshakeTimeoutMs} ms`);
      } else if (now - conn.lastReceiveMs > this.opts.idleTimeoutMs) {
        this.countLimit("idle-timeout", conn.remoteIp);
        conn.fail("idle-timeout", `silent for ${this.opts.idleTimeoutMs} ms`);
      }
    }
  }

  // ---- ConnectionHost -----------------------------------------------------------------------------

  onReady(_conn: Sv2Connection): void {
    this.m.handshakes.inc();
  }

  countDisconnect(reason: string): void {
    this.m.disconnects.inc(1, { reason });
  }

  countLimit(limit: string, detail: string): void {
    this.m.limitHits.inc(1, { limit });
    this.limitLog.warn(limit, `limit hit: ${limit}`, { detail });
  }

  extendedJobFrame(job: Job, active: boolean, extranonceLength: number, versionRollingAllowed: boolean): Uint8Array {
    const key = `e:${job.id}:${active ? 1 : 0}:${extranonceLength}:${versionRollingAllowed ? 1 : 0}`;
    let frame = this.frameCache.get(key);
    if (frame === undefined) {
      const parts = job.coinbase(extranonceLength);
      frame = encodeFrame({
        type: "NewExtendedMiningJob",
        channelId: 0,
        jobId: job.id,
        minNtime: active ? job.minNtime : null,
        version: job.version,
        versionRollingAllowed,
        merklePath: [...job.merklePath],
        coinbaseTxPrefix: parts.prefix,
        coinbaseTxSuffix: parts.suffix,
      });
      this.cache(key, frame);
    }
    return frame;
  }

  prevHashFrame(job: Job): Uint8Array {
    const key = `p:${job.id}:${job.minNtime ?? 0}`;
    let frame = this.frameCache.get(key);
    if (frame === undefined) {
      if (job.prevHash === null || job.minNtime === null) throw new Error(`job ${job.id} is not active`);
      frame = encodeFrame({ type: "SetNewPrevHash", channelId: 0, jobId: job.id, prevHash: job.prevHash, minNtime: job.minNtime, nbits: job.bits });
      this.cache(key, frame);
    }
    return frame;
  }

  private cache(key: string, frame: Uint8Array): void {
    // A handful of live jobs at a time; dropping everything now and then is cheaper than an LRU.
    if (this.frameCache.size >= 64) this.frameCache.clear();
    this.frameCache.set(key, frame);
  }

  // ---- MiningFrontend -----------------------------------------------------------------------------

  onNewTip(change: TipChange): void {
    const job = change.job;
    this.fanout("new-tip", (conn) => conn.sendPrevHash(job));
  }

  onTemplate(change: TemplateChange): void {
    const { job, speculative, kind } = change;
    if (kind === "new-tip") {
      this.fanout("template-new-tip", (conn) => {
        conn.sendJob(job, false);
        conn.sendPrevHash(job);
        if (speculative !== null) conn.sendJob(speculative, false);
      });
    } else {
      this.fanout("template-update", (conn) => {
        conn.sendJob(job, true);
        if (speculative !== null) conn.sendJob(speculative, false);
      });
    }
  }

  private fanout(what: string, perConnection: (conn: Sv2Connection) => void): void {
    // Snapshot now: connections opened during the fan-out get their jobs when their channel opens.
    const targets = [...this.conns];
    this.fanouts.run(
      () => targets,
      (conn) => {
        conn.cork();
        try {
          perConnection(conn);
        } catch (e) {
          conn.fail("internal-error", `${what}: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          conn.uncork();
        }
      },
      (ms) => {
        if (what === "new-tip") this.m.fanoutMs.observe(ms);
      },
    );
  }

  /** Graceful stop: no new connections, Reconnect to every miner, close after the writes. */
  async stop(reason = "shutting down"): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.listener?.stop(false);
    for (const conn of [...this.conns]) {
      conn.sendReconnect();
      conn.fail("server-stop", reason, true);
    }
    // Give the kernel a moment to flush the Reconnect frames, then cut whatever is left.
    const deadline = Date.now() + 1000;
    while (this.conns.size > 0 && Date.now() < deadline) await Bun.sleep(10);
    for (const conn of this.conns) conn.terminate();
    this.listener?.stop(true);
    this.listener = null;
  }
}
