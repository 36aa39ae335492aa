// A hostile SV2 client over TCP for the socket-level fuzz tests: it runs the Noise initiator itself
// (so it holds the cipher states and can encrypt frames whose msg_length lies), writes raw bytes
// before the handshake, and records everything the pool sends: act 2, decoded messages, anything
// undecodable, and when the pool closes the connection.
import { concatBytes } from "../../src/bitcoin/bytes.ts";
import type { Socket } from "bun";
import { CipherState } from "../../src/noise/cipher-state.ts";
import { ACT2_LENGTH, InitiatorHandshake } from "../../src/noise/handshake.ts";
import { FrameDecoder, MAX_CHUNK_PLAINTEXT } from "../../src/noise/transport.ts";
import { decodePayloadWithTrailing, encodeFrame, type Sv2Message } from "../../src/sv2/messages/registry.ts";

const TAG = 16;

export class FuzzSv2Client {
  readonly messages: Sv2Message[] = [];
  /** Problems with what the pool sent (must stay empty). */
  readonly problems: string[] = [];
  /** Bytes received before the handshake completed (a pool only ever sends act 2 there). */
  preHandshake: Uint8Array = new Uint8Array(0);
  handshakeDone = false;
  /** Why our own act 2 check failed (expected after a mutated act 1). */
  handshakeError: string | null = null;
  closed = false;
  private socket: Socket<undefined> | null = null;
  private readonly hs: InitiatorHandshake;
  private send: CipherState | null = null;
  private decoder: FrameDecoder | null = null;

  constructor(private readonly authorityXonly: Uint8Array) {
    this.hs = new InitiatorHandshake({ authorityXonly });
  }

  async connect(port: number): Promise<void> {
    this.socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => this.onData(new Uint8Array(chunk)),
        close: () => {
          this.closed = true;
        },
        error: () => {
          this.closed = true;
        },
      },
    });
  }

  /** Act 1 of our own handshake (write it, possibly mutated). */
  act1(): Uint8Array {
    return this.hs.start();
  }

  private onData(chunk: Uint8Array): void {
    try {
      if (!this.handshakeDone) {
        this.preHandshake = concatBytes(this.preHandshake, chunk);
        if (this.preHandshake.length < ACT2_LENGTH || this.hs.state !== "awaiting-act2") return;
        const act2 = this.preHandshake.subarray(0, ACT2_LENGTH);
        const rest = this.preHandshake.slice(ACT2_LENGTH);
        try {
          const r = this.hs.finish(act2, Math.floor(Date.now() / 1000));
          this.send = new CipherState(r.keys.sendKey);
          this.decoder = new FrameDecoder(new CipherState(r.keys.receiveKey));
          this.handshakeDone = true;
        } catch (e) {
          this.handshakeError = e instanceof Error ? e.message : String(e);
          return;
        }
        if (rest.length > 0) this.onFrames(rest);
        return;
      }
      this.onFrames(chunk);
    } catch (e) {
      this.problems.push(`client-side failure: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onFrames(bytes: Uint8Array): void {
    if (this.decoder === null) return;
    let frames;
    try {
      frames = this.decoder.push(bytes);
    } catch (e) {
      this.problems.push(`pool sent bytes that do not decrypt: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    for (const f of frames) {
      try {
        this.messages.push(decodePayloadWithTrailing(f.msgType, f.payload, f.extensionType & 0x7fff).message);
      } catch (e) {
        this.problems.push(`pool sent an undecodable message (type 0x${f.msgType.toString(16)}): ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Full handshake; false when the pool closed or answered something else. */
  async handshake(timeoutMs = 5000): Promise<boolean> {
    this.writeRaw(this.act1());
    await this.until(() => this.handshakeDone || this.closed || this.handshakeError !== null, timeoutMs);
    return this.handshakeDone;
  }

  writeRaw(bytes: Uint8Array): void {
    if (!this.closed) this.socket?.write(bytes);
  }

  /** Encrypts `frame` (6-byte header ‖ payload) chunk by chunk as a peer would, even when its msg_length lies. */
  sendFrame(frame: Uint8Array): void {
    const cs = this.send;
    if (cs === null) throw new Error("sendFrame before the handshake");
    const payloadLength = frame.length - 6;
    const out = new Uint8Array(6 + TAG + payloadLength + TAG * Math.ceil(payloadLength / MAX_CHUNK_PLAINTEXT));
    cs.sealInto(null, frame, 0, 6, out, 0);
    let w = 6 + TAG;
    for (let pos = 0; pos < payloadLength; pos += MAX_CHUNK_PLAINTEXT) {
      const len = Math.min(MAX_CHUNK_PLAINTEXT, payloadLength - pos);
      cs.sealInto(null, frame, 6 + pos, len, out, w);
      w += len + TAG;
    }
    this.writeRaw(out);
  }

  sendMessage(msg: Sv2Message): void {
    this.sendFrame(encodeFrame(msg));
  }

  /** Removes and returns the first message matching `pred`, waiting up to `timeoutMs`; null on timeout or close. */
  async next(pred: (m: Sv2Message) => boolean, timeoutMs = 3000): Promise<Sv2Message | null> {
    let found: Sv2Message | null = null;
    await this.until(() => {
      const i = this.messages.findIndex(pred);
      if (i >= 0) {
        found = this.messages.splice(i, 1)[0] as Sv2Message;
        return true;
      }
      return this.closed;
    }, timeoutMs);
    return found;
  }

  async until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) return false;
      await Bun.sleep(2);
    }
    return true;
  }

  close(): void {
    this.socket?.terminate();
  }
}
