// A lightweight SV2 client for load and limit tests: node:net (so it can bind any 127.x.y.z source
// address), Noise initiator, SetupConnection, channels, and promise-based waits on what the pool
// sends (no polling: a storm of a thousand of these stays cheap). It can stop reading, like a stuck
// device whose socket buffers fill up.
import net from "node:net";
import { MAX_TARGET, targetToLeBytes } from "../../src/bitcoin/target.ts";
import { decodeAuthorityPublicKey } from "../../src/noise/keys.ts";
import { InitiatorSession } from "../../src/noise/session.ts";
import { Protocol, SV2_VERSION } from "../../src/sv2/constants.ts";
import { decodePayloadWithTrailing, encodeFrame, type Sv2Message } from "../../src/sv2/messages/registry.ts";

export interface LightClientOptions {
  port: number;
  /** The pool's authority key (base58check) or x-only bytes. */
  authority: string | Uint8Array;
  /** Source address (any of 127.0.0.0/8 on Linux). */
  localAddress?: string;
}

interface Waiter {
  pred: (m: Sv2Message) => boolean;
  resolve: (m: Sv2Message) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class LightSv2Client {
  readonly messages: Sv2Message[] = [];
  readonly socket: net.Socket;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  isClosed = false;
  /** Bytes received (including the handshake). */
  bytesIn = 0;
  private readonly session: InitiatorSession;
  private waiters: Waiter[] = [];
  private handshakeWaiter: (() => void) | null = null;
  private handshakeComplete = false;

  constructor(opts: LightClientOptions) {
    const authority = typeof opts.authority === "string" ? decodeAuthorityPublicKey(opts.authority) : opts.authority;
    this.session = new InitiatorSession({ authorityXonly: authority, clock: { nowMs: Date.now } });
    const options: net.NetConnectOpts = { host: "127.0.0.1", port: opts.port };
    if (opts.localAddress !== undefined) options.localAddress = opts.localAddress;
    this.socket = net.connect(options);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", (e) => reject(e));
    });
    this.closed = new Promise((resolve) => {
      this.socket.once("close", () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error("connection closed"));
        }
        resolve();
      });
    });
    // A refused or reset connection is an outcome the tests look at, not an exception.
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Uint8Array): void {
    this.bytesIn += chunk.byteLength;
    const out = this.session.receive(chunk);
    if (out.error !== null) {
      this.socket.destroy();
      return;
    }
    if (out.handshakeCompleted) {
      this.handshakeComplete = true;
      this.handshakeWaiter?.();
      this.handshakeWaiter = null;
    }
    for (const f of out.frames) {
      const msg = decodePayloadWithTrailing(f.msgType, f.payload, f.extensionType & 0x7fff).message;
      const i = this.waiters.findIndex((w) => w.pred(msg));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1) as [Waiter];
        clearTimeout(w.timer);
        w.resolve(msg);
      } else {
        this.messages.push(msg);
      }
    }
  }

  /** Noise handshake; resolves when the pool's certificate checked out. */
  async handshake(timeoutMs = 10_000): Promise<void> {
    await this.connected;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("handshake timed out")), timeoutMs);
      this.handshakeWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.closed.then(() => {
        clearTimeout(timer);
        if (!this.handshakeComplete) reject(new Error("closed during the handshake"));
      });
    });
    this.socket.write(this.session.start());
    await done;
  }

  send(msg: Sv2Message): void {
    if (!this.isClosed) this.socket.write(this.session.sendSerialized(encodeFrame(msg)));
  }

  /** Takes the first message (received or still to come) that matches `pred`. */
  next(pred: (m: Sv2Message) => boolean, timeoutMs = 10_000): Promise<Sv2Message> {
    const i = this.messages.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0] as Sv2Message);
    if (this.isClosed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error("timed out waiting for a message"));
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  async setup(flags = 0): Promise<Sv2Message> {
    this.send({ type: "SetupConnection", protocol: Protocol.Mining, minVersion: SV2_VERSION, maxVersion: SV2_VERSION, flags, endpointHost: "127.0.0.1", endpointPort: 0, vendor: "chaos", hardwareVersion: "", firmware: "", deviceId: "" });
    return this.next((m) => m.type === "SetupConnectionSuccess" || m.type === "SetupConnectionError");
  }

  openStandard(requestId: number, user: string): void {
    this.send({ type: "OpenStandardMiningChannel", requestId, userIdentity: user, nominalHashRate: 1000, maxTarget: targetToLeBytes(MAX_TARGET) });
  }

  openExtended(requestId: number, user: string, minExtranonceSize = 4): void {
    this.send({ type: "OpenExtendedMiningChannel", requestId, userIdentity: user, nominalHashRate: 1000, maxTarget: targetToLeBytes(MAX_TARGET), minExtranonceSize });
  }

  /** Handshake + setup + one standard channel, then waits for its first active job (job + SetNewPrevHash). */
  async mine(user: string): Promise<{ channelId: number; jobId: number }> {
    await this.handshake();
    const setup = await this.setup();
    if (setup.type !== "SetupConnectionSuccess") throw new Error(`setup refused: ${JSON.stringify(setup)}`);
    this.openStandard(1, user);
    const open = await this.next((m) => m.type === "OpenStandardMiningChannelSuccess" || m.type === "OpenMiningChannelError");
    if (open.type !== "OpenStandardMiningChannelSuccess") throw new Error(`channel refused: ${JSON.stringify(open)}`);
    const prev = await this.next((m) => m.type === "SetNewPrevHash");
    return { channelId: open.channelId, jobId: prev.type === "SetNewPrevHash" ? prev.jobId : 0 };
  }

  /** Stops reading from the socket: the kernel buffers fill and the pool's writes back up. */
  stopReading(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A TCP connection that never speaks SV2: optionally sends `bytes`, then stays silent. */
export function halfOpen(port: number, localAddress: string, bytes?: Uint8Array): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  if (bytes !== undefined) socket.once("connect", () => socket.write(bytes));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, closed };
}
