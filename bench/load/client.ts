/**
 * One simulated SV2 miner connection for the load generator: real TCP (node:net, so the source
 * address can be chosen), real Noise (LoadSession), SetupConnection, one standard channel, the job
 * stream (future jobs, SetNewPrevHash) and SubmitSharesStandard with answers matched in order.
 * No hashing: nonces are random-start counters; the pool's difficulty decides what is accepted.
 */
import net from "node:net";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../../src/sv2/constants.ts";
import { decodePayloadWithTrailing, encodeFrame, type Sv2Message } from "../../src/sv2/messages/registry.ts";
import { LoadSession, type HandshakeCache } from "./session.ts";

export type ClientMode = "mine" | "setup-only";
export type ClientState = "connecting" | "handshake" | "setup" | "opening" | "mining" | "closed";

/** Fleet-wide callbacks (one object for every client, so a client costs no closures). */
export interface ClientHooks {
  /** Handshake + SetupConnection.Success (setup-only clients stop here). */
  setupDone(c: LoadClient): void;
  /** The channel has its first active job. */
  mining(c: LoadClient): void;
  /** A SetNewPrevHash for this client's channel (or its group) was decrypted. */
  prevHash(c: LoadClient): void;
  /** One share answered; `sentAt` is the performance.now() of its write. */
  answered(c: LoadClient, accepted: boolean, reason: string, sentAt: number): void;
  closed(c: LoadClient, wasMining: boolean): void;
}

export interface ClientConfig {
  host: string;
  port: number;
  cache: HandshakeCache;
  hooks: ClientHooks;
  mode: ClientMode;
  /** Set REQUIRES_STANDARD_JOBS (header-only device: own NewMiningJob per channel, no group). */
  standardJobs: boolean;
  user: string;
}

const MAX_TARGET_LE = new Uint8Array(32).fill(0xff);
const JOBS_KEPT = 8;

export class LoadClient {
  state: ClientState = "connecting";
  channelId = 0;
  groupId = 0;
  jobId = -1;
  ntime = 0;
  version = 0;
  /** Epoch ms of the last SetNewPrevHash and of the first active job. */
  lastPrevHashAt = 0;
  miningAt = 0;
  readonly startedAt: number;
  private socket: { write(b: Uint8Array): unknown; destroy(): void } | null = null;
  private session: LoadSession;
  private readonly jobs = new Map<number, number>(); // job id -> version
  private seq = 0;
  private nonce: number;
  // Outstanding shares in send order (answers come back in order): sequence numbers and send times.
  private outSeq: number[] = [];
  private outAt: number[] = [];
  private outHead = 0;

  constructor(
    readonly index: number,
    private readonly cfg: ClientConfig,
  ) {
    this.session = new LoadSession(cfg.cache);
    this.nonce = (Math.random() * 0x1_0000_0000) >>> 0;
    this.startedAt = performance.timeOrigin + performance.now();
  }

  get outstanding(): number {
    return this.outSeq.length - this.outHead;
  }

  connect(localAddress: string | undefined): void {
    if (localAddress === undefined) {
      this.connectBun();
      return;
    }
    const s = net.connect({ host: this.cfg.host, port: this.cfg.port, localAddress });
    s.setNoDelay(true);
    this.socket = s;
    s.on("connect", () => {
      this.state = "handshake";
      s.write(this.session.start());
    });
    s.on("data", (chunk: Buffer) => this.onData(chunk));
    s.on("error", () => {});
    s.on("close", () => {
      const wasMining = this.state === "mining";
      this.state = "closed";
      this.socket = null;
      this.cfg.hooks.closed(this, wasMining);
    });
  }

  /** Bun.connect: cheaper than node:net, but it cannot choose the source address. */
  private connectBun(): void {
    const onClose = (): void => {
      if (this.state === "closed") return;
      const wasMining = this.state === "mining";
      this.state = "closed";
      this.socket = null;
      this.cfg.hooks.closed(this, wasMining);
    };
    Bun.connect<undefined>({
      hostname: this.cfg.host,
      port: this.cfg.port,
      socket: {
        open: (s) => {
          s.setNoDelay(true);
          this.socket = { write: (b) => s.write(b), destroy: () => s.terminate() };
          this.state = "handshake";
          s.write(this.session.start());
        },
        data: (_s, chunk) => this.onData(chunk),
        error: () => {},
        close: onClose,
        connectError: onClose,
      },
    }).catch(onClose);
  }

  close(): void {
    this.socket?.destroy();
  }

  private send(msg: Sv2Message): void {
    this.socket?.write(this.session.seal(encodeFrame(msg)));
  }

  private onData(chunk: Uint8Array): void {
    let out: ReturnType<LoadSession["receive"]>;
    try {
      out = this.session.receive(chunk);
    } catch (e) {
      process.stderr.write(`load client ${this.index}: ${e instanceof Error ? e.message : String(e)}\n`);
      this.close();
      return;
    }
    if (out.handshakeCompleted) {
      this.state = "setup";
      this.send({
        type: "SetupConnection",
        protocol: Protocol.Mining,
        minVersion: SV2_VERSION,
        maxVersion: SV2_VERSION,
        flags: this.cfg.standardJobs ? MiningSetupFlags.REQUIRES_STANDARD_JOBS : 0,
        endpointHost: this.cfg.host,
        endpointPort: this.cfg.port,
        vendor: "sv2pool-bench",
        hardwareVersion: "",
        firmware: "",
        deviceId: String(this.index),
      });
    }
    for (const f of out.frames) {
      let msg: Sv2Message;
      try {
        msg = decodePayloadWithTrailing(f.msgType, f.payload, f.extensionType & 0x7fff).message;
      } catch {
        continue;
      }
      this.onMessage(msg);
    }
  }

  private onMessage(msg: Sv2Message): void {
    switch (msg.type) {
      case "SubmitSharesSuccess": {
        while (this.outHead < this.outSeq.length && (this.outSeq[this.outHead] as number) <= msg.lastSequenceNumber) {
          this.cfg.hooks.answered(this, true, "", this.outAt[this.outHead] as number);
          this.outHead++;
        }
        this.compact();
        return;
      }
      case "SubmitSharesError": {
        while (this.outHead < this.outSeq.length && (this.outSeq[this.outHead] as number) <= msg.sequenceNumber) {
          const seq = this.outSeq[this.outHead] as number;
          this.cfg.hooks.answered(this, seq !== msg.sequenceNumber, msg.errorCode, this.outAt[this.outHead] as number);
          this.outHead++;
        }
        this.compact();
        return;
      }
      case "SetNewPrevHash":
        if (msg.channelId !== this.channelId && msg.channelId !== this.groupId) return;
        this.lastPrevHashAt = performance.timeOrigin + performance.now();
        this.ntime = msg.minNtime;
        this.activate(msg.jobId);
        this.cfg.hooks.prevHash(this);
        return;
      case "NewMiningJob":
      case "NewExtendedMiningJob":
        if (msg.channelId !== this.channelId && msg.channelId !== this.groupId) return;
        this.jobs.set(msg.jobId, msg.version);
        if (this.jobs.size > JOBS_KEPT) this.jobs.delete(this.jobs.keys().next().value as number);
        if (msg.minNtime !== null) {
          this.ntime = msg.minNtime;
          this.activate(msg.jobId);
        }
        return;
      case "SetupConnectionSuccess":
        if (this.cfg.mode === "setup-only") {
          this.cfg.hooks.setupDone(this);
          return;
        }
        this.state = "opening";
        this.cfg.hooks.setupDone(this);
        this.send({ type: "OpenStandardMiningChannel", requestId: 1, userIdentity: `${this.cfg.user}.${this.index}`, nominalHashRate: 100e12, maxTarget: MAX_TARGET_LE });
        return;
      case "OpenStandardMiningChannelSuccess":
        this.channelId = msg.channelId;
        this.groupId = msg.groupChannelId;
        return;
      case "SetupConnectionError":
      case "OpenMiningChannelError":
        process.stderr.write(`load client ${this.index}: ${msg.type} ${msg.errorCode}\n`);
        this.close();
        return;
      default:
        // SetTarget, SetExtranoncePrefix, Reconnect...: nothing to do for a load client.
        return;
    }
  }

  private activate(jobId: number): void {
    this.jobId = jobId;
    this.version = this.jobs.get(jobId) ?? this.version;
    if (this.state !== "mining" && this.channelId !== 0) {
      this.state = "mining";
      this.miningAt = performance.timeOrigin + performance.now();
      this.cfg.hooks.mining(this);
    }
  }

  private compact(): void {
    if (this.outHead > 512 && this.outHead * 2 > this.outSeq.length) {
      this.outSeq = this.outSeq.slice(this.outHead);
      this.outAt = this.outAt.slice(this.outHead);
      this.outHead = 0;
    }
  }

  /** Writes `n` shares on the active job in one socket write. Returns how many were sent. */
  submit(n: number): number {
    if (this.state !== "mining" || this.socket === null || n <= 0) return 0;
    const parts: Uint8Array[] = [];
    let total = 0;
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      const seq = ++this.seq >>> 0;
      this.nonce = (this.nonce + 1) >>> 0;
      const sealed = this.session.seal(
        encodeFrame({ type: "SubmitSharesStandard", channelId: this.channelId, sequenceNumber: seq, jobId: this.jobId, nonce: this.nonce, ntime: this.ntime, version: this.version }),
      );
      parts.push(sealed);
      total += sealed.length;
      this.outSeq.push(seq);
      this.outAt.push(now);
    }
    if (parts.length === 1) this.socket.write(parts[0] as Uint8Array);
    else {
      const buf = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        buf.set(p, off);
        off += p.length;
      }
      this.socket.write(buf);
    }
    return n;
  }

  /** Forgets outstanding shares (between measurement phases, after a quiet period). */
  resetOutstanding(): void {
    this.outSeq = [];
    this.outAt = [];
    this.outHead = 0;
  }
}
