// A "Bitcoin Core" for the chaos suite: the embedded regtest chain served over real JSON-RPC
// (RpcServer on 127.0.0.1) that can be stopped, restarted on the same port, slowed down, made to
// answer RPC errors or non-JSON garbage, or to hold submitblock without answering. It records every
// submitblock that reached the chain, so tests can check that each found block arrived exactly once.
import type { Server } from "bun";
import { bytesToHex, hexToBytes, internalToDisplayHex } from "../../src/bitcoin/bytes.ts";
import { sha256d } from "../../src/bitcoin/hash.ts";
import type { BlockchainInfo, BlockHeaderInfo, BlockTemplateRequest, NodeAPI, SubmitBlockResult } from "../../src/node/api.ts";
import { EmbeddedNode } from "../../src/node/embedded.ts";
import { RPC_ERROR, RpcError } from "../../src/node/rpc-protocol.ts";
import { RpcServer } from "../../src/node/rpc-server.ts";
import type { Clock } from "../../src/pool/clock.ts";
import type { GetBlockTemplateResult } from "../../src/pool/template.ts";

export const CHAOS_RPC_USER = "chaos-pool";

export interface CoreFaults {
  /** Every call waits this long before the node looks at it. */
  delayMs: number;
  /** Every call but submitblock answers this JSON-RPC error instead of its result. */
  rpcError: { code: number; message: string } | null;
  /** submitblock is held (never reaches the chain) until `releaseHeldSubmissions`. */
  holdSubmit: boolean;
}

export type GarbageKind = "not-json" | "html-500" | "wrong-shape";

/** The node's answer to one submitblock that reached the chain. */
export interface ChainSubmission {
  hash: string;
  answer: string | null;
  atMs: number;
}

/** The block hash (display hex) of a serialized block. */
export function blockHashOfHex(blockHex: string): string {
  return internalToDisplayHex(sha256d(hexToBytes(blockHex.slice(0, 160))));
}

/** Puts the faults in front of the embedded node (the RpcServer serves this). */
class FaultyNode implements NodeAPI {
  constructor(private readonly core: ChaosCore) {}

  private async gate(): Promise<void> {
    const f = this.core.faults;
    if (f.delayMs > 0) await Bun.sleep(f.delayMs);
    if (f.rpcError !== null) throw new RpcError(f.rpcError.code, f.rpcError.message);
  }

  async getBlockTemplate(request?: BlockTemplateRequest): Promise<GetBlockTemplateResult> {
    await this.gate();
    return this.core.node.getBlockTemplate(request);
  }

  async submitBlock(blockHex: string): Promise<SubmitBlockResult> {
    const hash = blockHashOfHex(blockHex);
    this.core.submitCalls.push(hash);
    if (this.core.faults.delayMs > 0) await Bun.sleep(this.core.faults.delayMs);
    if (this.core.faults.holdSubmit) await this.core.hold(hash);
    const answer = await this.core.node.submitBlock(blockHex);
    this.core.chainSubmissions.push({ hash, answer: answer.result, atMs: Date.now() });
    return answer;
  }

  async getBestBlockHash(): Promise<string> {
    await this.gate();
    return this.core.node.getBestBlockHash();
  }

  async getBlockchainInfo(): Promise<BlockchainInfo> {
    await this.gate();
    return this.core.node.getBlockchainInfo();
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    await this.gate();
    return this.core.node.getBlockHeader(hash);
  }

  /** Like Core over RPC: no push channel, the pool polls. */
  subscribeNewTip(): (() => void) | null {
    return null;
  }
}

export interface ChaosCoreOptions {
  /** Network difficulty of the embedded chain. */
  difficulty: number;
  mempoolTxs?: number;
  clock?: Clock;
  /** The RPC password (secret-leak tests pick a recognisable one). */
  password?: string;
}

export class ChaosCore {
  readonly node: EmbeddedNode;
  readonly faults: CoreFaults = { delayMs: 0, rpcError: null, holdSubmit: false };
  /** The RPC password the node accepts now (`restart(newPassword)` changes it, like editing bitcoin.conf). */
  password: string;
  /** Hashes of every submitblock the RPC server received, in order (held or not). */
  readonly submitCalls: string[] = [];
  /** Every submitblock that reached the chain, with the node's answer. */
  readonly chainSubmissions: ChainSubmission[] = [];
  private readonly held: { hash: string; release: (e: RpcError | null) => void }[] = [];
  private readonly faulty: FaultyNode;
  private rpc: RpcServer | null = null;
  private garbage: Server<undefined> | null = null;
  private pastCalls = new Map<string, number>();
  private boundPort = 0;

  private constructor(options: ChaosCoreOptions) {
    this.node = new EmbeddedNode({ difficulty: options.difficulty, mempoolTxs: options.mempoolTxs ?? 0, clock: options.clock });
    this.password = options.password ?? bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
    this.faulty = new FaultyNode(this);
  }

  static async start(options: ChaosCoreOptions): Promise<ChaosCore> {
    const core = new ChaosCore(options);
    await core.restart();
    return core;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  get serving(): boolean {
    return this.rpc !== null;
  }

  /** The node process is gone: connections to the port are refused. */
  async stop(): Promise<void> {
    if (this.rpc !== null) {
      for (const [m, n] of this.rpc.calls) this.pastCalls.set(m, (this.pastCalls.get(m) ?? 0) + n);
      await this.rpc.stop();
      this.rpc = null;
    }
    this.garbage?.stop(true);
    this.garbage = null;
  }

  /** (Re)starts the RPC server, on the same port as before (optionally with another password). */
  async restart(newPassword?: string): Promise<void> {
    await this.stop();
    if (newPassword !== undefined) this.password = newPassword;
    this.rpc = await RpcServer.start({
      node: this.faulty,
      port: this.boundPort,
      auth: { kind: "userpass", user: CHAOS_RPC_USER, password: this.password },
    });
    this.boundPort = this.rpc.port;
  }

  /** Something else answers on the node's port: every request gets `kind` of garbage. */
  async serveGarbage(kind: GarbageKind): Promise<void> {
    await this.stop();
    this.garbage = Bun.serve({
      hostname: "127.0.0.1",
      port: this.boundPort,
      fetch: () => {
        if (kind === "not-json") return new Response("\u0000\u0001 this is not json {[", { headers: { "content-type": "application/json" } });
        if (kind === "html-500") return new Response("<html><body>502 Bad Gateway</body></html>", { status: 502, headers: { "content-type": "text/html" } });
        return Response.json({ result: { previousblockhash: 42, transactions: "many" }, error: null, id: 1 });
      },
    });
  }

  /** JSON-RPC calls served by method, over every RpcServer instance so far. */
  calls(method: string): number {
    return (this.pastCalls.get(method) ?? 0) + (this.rpc?.calls.get(method) ?? 0);
  }

  /** How many times the block `hash` reached the chain. */
  timesOnChain(hash: string): number {
    return this.chainSubmissions.filter((s) => s.hash === hash).length;
  }

  /** Called by the node wrapper: waits until the test releases held submissions. */
  hold(hash: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.held.push({ hash, release: (e) => (e === null ? resolve() : reject(e)) });
    });
  }

  get heldHashes(): string[] {
    return this.held.map((h) => h.hash);
  }

  /**
   * Ends held submissions: `pass` lets them reach the chain, otherwise they fail with a transient
   * error (-28, warming up), which the pool treats as "not delivered, retry".
   */
  releaseHeldSubmissions(pass: boolean): void {
    for (const h of this.held.splice(0)) h.release(pass ? null : new RpcError(RPC_ERROR.IN_WARMUP, "Loading block index..."));
  }

  async close(): Promise<void> {
    this.releaseHeldSubmissions(false);
    this.node.close();
    await this.stop();
  }
}
