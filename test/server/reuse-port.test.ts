// reuse_port: two pool processes (here: two services) share one SV2 port and the kernel spreads
// miners over both, which is how a farm uses every core of its gateway.
import { afterEach, expect, test } from "bun:test";
import { Sv2Server } from "../../src/server/sv2/server.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startTestSv2, waitFor } from "../helpers/sv2.ts";
import { RawSv2Client } from "../helpers/sv2-raw.ts";

const services: TestService[] = [];
const clients: RawSv2Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of services.splice(0)) await s.service.stop("test over", 200);
});

test("two servers with reusePort share a port and both get miners", async () => {
  const a = await startTestService({ mining: { server_id: 1 } });
  const b = await startTestService({ mining: { server_id: 2 } });
  services.push(a, b);
  const sa = await startTestSv2(a, { reusePort: true });
  // The second one binds the same port, with the same identity (as two processes on one data dir's keys).
  const sb = new Sv2Server(b.service, { host: "127.0.0.1", port: sa.port, identity: sa.identity, reusePort: true, ephemeralKeys: 16 });
  await sb.start();
  for (let i = 0; i < 24; i++) {
    const c = new RawSv2Client(sa.identity.authorityPublicKey);
    clients.push(c);
    await c.connect(sa.port);
    expect((await c.setup()).type).toBe("SetupConnectionSuccess");
  }
  await waitFor("24 connections in total", () => sa.server.connectionCount + sb.connectionCount === 24);
  expect(sa.server.connectionCount).toBeGreaterThan(0);
  expect(sb.connectionCount).toBeGreaterThan(0);
});
