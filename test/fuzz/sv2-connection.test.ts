// Fuzzing the SV2 connection state machine without sockets: a real Sv2Connection on a real
// PoolService (embedded node), with the server's ConnectionHost (an Sv2Server that is not listening),
// an Outbox over a recording socket, and a plaintext stand-in for the Noise session (the Noise layer
// has its own fuzz tests). Each iteration is one connection in the setup, ready or channel state fed
// random, valid and mutated frames in random chunks. Properties: onData never throws; everything the
// pool writes is a well-formed SV2 frame; a failing connection ends in "closing" with a reason;
// closing releases every channel.
import { concatBytes } from "../../src/bitcoin/bytes.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { NoiseError } from "../../src/noise/errors.ts";
import { createResponderIdentity, type ResponderIdentity } from "../../src/noise/handshake.ts";
import { generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import { ResponderSession, type SessionOutput } from "../../src/noise/session.ts";
import type { Sv2Frame } from "../../src/noise/transport.ts";
import { Outbox, type WritableSocket } from "../../src/server/outbox.ts";
import { Sv2Connection } from "../../src/server/sv2/connection.ts";
import { PoolIdentity } from "../../src/server/sv2/identity.ts";
import { Sv2Server } from "../../src/server/sv2/server.ts";
import { systemClock } from "../../src/pool/clock.ts";
import { randomSecretKey } from "../../src/noise/ellswift.ts";
import { MiningSetupFlags } from "../../src/sv2/constants.ts";
import { decodeFrame, encodeFrame, type Sv2Message } from "../../src/sv2/index.ts";
import { seededRandom } from "../noise/helpers.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { countOutcomes, fuzzCount, hexOf, REPLAYING, runFuzz, type Prng } from "./lib.ts";
import { fuzzFrame, learn, minerMessage, newKnown, setupConnection, type Known } from "./sv2-inputs.ts";

const FILE = "test/fuzz/sv2-connection.test.ts";
const MAX_FRAME = 16_384;

/** The session after the handshake, in plaintext: frames are `header ‖ payload` as on the wire inside Noise. */
class PlainSession extends ResponderSession {
  private buffered: Uint8Array = new Uint8Array(0);
  private started = false;

  constructor(identity: ResponderIdentity) {
    super({ identity });
  }

  override receive(chunk: Uint8Array): SessionOutput {
    const first = !this.started;
    this.started = true;
    this.buffered = concatBytes(this.buffered, chunk);
    const frames: Sv2Frame[] = [];
    while (this.buffered.length >= 6) {
      const b = this.buffered;
      const len = (b[3] as number) | ((b[4] as number) << 8) | ((b[5] as number) << 16);
      if (len > MAX_FRAME) return { outgoing: [], frames, error: new NoiseError("frame-too-large", `announces ${len} bytes`), handshakeCompleted: first };
      if (b.length < 6 + len) break;
      frames.push({ extensionType: (b[0] as number) | ((b[1] as number) << 8), msgType: b[2] as number, payload: b.slice(6, 6 + len) });
      this.buffered = b.subarray(6 + len);
    }
    return { outgoing: [], frames, error: null, handshakeCompleted: first };
  }

  override sendSerialized(frameBytes: Uint8Array): Uint8Array {
    // A copy: the connection patches cached frames in place after "encrypting" them.
    return frameBytes.slice();
  }
}

class RecordingSocket implements WritableSocket {
  readonly frames: Sv2Message[] = [];
  bad: string | null = null;
  private pending: Uint8Array = new Uint8Array(0);

  write(data: Uint8Array): number {
    this.pending = concatBytes(this.pending, data);
    while (this.pending.length >= 6) {
      const len = (this.pending[3] as number) | ((this.pending[4] as number) << 8) | ((this.pending[5] as number) << 16);
      if (this.pending.length < 6 + len) break;
      const frame = this.pending.slice(0, 6 + len);
      this.pending = this.pending.subarray(6 + len);
      try {
        this.frames.push(decodeFrame(frame).message);
      } catch (e) {
        this.bad ??= `pool wrote an undecodable frame ${hexOf(frame)}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return data.length;
  }
}

let t: TestService;
let host: Sv2Server;
let identity: ResponderIdentity;

beforeAll(async () => {
  t = await startTestService({}, { embeddedDifficulty: 10 });
  const pid = new PoolIdentity(generateAuthorityKeyPair(), randomSecretKey(), systemClock);
  // Not started: used only as the connections' ConnectionHost (limits, job frames, counters).
  host = new Sv2Server(t.service, { host: "127.0.0.1", port: 0, identity: pid, maxChannelsPerConnection: 4, maxFrameBytes: MAX_FRAME, shareBatchSize: 3 });
  const authority = generateAuthorityKeyPair(seededRandom(5));
  identity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: Math.floor(Date.now() / 1000), rng: seededRandom(6) });
});

afterAll(async () => {
  await t.service.stop("test over", 200);
});

interface Episode {
  start: "setup" | "ready" | "standard-jobs" | "channel";
}

interface Run {
  conn: Sv2Connection;
  socket: RecordingSocket;
  readonly closed: string | null;
  known: Known;
}

function open(endpoint: string): Run {
  const socket = new RecordingSocket();
  const closed: { reason: string | null } = { reason: null };
  // The connection sets its reason before it closes the socket.
  const closer = { end: (): void => void (closed.reason = conn.reason), terminate: (): void => void (closed.reason = conn.reason) };
  const conn: Sv2Connection = new Sv2Connection(endpoint, "127.0.0.1", host, () => new PlainSession(identity), new Outbox(socket, 1 << 20), closer, Date.now(), 60_000);
  return {
    conn,
    socket,
    known: newKnown(),
    get closed(): string | null {
      return closed.reason;
    },
  };
}

function feed(r: Run, bytes: Uint8Array): void {
  const before = r.socket.frames.length;
  r.conn.onData(bytes, Date.now());
  for (const m of r.socket.frames.slice(before)) learn(r.known, m);
}

/** Brings a connection to its starting state with valid messages; returns what the fuzz frames may aim at. */
function prepare(r: Run, start: Episode["start"], rng: Prng): void {
  feed(r, new Uint8Array(0));
  if (start === "setup") return;
  feed(r, encodeFrame(setupConnection(start === "standard-jobs" ? MiningSetupFlags.REQUIRES_STANDARD_JOBS : 0)));
  if (start !== "channel" && start !== "standard-jobs") return;
  const channel: Sv2Message = rng.bool()
    ? { type: "OpenStandardMiningChannel", requestId: 1, userIdentity: "fuzz.rig", nominalHashRate: 0, maxTarget: new Uint8Array(32).fill(0xff) }
    : { type: "OpenExtendedMiningChannel", requestId: 2, userIdentity: "fuzz.rig", nominalHashRate: 0, maxTarget: new Uint8Array(32).fill(0xff), minExtranonceSize: 8 };
  feed(r, encodeFrame(channel));
}

const N_CONN = fuzzCount(8_000);
test(`fuzz Sv2Connection.onData (no sockets, real pool): ${N_CONN} connections of 1-8 frames, never throw and answer only well-formed frames`, async () => {
  const reasons = new Map<string, number>();
  const answers = new Map<string, number>();
  let frames = 0;
  const stats = await runFuzz<{ start: Episode["start"]; seed: number }>({
    name: "sv2-connection",
    file: FILE,
    count: N_CONN,
    generate: (rng) => ({ input: { start: rng.pick(["setup", "ready", "standard-jobs", "channel", "channel"] as const), seed: rng.u32() }, label: "connection" }),
    run: ({ start }, rng) => {
      const endpoint = `fuzz:${rng.u32()}`;
      const r = open(endpoint);
      prepare(r, start, rng);
      const n = 1 + rng.int(8);
      for (let k = 0; k < n && r.closed === null; k++) {
        const f = fuzzFrame(rng, r.known);
        frames++;
        // Sometimes split a frame across reads, sometimes glue a valid message behind it.
        if (rng.int(4) === 0 && f.frame.length > 2) {
          const cut = 1 + rng.int(f.frame.length - 1);
          feed(r, f.frame.subarray(0, cut));
          feed(r, f.frame.subarray(cut));
        } else if (rng.int(4) === 0) feed(r, concatBytes(f.frame, encodeFrame(minerMessage(rng, r.known))));
        else feed(r, f.frame);
        if (r.socket.bad !== null) throw new Error(r.socket.bad);
      }
      // A closed connection ignores input; then the socket goes away.
      const closedBy = r.closed;
      if (closedBy !== null) {
        if (r.conn.state !== "closing") throw new Error(`closed with reason ${closedBy} but state is ${r.conn.state}`);
        feed(r, encodeFrame(setupConnection()));
      }
      for (const m of r.socket.frames) {
        const key = m.type === "SubmitSharesError" || m.type === "OpenMiningChannelError" || m.type === "UpdateChannelError" ? `${m.type}:${m.errorCode}` : m.type;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
      const outcome = closedBy === null ? `open:${r.conn.state}` : `closed:${closedBy}`;
      r.conn.onClosed();
      if (t.service.pool.channelsOf(endpoint).length !== 0) throw new Error("channels left open after the connection closed");
      reasons.set(outcome, (reasons.get(outcome) ?? 0) + 1);
      return outcome;
    },
    classify: () => null,
    show: ({ start }) => `a connection starting in state ${start} (replay the iteration to see its frames with SV2POOL_FUZZ_TRACE=1)`,
  });
  console.log(`        ${frames} fuzz frames; pool channels still open: ${t.service.pool.channelCount}`);
  console.log(`        pool answers: ${[...answers.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  expect(stats.inputs).toBe(REPLAYING ? 1 : N_CONN);
  if (!REPLAYING) {
    expect(countOutcomes(stats, "open:ready")).toBeGreaterThan(N_CONN / 20);
    expect(countOutcomes(stats, "closed:bad-message")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "closed:no-setup")).toBeGreaterThan(0);
    expect(countOutcomes(stats, "closed:protocol-violation")).toBeGreaterThan(0);
    // Every fuzz connection released its channels.
    expect(t.service.pool.channelCount).toBe(0);
  }
});
