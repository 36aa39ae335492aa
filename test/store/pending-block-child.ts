// Child process of restart.test.ts: the pool's block path (Ledger + BlockSubmitter + RpcNode) with a
// found block and a node that does not answer. It prints one JSON line per submission attempt and
// keeps retrying until the test kills it with SIGKILL.
//
// Usage: bun pending-block-child.ts '<json Args>'
import { hexToBytes } from "../../src/bitcoin/bytes.ts";
import { createLogger } from "../../src/log.ts";
import { RpcNode } from "../../src/node/rpc-node.ts";
import { BlockSubmitter } from "../../src/server/block-submitter.ts";
import { Ledger } from "../../src/store/ledger.ts";

export interface PendingChildArgs {
  ledgerPath: string;
  rpcUrl: string;
  rpcUser: string;
  rpcPassword: string;
  /** Display-order hex. */
  hash: string;
  /** Internal-order hex (what FoundBlock.hash holds). */
  hashInternal: string;
  height: number;
  prevHash: string;
  blockHex: string;
  coinbaseValue: string;
  foundAtMs: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as PendingChildArgs;
const logger = createLogger({ level: "warn" });
const ledger = new Ledger({ path: args.ledgerPath, logger });
const node = new RpcNode({ url: args.rpcUrl, auth: { kind: "userpass", user: args.rpcUser, password: args.rpcPassword }, timeoutMs: 2000 });
const submitter = new BlockSubmitter(node, ledger, logger, {
  retryMinMs: 50,
  retryMaxMs: 200,
  onAttempt: (rec) => process.stdout.write(`${JSON.stringify({ attempts: rec.attempts, status: rec.status, lastError: rec.lastError })}\n`),
});
const block = hexToBytes(args.blockHex);
const record = submitter.submit({
  hash: hexToBytes(args.hashInternal),
  hashHex: args.hash,
  height: args.height,
  prevHashHex: args.prevHash,
  header: block.slice(0, 80),
  block,
  worker: "farm.lucky",
  endpoint: "10.0.0.9:40000",
  channelId: 3,
  jobId: 42,
  templateId: 1,
  coinbaseValue: BigInt(args.coinbaseValue),
  foundAtMs: args.foundAtMs,
});
process.stdout.write(`${JSON.stringify({ recorded: record.hash, status: record.status })}\n`);
// Keep the process alive until it is killed.
setInterval(() => {}, 1 << 30);
