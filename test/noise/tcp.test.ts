// Initiator ↔ responder over real TCP on 127.0.0.1 (Bun.listen / Bun.connect, port 0): handshake,
// then frames both ways, including payloads that span several 65 519-byte chunks.
import { expect, test } from "bun:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Socket } from "bun";
import { InitiatorSession, ResponderSession } from "../../src/noise/session.ts";
import type { SessionOutput } from "../../src/noise/session.ts";
import { createResponderIdentity } from "../../src/noise/handshake.ts";
import { generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import type { Sv2Frame } from "../../src/noise/transport.ts";
import { NotAHandshakeError } from "../../src/noise/errors.ts";
import type { NoiseError } from "../../src/noise/errors.ts";

const SIZES = [0, 1, 82, 1400, 65_519, 65_520, 200_000, 1_000_000];

function payload(length: number, seed: number): Uint8Array {
  const p = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  return p;
}

/** Writes everything, respecting backpressure (Bun's socket.write may accept only part). */
class Writer {
  private queue: Uint8Array[] = [];
  constructor(private readonly socket: Socket<unknown>) {}
  write(bytes: Uint8Array): void {
    this.queue.push(bytes);
    this.flush();
  }
  flush(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = this.socket.write(head);
      if (n < head.length) {
        this.queue[0] = head.subarray(Math.max(0, n));
        return;
      }
      this.queue.shift();
    }
  }
}

test("Noise over TCP: handshake, echo of frames up to 1 MB in both directions", async () => {
  const authority = generateAuthorityKeyPair();
  const identity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: Date.now() / 1000 });
  const serverErrors: NoiseError[] = [];
  let serverFrames = 0;

  const server = Bun.listen<{ session: ResponderSession; writer: Writer }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { session: new ResponderSession({ identity, maxPayloadLength: 2_000_000 }), writer: new Writer(socket) };
      },
      data(socket, chunk) {
        const { session, writer } = socket.data;
        const out = session.receive(new Uint8Array(chunk));
        for (const b of out.outgoing) writer.write(b);
        // Echo every frame back with the channel_msg bit set and msg_type + 1.
        for (const f of out.frames) {
          serverFrames++;
          writer.write(session.send({ extensionType: f.extensionType | 0x8000, msgType: (f.msgType + 1) & 0xff, payload: f.payload }));
        }
        if (out.error) {
          serverErrors.push(out.error);
          socket.end();
        }
      },
      drain(socket) {
        socket.data.writer.flush();
      },
    },
  });

  const received: Sv2Frame[] = [];
  let clientError: NoiseError | null = null;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const initiator = new InitiatorSession({ authorityXonly: authority.xonly, clock: { nowMs: () => Date.now() }, maxPayloadLength: 2_000_000 });
  let writer: Writer | null = null;

  const onOutput = (out: SessionOutput): void => {
    if (out.error) {
      clientError = out.error;
      resolveDone();
      return;
    }
    if (out.handshakeCompleted && writer !== null) {
      SIZES.forEach((size, i) => writer!.write(initiator.send({ extensionType: 0, msgType: i, payload: payload(size, i + 1) })));
    }
    received.push(...out.frames);
    if (received.length === SIZES.length) resolveDone();
  };

  const client = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      data(_socket, chunk) {
        onOutput(initiator.receive(new Uint8Array(chunk)));
      },
      drain() {
        writer?.flush();
      },
      close() {
        resolveDone();
      },
    },
  });
  writer = new Writer(client as Socket<unknown>);
  writer.write(initiator.start());

  const timeout = setTimeout(resolveDone, 20_000);
  await done;
  clearTimeout(timeout);
  client.end();
  server.stop(true);

  expect(clientError).toBeNull();
  expect(serverErrors.length).toBe(0);
  expect(serverFrames).toBe(SIZES.length);
  expect(initiator.state).toBe("transport");
  expect(received.map((f) => [f.extensionType, f.msgType, f.payload.length])).toEqual(SIZES.map((s, i) => [0x8000, i + 1, s]));
  received.forEach((f, i) => {
    expect(bytesToHex(sha256(f.payload))).toBe(bytesToHex(sha256(payload(SIZES[i]!, i + 1))));
  });
});

test("over TCP, SV1 JSON and HTTP sent to the responder are refused with their reason and get no bytes back", async () => {
  const authority = generateAuthorityKeyPair();
  const identity = createResponderIdentity({ authoritySecret: authority.secret, nowSec: Date.now() / 1000 });
  const refusals: string[] = [];
  const server = Bun.listen<{ session: ResponderSession }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { session: new ResponderSession({ identity }) };
      },
      data(socket, chunk) {
        const out = socket.data.session.receive(new Uint8Array(chunk));
        for (const b of out.outgoing) socket.write(b);
        if (out.error) {
          refusals.push(out.error instanceof NotAHandshakeError ? `${out.error.detected}: ${out.error.message}` : out.error.code);
          socket.end();
        }
      },
    },
  });

  async function probe(text: string): Promise<number> {
    let received = 0;
    let closed: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const client = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port: server.port,
      socket: {
        data(_s, chunk) {
          received += chunk.length;
        },
        close() {
          closed();
        },
      },
    });
    client.write(new TextEncoder().encode(text));
    const timeout = setTimeout(closed, 5_000);
    await done;
    clearTimeout(timeout);
    return received;
  }

  expect(await probe('{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}\n')).toBe(0);
  expect(await probe("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).toBe(0);
  server.stop(true);
  expect(refusals.length).toBe(2);
  expect(refusals[0]).toStartWith("sv1-json: ");
  expect(refusals[1]).toStartWith("http: ");
});
