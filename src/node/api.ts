/**
 * NodeAPI: what the pool needs from a Bitcoin node. Implemented by the Bitcoin Core JSON-RPC client
 * (rpc-node.ts) and by the embedded regtest node (embedded.ts), so every layer above is the same
 * whichever node runs underneath.
 */
import type { GetBlockTemplateResult } from "../pool/template.ts";

export interface BlockTemplateRequest {
  /** Long-poll: the node answers when the template changes from the one with this id. */
  longpollId?: string;
  /** Aborts a pending (long-poll) request, e.g. at shutdown. */
  signal?: AbortSignal;
}

/**
 * The node's answer to submitblock, kept verbatim for the ledger. Bitcoin Core answers `null` for a
 * block it accepted, "duplicate" when it already has it, "inconclusive" when it is valid but not (yet)
 * on the best chain, and a rejection reason otherwise ("high-hash", "bad-txnmrklroot", ...).
 */
export interface SubmitBlockResult {
  /** The raw answer: null or the string Core returned. */
  result: string | null;
  /** The node has the block (null, "duplicate", "inconclusive"). */
  accepted: boolean;
}

export interface BlockchainInfo {
  /** Core's chain name: "main", "test", "testnet4", "signet", "regtest". */
  chain: string;
  blocks: number;
  headers: number;
  bestblockhash: string;
  initialblockdownload: boolean;
}

export interface BlockHeaderInfo {
  hash: string;
  height: number;
  previousblockhash: string | null;
  bits: string;
  time: number;
  /**
   * Median time past of the 11 blocks ending at this one (Core's getblockheader sends it): the next
   * block's time must exceed it, so a new tip's min_ntime is mediantime + 1 at the least.
   */
  mediantime?: number;
}

export interface NodeAPI {
  getBlockTemplate(request?: BlockTemplateRequest): Promise<GetBlockTemplateResult>;
  submitBlock(blockHex: string): Promise<SubmitBlockResult>;
  getBestBlockHash(): Promise<string>;
  getBlockchainInfo(): Promise<BlockchainInfo>;
  getBlockHeader(hash: string): Promise<BlockHeaderInfo>;
  /**
   * Push notification of a new best block, for nodes that can deliver one (the embedded node does;
   * the RPC client may not). Returns an unsubscribe function, or null when unsupported.
   */
  subscribeNewTip(listener: (hash: string) => void): (() => void) | null;
}

/** Interprets a submitblock answer the way Bitcoin Core means it. */
export function interpretSubmitBlock(result: string | null): SubmitBlockResult {
  return { result, accepted: result === null || result === "duplicate" || result === "inconclusive" };
}
