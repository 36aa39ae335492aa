// EarlyListener: a port opened before its server exists holds the sockets that arrive (and what they
// send) and hands them to the server when it attaches, as new connections. Real sockets on 127.0.0.1.
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { EarlyListener } from "../../src/server/early-listener.ts";
import { waitFor } from "../helpers/sv2.ts";

interface Client {
  socket: Socket<undefined>;
  received: string[];
  closed: boolean;
}

const listeners: EarlyListener[] = [];
const attached: TCPSocketListener<unknown>[] = [];
const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.socket.terminate();
  for (const l of attached.splice(0)) l.stop(true);
  for (const l of listeners.splice(0)) l.close();
});

function open(options: Partial<ConstructorParameters<typeof EarlyListener>[0]> = {}): EarlyListener {
  const l = new EarlyListener({ host: "127.0.0.1", port: 0, ...options });
  listeners.push(l);
  return l;
}

async function connect(port: number): Promise<Client> {
  const c: Client = { socket: null as unknown as Socket<undefined>, received: [], closed: false };
  c.socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, chunk) => void c.received.push(chunk.toString()),
      close: () => void (c.closed = true),
      error: () => {},
    },
  });
  clients.push(c);
  return c;
}

/** What a server sees: one line per event, data as text. */
function recordingServer(events: string[], onOpen: (s: Socket<{ n: number } | null>) => void = () => {}) {
  let n = 0;
  return {
    hostname: "127.0.0.1",
    data: null as { n: number } | null,
    socket: {
      open: (s: Socket<{ n: number } | null>) => {
        events.push(`open data=${JSON.stringify(s.data)}`);
        s.data = { n: ++n };
        onOpen(s);
      },
      data: (s: Socket<{ n: number } | null>, chunk: Buffer) => void events.push(`data ${s.data?.n} ${chunk.toString()}`),
      close: (s: Socket<{ n: number } | null>) => void events.push(`close ${s.data?.n}`),
    },
  };
}

test("bytes sent before the server attaches reach it afterwards, in order, after a fresh open", async () => {
  const l = open();
  const c = await connect(l.port);
  c.socket.write("hello ");
  c.socket.write("pool");
  await waitFor("the bytes held", () => l.heldCount === 1 && l.heldBytes === 10);

  const events: string[] = [];
  const server = l.listen({ ...recordingServer(events), port: 0 });
  attached.push(server);
  expect(server.port).toBe(l.port);
  expect(l.heldCount).toBe(0);
  // Chunks may have been coalesced by the kernel: compare the bytes, not the chunking.
  expect(events[0]).toBe("open data=null");
  expect(events.slice(1).map((e) => e.replace(/^data 1 /, "")).join("")).toBe("hello pool");

  // From now on the server's handlers are called directly, and the socket is a normal one.
  events.length = 0;
  c.socket.write("more");
  await waitFor("the direct data event", () => events.join("").includes("more"));
  expect(events).toEqual(["data 1 more"]);
  const second = await connect(l.port);
  await waitFor("the second open", () => events.length === 2);
  expect(events[1]).toBe("open data=null");
  second.socket.end();
  await waitFor("the second close", () => events.includes("close 2"));
});

test("a socket that closes before the server attaches never reaches it", async () => {
  const l = open();
  const gone = await connect(l.port);
  gone.socket.write("bye");
  const stays = await connect(l.port);
  await waitFor("both held", () => l.heldCount === 2);
  gone.socket.end();
  await waitFor("the first one dropped", () => l.heldCount === 1);

  const events: string[] = [];
  attached.push(l.listen({ ...recordingServer(events), port: 0 }));
  expect(events).toEqual(["open data=null"]);
  stays.socket.end();
  await waitFor("its close", () => events.includes("close 1"));
});

test("the server may refuse a held socket when it opens: its bytes are not delivered, its close is", async () => {
  const l = open();
  const c = await connect(l.port);
  c.socket.write("unwanted");
  await waitFor("the bytes held", () => l.heldBytes === 8);
  const events: string[] = [];
  attached.push(l.listen({ ...recordingServer(events, (s) => s.terminate()), port: 0 }));
  expect(events).toEqual(["open data=null", "close 1"]);
  await waitFor("the client sees the close", () => c.closed);
});

test("holding is bounded: bytes per socket, number of sockets, time", async () => {
  const l = open({ maxHeldBytes: 16, maxHeld: 2, maxWaitMs: 200 });
  const chatty = await connect(l.port);
  chatty.socket.write("x".repeat(17));
  await waitFor("the chatty socket closed", () => chatty.closed);

  const a = await connect(l.port);
  const b = await connect(l.port);
  await waitFor("two held", () => l.heldCount === 2);
  const third = await connect(l.port);
  await waitFor("the third refused", () => third.closed);
  expect(l.heldCount).toBe(2);

  // Nobody attached within maxWaitMs: the held sockets are closed, as a stalled handshake would be.
  await waitFor("the held sockets expired", () => a.closed && b.closed);
  expect(l.heldCount).toBe(0);
});

test("close() before a server attached frees the port and drops the held sockets", async () => {
  const l = open();
  const c = await connect(l.port);
  await waitFor("held", () => l.heldCount === 1);
  const port = l.port;
  l.close();
  await waitFor("the client sees the close", () => c.closed);
  await expect(connect(port)).rejects.toThrow();
  expect(() => l.listen({ ...recordingServer([]), port: 0 })).toThrow("is closed");
});

test("the server must ask for the address the listener was opened on, and attach once", () => {
  const l = open();
  expect(() => l.listen({ ...recordingServer([]), port: 1234 })).toThrow("this listener was opened on 127.0.0.1:0");
  attached.push(l.listen({ ...recordingServer([]), port: 0 }));
  expect(() => l.listen({ ...recordingServer([]), port: 0 })).toThrow("already attached");
});
