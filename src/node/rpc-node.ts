/**
 * RpcNode: NodeAPI over Bitcoin Core's JSON-RPC. Answers are untrusted: each is checked and a wrong
 * shape becomes a NodeRequestError("garbage") naming the method and field, never a crash upstream.
 */
import { parseGbtResult, type GetBlockTemplateResult } from "../pool/template.ts";
import {
  interpretSubmitBlock,
  type BlockchainInfo,
  type BlockHeaderInfo,
  type BlockTemplateRequest,
  type NodeAPI,
  type SubmitBlockResult,
} from "./api.ts";
import { RpcClient, type RpcClientOptions } from "./rpc.ts";
import { HASH_HEX, NodeRequestError, RPC_ERROR, RpcError } from "./rpc-protocol.ts";

export interface RpcNodeOptions {
  /**
   * Timeout of a long-poll getblocktemplate. Core holds it until the tip or the mempool changes, which
   * on an idle chain can be forever; on timeout the caller simply asks again.
   */
  longPollTimeoutMs?: number;
  /** Timeout of submitblock: Core validates the whole block before answering. */
  submitTimeoutMs?: number;
}

export const DEFAULT_LONG_POLL_TIMEOUT_MS = 120_000;
export const DEFAULT_SUBMIT_TIMEOUT_MS = 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function garbage(method: string, what: string, got: unknown): NodeRequestError {
  return new NodeRequestError("garbage", `${method}: ${what}, got ${JSON.stringify(got)?.slice(0, 120)}`);
}

function hashField(method: string, obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (typeof v !== "string" || !HASH_HEX.test(v)) throw garbage(method, `'${field}' must be a 64-digit hex hash`, v);
  return v;
}

function intField(method: string, obj: Record<string, unknown>, field: string): number {
  const v = obj[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw garbage(method, `'${field}' must be a non-negative integer`, v);
  return v;
}

export class RpcNode implements NodeAPI {
  readonly client: RpcClient;
  private readonly longPollTimeoutMs: number;
  private readonly submitTimeoutMs: number;
  /** Signet nodes refuse templates unless the client names the "signet" rule; learnt from the first refusal. */
  private rules: string[] = ["segwit"];

  constructor(client: RpcClient | RpcClientOptions, options: RpcNodeOptions = {}) {
    this.client = client instanceof RpcClient ? client : new RpcClient(client);
    this.longPollTimeoutMs = options.longPollTimeoutMs ?? DEFAULT_LONG_POLL_TIMEOUT_MS;
    this.submitTimeoutMs = options.submitTimeoutMs ?? DEFAULT_SUBMIT_TIMEOUT_MS;
  }

  async getBlockTemplate(request: BlockTemplateRequest = {}): Promise<GetBlockTemplateResult> {
    const params: Record<string, unknown> = { rules: this.rules };
    if (request.longpollId !== undefined) params["longpollid"] = request.longpollId;
    const callOptions = {
      ...(request.longpollId !== undefined ? { timeoutMs: this.longPollTimeoutMs } : {}),
      ...(request.signal !== undefined ? { signal: request.signal } : {}),
    };
    let raw: unknown;
    try {
      raw = await this.client.call("getblocktemplate", [params], callOptions);
    } catch (e) {
      if (e instanceof RpcError && e.code === RPC_ERROR.INVALID_PARAMETER && e.rpcMessage.includes("signet rule") && !this.rules.includes("signet")) {
        this.rules = ["segwit", "signet"];
        return this.getBlockTemplate(request);
      }
      throw e;
    }
    return parseGbtResult(raw);
  }

  /**
   * Core answers null (accepted) or a BIP22 reason string. An RPC error (e.g. -22 "Block decode
   * failed") is also a final answer about this block and is returned as a rejection, so that a block
   * submitter does not retry it forever; only transport failures and transient node states throw.
   */
  async submitBlock(blockHex: string): Promise<SubmitBlockResult> {
    let raw: unknown;
    try {
      raw = await this.client.call("submitblock", [blockHex], { timeoutMs: this.submitTimeoutMs });
    } catch (e) {
      if (e instanceof RpcError && !e.transient) return interpretSubmitBlock(`rpc-error ${e.code}: ${e.rpcMessage}`);
      throw e;
    }
    if (raw !== null && typeof raw !== "string") throw garbage("submitblock", "the answer must be null or a string", raw);
    return interpretSubmitBlock(raw);
  }

  async getBestBlockHash(): Promise<string> {
    const raw = await this.client.call("getbestblockhash");
    if (typeof raw !== "string" || !HASH_HEX.test(raw)) throw garbage("getbestblockhash", "the answer must be a 64-digit hex hash", raw);
    return raw;
  }

  async getBlockchainInfo(): Promise<BlockchainInfo> {
    const m = "getblockchaininfo";
    const raw = await this.client.call(m);
    if (!isRecord(raw)) throw garbage(m, "the answer must be an object", raw);
    const chain = raw["chain"];
    if (typeof chain !== "string") throw garbage(m, "'chain' must be a string", chain);
    const ibd = raw["initialblockdownload"];
    if (typeof ibd !== "boolean") throw garbage(m, "'initialblockdownload' must be a boolean", ibd);
    return {
      chain,
      blocks: intField(m, raw, "blocks"),
      headers: intField(m, raw, "headers"),
      bestblockhash: hashField(m, raw, "bestblockhash"),
      initialblockdownload: ibd,
    };
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    const m = "getblockheader";
    const raw = await this.client.call(m, [hash, true]);
    if (!isRecord(raw)) throw garbage(m, "the answer must be an object", raw);
    const bits = raw["bits"];
    if (typeof bits !== "string" || !/^[0-9a-f]{8}$/.test(bits)) throw garbage(m, "'bits' must be 8 hex digits", bits);
    const prev = raw["previousblockhash"];
    const info: BlockHeaderInfo = {
      hash: hashField(m, raw, "hash"),
      height: intField(m, raw, "height"),
      // Core omits previousblockhash for the genesis block.
      previousblockhash: prev === undefined ? null : hashField(m, raw, "previousblockhash"),
      bits,
      time: intField(m, raw, "time"),
    };
    if (raw["mediantime"] !== undefined) info.mediantime = intField(m, raw, "mediantime");
    if (info.hash !== hash) throw garbage(m, `the answer is for another block than ${hash}`, info.hash);
    return info;
  }

  /** Core has no push channel over RPC (ZMQ is not used): the watcher polls getbestblockhash instead. */
  subscribeNewTip(): (() => void) | null {
    return null;
  }
}
