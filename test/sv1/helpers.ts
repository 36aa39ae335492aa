// Socket-level helpers for the SV1 tests: a raw line client (what firmware sends, byte for byte),
// a pool service with a V1 listener, and real proof of work on V1 jobs.
import { afterEach } from "bun:test";
import type { Socket } from "bun";
import { hexToBytes, writeU32LE } from "../../src/bitcoin/bytes.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLeBytes } from "../../src/bitcoin/target.ts";
import type { RawConfig } from "../../src/config.ts";
import { headerFor, merkleRootFor } from "../../src/miner/sv1-work.ts";
import { Sv1Server, type Sv1ServerOptions } from "../../src/server/sv1/server.ts";
import { parseNotify, rolledVersion, type Sv1Notify } from "../../src/server/sv1/protocol.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Msg = Record<string, Json>;

/** Waits for `pred` (polling); throws after `ms` so a broken test fails instead of hanging. */
export async function until<T>(what: string, pred: () => T | undefined | null | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v !== undefined && v !== null && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** A V1 client that sends exact lines and records every line the pool sends. */
export class RawV1Client {
  readonly lines: string[] = [];
  readonly messages: Msg[] = [];
  closed = false;
  private buffer = "";
  private readonly cursor = new Map<string, number>();
  private socket: Socket<undefined> | null = null;

  /** Connects a client of this class (subclasses get their own type). */
  static async connect<T extends RawV1Client>(this: new () => T, port: number): Promise<T> {
    const c = new this();
    c.socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => c.onData(new TextDecoder().decode(chunk)),
        close: () => {
          c.closed = true;
        },
        error: () => {
          c.closed = true;
        },
      },
    });
    return c;
  }

  private onData(text: string): void {
    this.buffer += text;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(line);
      this.onLine(line);
    }
  }

  /** Each complete line the pool sent, after it is recorded in `lines`: parsed into `messages`. */
  protected onLine(line: string): void {
    this.messages.push(JSON.parse(line) as Msg);
  }

  /** Sends text as is (the test writes the line endings). */
  sendRaw(text: string | Uint8Array): void {
    this.socket?.write(text);
  }

  /** Sends one request line (LF). */
  send(msg: Record<string, unknown>): void {
    this.sendRaw(`${JSON.stringify(msg)}\n`);
  }

  /** The response to `id` (compared as JSON). */
  async response(id: unknown, ms = 5000): Promise<Msg> {
    const key = JSON.stringify(id);
    return until(`response to id ${key}`, () => this.messages.find((m) => "error" in m && m["method"] === undefined && JSON.stringify(m["id"]) === key), ms);
  }

  async call(id: unknown, method: string, params: unknown[]): Promise<Msg> {
    this.send({ id, method, params });
    return this.response(id);
  }

  /** The next notification of `method` not returned before. */
  async notification(method: string, ms = 5000): Promise<Msg> {
    const from = this.cursor.get(method) ?? 0;
    const i = await until(`${method} notification`, () => {
      const k = this.messages.findIndex((m, j) => j >= from && m["method"] === method);
      return k >= 0 ? k + 1 : undefined;
    }, ms);
    this.cursor.set(method, i);
    return this.messages[i - 1] as Msg;
  }

  /** Notifications of `method` received so far. */
  all(method: string): Msg[] {
    return this.messages.filter((m) => m["method"] === method);
  }

  async waitClosed(ms = 5000): Promise<void> {
    await until("connection closed", () => this.closed, ms);
  }

  close(): void {
    this.socket?.end();
  }

  /** Drops the connection without a FIN handshake (what a crashed client does). */
  terminate(): void {
    this.socket?.terminate();
  }
}

export function notifyOf(msg: Msg): Sv1Notify {
  return parseNotify(msg["params"] as unknown[]);
}

export interface V1Pool {
  t: TestService;
  server: Sv1Server;
  port: number;
  stop(): Promise<void>;
}

export async function startV1Pool(
  opts: { layers?: RawConfig; embeddedDifficulty?: number; server?: Partial<Sv1ServerOptions> } = {},
): Promise<V1Pool> {
  const t = await startTestService(opts.layers ?? {}, { embeddedDifficulty: opts.embeddedDifficulty ?? 1 });
  const server = new Sv1Server(t.service, { host: "127.0.0.1", port: 0, extranonce2Size: 4, maxLineBytes: 4096, ...opts.server });
  const { port } = await server.start();
  const pool: V1Pool = {
    t,
    server,
    port,
    stop: async () => {
      running.delete(pool);
      await t.service.stop("test over", 200);
    },
  };
  running.add(pool);
  return pool;
}

/** Pools started and not stopped yet (what sv1SocketTests stops after each test). */
const running = new Set<V1Pool>();

/**
 * The common setup of the SV1 socket test files: after each test, every raw client it connected is
 * closed and every pool it started is stopped. Returns the `connect` those tests use.
 */
export function sv1SocketTests(): (p: V1Pool) => Promise<RawV1Client> {
  const clients: RawV1Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const p of [...running]) await p.stop();
  });
  return async (p) => {
    const c = await RawV1Client.connect(p.port);
    clients.push(c);
    return c;
  };
}

export interface V1Share {
  extranonce1: string;
  extranonce2: string;
  ntime?: number;
  /** Rolled version bits and the negotiated mask. */
  versionBits?: number;
  mask?: number;
}

/** Grinds a nonce whose header meets (or, with want = false, misses) the target of `difficulty`. */
export function grindV1(job: Sv1Notify, s: V1Share, difficulty: number | bigint, want = true, startNonce = 0): { nonce: number; hash: Uint8Array; version: number } {
  const target = typeof difficulty === "bigint" ? difficulty : difficultyToTarget(difficulty);
  const targetLe = targetToLeBytes(target);
  const version = s.versionBits === undefined ? job.version : rolledVersion(job.version, s.mask ?? 0xffffffff, s.versionBits);
  const header = headerFor(job, merkleRootFor(job, hexToBytes(s.extranonce1), hexToBytes(s.extranonce2)), s.ntime ?? job.ntime, version);
  for (let i = 0; i < 50_000_000; i++) {
    const nonce = (startNonce + i) >>> 0;
    writeU32LE(header, 76, nonce);
    const hash = sha256d(header);
    if (hashMeetsTarget(hash, targetLe) === want) return { nonce, hash, version };
  }
  throw new Error("grindV1: nothing found");
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** mining.submit params for a ground share. */
export function submitParams(worker: string, job: Sv1Notify, s: V1Share, nonce: number): string[] {
  const p = [worker, job.jobId, s.extranonce2, hex8(s.ntime ?? job.ntime), hex8(nonce)];
  if (s.versionBits !== undefined) p.push(hex8(s.versionBits));
  return p;
}
