/**
 * A TCP listener opened before the server that will serve it exists.
 *
 * Start-up binds the SV2 and SV1 ports first, a few milliseconds after exec, and only then loads
 * the rest (most modules, the keys and the certificate signature, the ledger, the node). A miner
 * connecting meanwhile is accepted at once instead of refused (and left to retry seconds later):
 * its socket is held with whatever it sends, and when the server attaches it sees the connection
 * as if it had just arrived (open, then the bytes in order). From then on every socket event is
 * passed on to the server's handlers as it comes.
 *
 * Holding is bounded: by a number of sockets, by bytes per socket, and in time (a socket that
 * waits longer than `maxWaitMs` is closed, as a stalled handshake would be).
 */
import type { Socket, SocketHandler, TCPSocketListener, TCPSocketListenOptions } from "bun";
import type { Config, HostPort } from "../config.ts";
import { formatHostPort } from "../config.ts";
import { StratumV2Error } from "../errors.ts";

/** How a server opens its listener: Bun.listen, or an EarlyListener's `listen`. */
export type ListenFn = <T>(options: TCPSocketListenOptions<T>) => TCPSocketListener<T>;

export interface EarlyListenerOptions {
  host: string;
  port: number;
  reusePort?: boolean;
  /** Sockets held at once before the server attaches; more are closed (default 10,000). */
  maxHeld?: number;
  /** Bytes held per socket; a socket sending more before the server attaches is closed (default 64 KiB). */
  maxHeldBytes?: number;
  /** Longest a socket is held; it is closed after that (default 10 s). */
  maxWaitMs?: number;
}

interface Held {
  readonly sinceMs: number;
  readonly chunks: Buffer[];
  bytes: number;
}

/**
 * The server's side once attached: its handlers (open, data, drain, close and error are passed on,
 * the ones Sv2Server and Sv1Server use) and the initial data of its sockets.
 */
interface Target {
  readonly handlers: SocketHandler<unknown>;
  readonly data: unknown;
}

export class EarlyListener {
  private readonly listener: TCPSocketListener<unknown>;
  /** Sockets accepted before the server attached, in arrival order (Map keeps insertion order). */
  private readonly held = new Map<Socket<unknown>, Held>();
  private target: Target | null = null;
  private expiry: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly maxHeld: number;
  private readonly maxHeldBytes: number;
  private readonly maxWaitMs: number;

  constructor(private readonly options: EarlyListenerOptions) {
    this.maxHeld = options.maxHeld ?? 10_000;
    this.maxHeldBytes = options.maxHeldBytes ?? 64 * 1024;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    // reusePort works at runtime but is missing from bun-types' listen options.
    const listenOptions: TCPSocketListenOptions<unknown> & { reusePort: boolean } = {
      hostname: options.host,
      port: options.port,
      reusePort: options.reusePort ?? false,
      data: null,
      socket: {
        open: (s) => this.onOpen(s),
        data: (s, chunk) => {
          const t = this.target;
          if (t !== null) t.handlers.data?.(s, chunk);
          else this.hold(s, chunk);
        },
        drain: (s) => this.target?.handlers.drain?.(s),
        close: (s, e) => {
          // Closed while held (or during the replay): the server sees it only if it saw the open.
          if (this.held.delete(s) && this.target === null) return;
          this.target?.handlers.close?.(s, e);
        },
        error: (s, e) => this.target?.handlers.error?.(s, e),
      },
    };
    this.listener = Bun.listen<unknown>(listenOptions);
  }

  /** The bound port (the real one when `port` was 0). */
  get port(): number {
    return this.listener.port;
  }

  /** Sockets waiting for the server, and the bytes they sent (diagnostics, tests). */
  get heldCount(): number {
    return this.held.size;
  }

  get heldBytes(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.bytes;
    return n;
  }

  /**
   * The server's "Bun.listen": attaches its handlers to the already open listener and replays the
   * held sockets into them, then returns the listener (the server stops it as its own).
   */
  readonly listen: ListenFn = <T>(options: TCPSocketListenOptions<T>): TCPSocketListener<T> => {
    if (this.closed) throw StratumV2Error.server(`the listener on ${formatHostPort(this.options)} is closed`);
    if (this.target !== null) throw StratumV2Error.server(`a server is already attached to ${formatHostPort(this.options)}`);
    if (options.hostname !== this.options.host || options.port !== this.options.port) {
      throw StratumV2Error.server(`the server wants ${options.hostname}:${options.port}, this listener was opened on ${formatHostPort(this.options)}`);
    }
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
    // The handlers only ever receive this listener's sockets, whose data is set to options.data
    // before the server's open handler runs: typing them for unknown data is sound here.
    this.target = { handlers: options.socket as SocketHandler<unknown>, data: options.data };
    for (const [s, held] of [...this.held]) {
      this.admit(s);
      for (const chunk of held.chunks) {
        // The server may have closed it in `open` (limits) or on an earlier chunk.
        if (!this.held.has(s)) break;
        this.target.handlers.data?.(s, chunk);
      }
      this.held.delete(s);
    }
    return this.listener as TCPSocketListener<T>;
  };

  /** Start-up failed before a server attached: stop listening and drop the held sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
    if (this.target !== null) return; // the server owns the listener now and stops it itself
    this.listener.stop(true);
    for (const s of [...this.held.keys()]) s.terminate();
    this.held.clear();
  }

  private onOpen(s: Socket<unknown>): void {
    if (this.target !== null) {
      this.admit(s);
      return;
    }
    if (this.held.size >= this.maxHeld) {
      s.terminate();
      return;
    }
    this.held.set(s, { sinceMs: performance.now(), chunks: [], bytes: 0 });
    if (this.expiry === null) this.armExpiry(this.maxWaitMs);
  }

  /** Hands a socket to the server as a new connection. */
  private admit(s: Socket<unknown>): void {
    const t = this.target as Target;
    s.data = t.data;
    t.handlers.open?.(s);
  }

  private hold(s: Socket<unknown>, chunk: Buffer): void {
    const held = this.held.get(s);
    if (held === undefined) return;
    held.bytes += chunk.byteLength;
    if (held.bytes > this.maxHeldBytes) {
      this.held.delete(s);
      s.terminate();
      return;
    }
    // A copy: the chunk's memory is not ours after the callback returns.
    held.chunks.push(Buffer.from(chunk));
  }

  /** Closes the sockets held for longer than maxWaitMs and re-arms for the oldest one left. */
  private expire(): void {
    this.expiry = null;
    const now = performance.now();
    for (const [s, held] of [...this.held]) {
      if (now - held.sinceMs < this.maxWaitMs) continue;
      this.held.delete(s);
      s.terminate();
    }
    const oldest = this.held.values().next();
    if (!oldest.done) this.armExpiry(Math.max(1, oldest.value.sinceMs + this.maxWaitMs - now));
  }

  private armExpiry(delayMs: number): void {
    this.expiry = setTimeout(() => this.expire(), delayMs);
    // Held sockets alone must not keep a failed start-up's process alive.
    this.expiry.unref();
  }
}

/** "Failed to listen at 127.0.0.1" says neither which port nor why: name the key, the address and the cause. */
export function listenError(key: string, at: HostPort, e: unknown): StratumV2Error {
  const code = (e as { code?: unknown }).code;
  const why =
    code === "EADDRINUSE"
      ? "the address is already in use (another sv2pool or another program listens there)"
      : code === "EADDRNOTAVAIL"
        ? "this machine has no such address"
        : code === "EACCES"
          ? "permission denied (ports below 1024 need privileges)"
          : e instanceof Error
            ? e.message
            : String(e);
  return StratumV2Error.server(`cannot listen on ${formatHostPort(at)} (${key}): ${why}`);
}

/** The pool's mining ports, open before the rest of the pool is loaded. */
export interface PoolListeners {
  sv2: EarlyListener | null;
  sv1: EarlyListener | null;
  close(): void;
}

/** Binds the enabled SV2 and SV1 ports from the config (listen errors name the key and the cause). */
export function openPoolListeners(config: Config): PoolListeners {
  const limits = { maxHeld: config.limits.maxConnections, maxWaitMs: config.limits.handshakeTimeoutMs, reusePort: config.reusePort };
  const open = (key: string, at: HostPort): EarlyListener => {
    try {
      return new EarlyListener({ host: at.host, port: at.port, ...limits });
    } catch (e) {
      throw listenError(key, at, e);
    }
  };
  const sv2 = config.sv2.enabled ? open("sv2.listen", config.sv2.listen) : null;
  let sv1: EarlyListener | null = null;
  try {
    sv1 = config.sv1.enabled ? open("sv1.listen", config.sv1.listen) : null;
  } catch (e) {
    sv2?.close();
    throw e;
  }
  return {
    sv2,
    sv1,
    close: () => {
      sv2?.close();
      sv1?.close();
    },
  };
}
