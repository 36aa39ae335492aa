// A real SV2 server on 127.0.0.1 port 0 in front of a test PoolService, with fresh keys.
import { systemClock } from "../../src/pool/clock.ts";
import { randomSecretKey } from "../../src/noise/ellswift.ts";
import { generateAuthorityKeyPair } from "../../src/noise/keys.ts";
import { PoolIdentity } from "../../src/server/sv2/identity.ts";
import { Sv2Server, type Sv2ServerOptions } from "../../src/server/sv2/server.ts";
import { Sv2Miner, type Sv2MinerOptions } from "../../src/miner/sv2-miner.ts";
import type { TestService } from "./service.ts";

export interface TestSv2 {
  server: Sv2Server;
  identity: PoolIdentity;
  port: number;
  miner(opts?: Partial<Sv2MinerOptions>): Sv2Miner;
}

export async function startTestSv2(t: TestService, opts: Partial<Sv2ServerOptions> = {}): Promise<TestSv2> {
  const identity = new PoolIdentity(generateAuthorityKeyPair(), randomSecretKey(), systemClock);
  const server = new Sv2Server(t.service, { host: "127.0.0.1", port: 0, identity, ephemeralKeys: 16, ...opts });
  const { port } = await server.start();
  return {
    server,
    identity,
    port,
    miner: (o = {}) => new Sv2Miner({ host: "127.0.0.1", port, authorityPublicKey: identity.authorityPublicKey, user: "farm.rig", reconnect: false, ...o }),
  };
}

/** Polls `predicate` every 5 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
