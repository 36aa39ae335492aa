/**
 * Node RPC latency and error metrics, by wrapping a NodeAPI.
 *
 * The node client has no metrics hook of its own, so the pool's node is wrapped where it is built
 * (`createPoolService(config, { node: instrumentNode(createNode(...), registry), metrics: registry })`).
 * Long-polls are timed under their own method name: their duration is how long the node had nothing
 * new, not how fast it answers. Requests aborted by our own shutdown are not errors.
 */
import type { Counter, Histogram, Registry } from "../metrics.ts";
import type { BlockchainInfo, BlockHeaderInfo, BlockTemplateRequest, NodeAPI, SubmitBlockResult } from "./api.ts";
import { NodeRequestError, RpcError } from "./rpc-protocol.ts";
import type { GetBlockTemplateResult } from "../pool/template.ts";

export const NODE_RPC_DURATION = "sv2pool_node_rpc_duration_ms";
export const NODE_RPC_ERRORS = "sv2pool_node_rpc_errors_total";

/** RPC latency buckets (ms): from a local node's sub-millisecond answers to a busy node's seconds. */
const RPC_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

export interface NodeRpcMetrics {
  duration: Histogram;
  errors: Counter;
}

/** Registers (or finds) the node RPC metric families, so /metrics names them even before any call. */
export function nodeRpcMetrics(registry: Registry): NodeRpcMetrics {
  return {
    duration: registry.histogram(NODE_RPC_DURATION, "Node RPC round-trip time by method (ms); long-polls under getblocktemplate_longpoll", RPC_BUCKETS_MS),
    errors: registry.counter(NODE_RPC_ERRORS, "Node RPC failures by method and kind (rpc = the node answered an error; otherwise the transport failure)"),
  };
}

function errorKind(e: unknown): string {
  if (e instanceof NodeRequestError) return e.failure;
  if (e instanceof RpcError) return "rpc";
  return "other";
}

/** A NodeAPI that times every call and counts failures; everything else passes through unchanged. */
export function instrumentNode(node: NodeAPI, registry: Registry): NodeAPI {
  const m = nodeRpcMetrics(registry);
  async function timed<T>(method: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const out = await call();
      m.duration.observe(performance.now() - t0, { method });
      return out;
    } catch (e) {
      const aborted = signal?.aborted === true || (e instanceof NodeRequestError && e.failure === "aborted");
      if (!aborted) m.errors.inc(1, { method, kind: errorKind(e) });
      throw e;
    }
  }
  return {
    getBlockTemplate(request?: BlockTemplateRequest): Promise<GetBlockTemplateResult> {
      const method = request?.longpollId === undefined ? "getblocktemplate" : "getblocktemplate_longpoll";
      return timed(method, request?.signal, () => node.getBlockTemplate(request));
    },
    submitBlock(blockHex: string): Promise<SubmitBlockResult> {
      return timed("submitblock", undefined, () => node.submitBlock(blockHex));
    },
    getBestBlockHash(): Promise<string> {
      return timed("getbestblockhash", undefined, () => node.getBestBlockHash());
    },
    getBlockchainInfo(): Promise<BlockchainInfo> {
      return timed("getblockchaininfo", undefined, () => node.getBlockchainInfo());
    },
    getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
      return timed("getblockheader", undefined, () => node.getBlockHeader(hash));
    },
    subscribeNewTip(listener: (hash: string) => void): (() => void) | null {
      return node.subscribeNewTip(listener);
    },
  };
}
