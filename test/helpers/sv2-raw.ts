// A bare SV2 client for protocol tests: Noise initiator over TCP, send any message or raw bytes,
// read what the pool answers, see when it closes.
import { InitiatorSession } from "../../src/noise/session.ts";
import { decodePayloadWithTrailing, encodeFrame, type Sv2Message } from "../../src/sv2/messages/registry.ts";
import { MiningSetupFlags, Protocol, SV2_VERSION } from "../../src/sv2/constants.ts";
import { decodeAuthorityPublicKey } from "../../src/noise/keys.ts";

export class RawSv2Client {
  readonly messages: Sv2Message[] = [];
  closed = false;
  handshakeDone = false;
  private socket: import("bun").Socket<undefined> | null = null;
  private session: InitiatorSession;
  readonly closedPromise: Promise<void>;
  private resolveClosed: () => void = () => {};

  constructor(authorityKey: string) {
    this.session = new InitiatorSession({ authorityXonly: decodeAuthorityPublicKey(authorityKey), clock: { nowMs: Date.now } });
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
  }

  /** Connects; with `handshake` false nothing is sent (tests write raw bytes). */
  async connect(port: number, handshake = true): Promise<void> {
    this.socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => {
          const out = this.session.receive(chunk);
          if (out.handshakeCompleted) this.handshakeDone = true;
          for (const f of out.frames) this.messages.push(decodePayloadWithTrailing(f.msgType, f.payload, f.extensionType & 0x7fff).message);
        },
        close: () => {
          this.closed = true;
          this.resolveClosed();
        },
        error: () => {},
      },
    });
    if (handshake) await this.handshake();
  }

  /** Runs the Noise handshake on a connection opened with `handshake` false. */
  async handshake(): Promise<void> {
    this.socket?.write(this.session.start());
    await this.until(() => this.handshakeDone, "handshake");
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket?.write(bytes);
  }

  send(msg: Sv2Message): void {
    this.socket?.write(this.session.sendSerialized(encodeFrame(msg)));
  }

  /** Encrypts a raw frame (header + payload) as the peer would. */
  sendFrameBytes(frame: Uint8Array): void {
    this.socket?.write(this.session.sendSerialized(frame));
  }

  async setup(flags = 0, protocol: number = Protocol.Mining): Promise<Sv2Message> {
    this.send({ type: "SetupConnection", protocol, minVersion: SV2_VERSION, maxVersion: SV2_VERSION, flags, endpointHost: "127.0.0.1", endpointPort: 0, vendor: "test", hardwareVersion: "", firmware: "", deviceId: "" });
    return this.next((m) => m.type === "SetupConnectionSuccess" || m.type === "SetupConnectionError");
  }

  /** Waits for (and removes) the first message matching `pred`. */
  async next(pred: (m: Sv2Message) => boolean, timeoutMs = 5000): Promise<Sv2Message> {
    let found: Sv2Message | undefined;
    await this.until(() => {
      const i = this.messages.findIndex(pred);
      if (i < 0) return false;
      found = this.messages.splice(i, 1)[0];
      return true;
    }, "a message", timeoutMs);
    return found as Sv2Message;
  }

  async until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(2);
    }
  }

  close(): void {
    this.socket?.end();
  }
}

export const STANDARD_JOBS = MiningSetupFlags.REQUIRES_STANDARD_JOBS;
