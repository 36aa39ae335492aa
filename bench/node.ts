// Node layer figures: JSON-RPC round trip against the RPC server, getblocktemplate with 4,000
// synthetic transactions (time and size), and how fast a new tip reaches the TemplateWatcher.
// Run directly: `bun bench/node.ts [--quick]`.
import { silentLogger } from "../src/log.ts";
import { EmbeddedNode } from "../src/node/embedded.ts";
import { RpcNode } from "../src/node/rpc-node.ts";
import { RpcServer } from "../src/node/rpc-server.ts";
import { TemplateWatcher, type NewTipEvent } from "../src/node/template-watcher.ts";
import { templateFromGbt } from "../src/pool/template.ts";
import { percentile } from "./lib.ts";

const AUTH = { kind: "userpass", user: "bench", password: "bench" } as const;

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

async function rpcRoundTrip(calls: number): Promise<Record<string, number>> {
  const embedded = new EmbeddedNode();
  const server = await RpcServer.start({ node: embedded, auth: AUTH });
  const rpc = new RpcNode({ url: server.url, auth: AUTH });
  try {
    for (let i = 0; i < 50; i++) await rpc.getBestBlockHash();
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await rpc.getBestBlockHash();
      samples.push(performance.now() - t0);
    }
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    console.log(`getbestblockhash round trip (${calls} calls)`.padEnd(56), `p50 ${fmt(p50)}`.padStart(14), `p99 ${fmt(p99)}`.padStart(14));
    return { "rpc.getbestblockhash.p50_ms": p50, "rpc.getbestblockhash.p99_ms": p99 };
  } finally {
    embedded.close();
    await server.stop();
  }
}

async function bigTemplate(rounds: number): Promise<Record<string, number>> {
  const t0 = performance.now();
  const embedded = new EmbeddedNode({ mempoolTxs: 4_000 });
  const fillMs = performance.now() - t0;
  const server = await RpcServer.start({ node: embedded, auth: AUTH });
  const rpc = new RpcNode({ url: server.url, auth: AUTH, timeoutMs: 60_000 });
  try {
    const t1 = performance.now();
    const gbt = await embedded.getBlockTemplate();
    const buildMs = performance.now() - t1;
    const bytes = Buffer.byteLength(JSON.stringify({ result: gbt, error: null, id: 1 }));
    const rpcSamples: number[] = [];
    const parseSamples: number[] = [];
    let txs = 0;
    for (let i = 0; i < rounds; i++) {
      const ta = performance.now();
      const answer = await rpc.getBlockTemplate();
      const tb = performance.now();
      const template = templateFromGbt(answer, i);
      parseSamples.push(performance.now() - tb);
      rpcSamples.push(tb - ta);
      txs = template.transactions.length;
    }
    const rpcMs = percentile(rpcSamples, 50);
    const toTemplateMs = percentile(parseSamples, 50);
    console.log(`embedded mempool fill, 4,000 synthetic txs`.padEnd(56), fmt(fillMs).padStart(14));
    console.log(`getblocktemplate build in-process (${gbt.transactions.length} txs)`.padEnd(56), fmt(buildMs).padStart(14));
    console.log(`getblocktemplate over RPC (built once) incl. checks, p50 of ${rounds}`.padEnd(56), fmt(rpcMs).padStart(14));
    console.log(`templateFromGbt (${txs} txs, merkle path), p50`.padEnd(56), fmt(toTemplateMs).padStart(14));
    console.log(`getblocktemplate answer size`.padEnd(56), `${(bytes / 1e6).toFixed(2)} MB`.padStart(14));
    return {
      "gbt4000.fill_ms": fillMs,
      "gbt4000.build_ms": buildMs,
      "gbt4000.rpc_ms": rpcMs,
      "gbt4000.to_template_ms": toTemplateMs,
      "gbt4000.bytes": bytes,
    };
  } finally {
    embedded.close();
    await server.stop();
  }
}

/** Mines `blocks` blocks and measures node acceptance → watcher newTip. */
async function tipLatency(blocks: number, overRpc: boolean, templateDelayMs = 0): Promise<number[]> {
  const embedded = new EmbeddedNode({ mempoolTxs: 100, longPollMaxWaitMs: 600_000, templateDelayMs });
  const server = overRpc ? await RpcServer.start({ node: embedded, auth: AUTH }) : null;
  const node = server === null ? embedded : new RpcNode({ url: server.url, auth: AUTH });
  const watcher = new TemplateWatcher(node, { logger: silentLogger });
  const samples: number[] = [];
  try {
    watcher.start();
    await watcher.nextTemplate();
    for (let i = 0; i < blocks; i++) {
      const tip = new Promise<NewTipEvent>((resolve) => {
        const off = watcher.on("newTip", (t) => {
          off();
          resolve(t);
        });
      });
      const template = watcher.nextTemplate();
      const mined = await embedded.mineBlock();
      const event = await tip;
      samples.push(event.seenAtMs - (embedded.acceptedAtMs(mined.hash) ?? event.seenAtMs));
      await template;
      // Blocks do not come back to back: let the poll phase vary.
      await Bun.sleep(7 + (i % 13));
    }
  } finally {
    await watcher.stop();
    embedded.close();
    await server?.stop();
  }
  return samples;
}

async function watcherLatency(blocks: number): Promise<Record<string, number>> {
  // Core answers a long-poll only once the next template is built (slow on a full mempool): with a
  // 100 ms build the tip reaches the watcher through the 20 ms getbestblockhash poll.
  const slow = await tipLatency(blocks, true, 100);
  const rpc = await tipLatency(blocks, true);
  const push = await tipLatency(blocks, false);
  const out = {
    "watcher.newtip_rpc_slowgbt.p50_ms": percentile(slow, 50),
    "watcher.newtip_rpc_slowgbt.max_ms": Math.max(...slow),
    "watcher.newtip_rpc.p50_ms": percentile(rpc, 50),
    "watcher.newtip_rpc.max_ms": Math.max(...rpc),
    "watcher.newtip_push.p50_ms": percentile(push, 50),
    "watcher.newtip_push.max_ms": Math.max(...push),
  };
  const line = (label: string, key: string): void =>
    console.log(label.padEnd(56), `p50 ${fmt(out[`${key}.p50_ms` as keyof typeof out])}`.padStart(14), `max ${fmt(out[`${key}.max_ms` as keyof typeof out])}`.padStart(14));
  line(`tip → newTip, RPC, 20 ms poll, 100 ms GBT (${blocks} blocks)`, "watcher.newtip_rpc_slowgbt");
  line(`tip → newTip, RPC, 20 ms poll + long-poll (${blocks} blocks)`, "watcher.newtip_rpc");
  line(`tip → newTip, in-process push (${blocks} blocks)`, "watcher.newtip_push");
  return out;
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  console.log("node: RPC client/server, embedded node, template watcher");
  return {
    ...(await rpcRoundTrip(opts.quick ? 500 : 5_000)),
    ...(await bigTemplate(opts.quick ? 3 : 10)),
    ...(await watcherLatency(opts.quick ? 8 : 40)),
  };
}

if (import.meta.main) {
  const figures = await run({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
}
