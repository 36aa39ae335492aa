/**
 * EmbeddedNode: an in-process regtest-style chain behind the NodeAPI, the pool's node when none is
 * configured (demos, tests, `npm start`).
 *
 * It starts from the real regtest genesis block, keeps one nBits (configurable, no retargeting),
 * serves templates in Bitcoin Core's getblocktemplate shape (optionally filled with synthetic
 * mempool transactions), long-polls like Core (answers when the tip or the mempool changes), and
 * checks submitted blocks answering exactly what Core would ("high-hash", "bad-txnmrklroot",
 * "duplicate", "inconclusive" for a valid block off the best chain, ...). A longer side branch
 * becomes the best chain (constant difficulty: more blocks is more work).
 */
import { bytesToHex, displayHexToInternal, hexToBytes, internalToDisplayHex } from "../bitcoin/bytes.ts";
import { parseBlock, serializeBlock } from "../bitcoin/block.ts";
import { encodeCompactSize } from "../bitcoin/compactsize.ts";
import { serializeHeader } from "../bitcoin/header.ts";
import { sha256d } from "../bitcoin/hash.ts";
import { NETWORKS } from "../bitcoin/network.ts";
import { blockSubsidy } from "../bitcoin/subsidy.ts";
import { difficultyToTarget, nbitsToTarget, targetToNbits } from "../bitcoin/target.ts";
import { serializeTransaction, txid as computeTxid, wtxid as computeWtxid, type Transaction } from "../bitcoin/tx.ts";
import { witnessCommitmentScript, witnessMerkleRoot, witnessCommitment, findWitnessCommitment } from "../bitcoin/witness.ts";
import { StratumV2Error } from "../errors.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { systemClock, type Clock } from "../pool/clock.ts";
import type { GbtTransaction, GetBlockTemplateResult } from "../pool/template.ts";
import {
  interpretSubmitBlock,
  type BlockchainInfo,
  type BlockHeaderInfo,
  type BlockTemplateRequest,
  type NodeAPI,
  type SubmitBlockResult,
} from "./api.ts";
import {
  blockWeight,
  checkBlock,
  contextualCheckBlock,
  contextualCheckHeader,
  isCoinbase,
  MAX_BLOCK_WEIGHT,
  txWeight,
  type CheckedTx,
} from "./block-checks.ts";
import { solveBlock, type CandidateOptions, type SolvedBlock } from "./block-builder.ts";
import { NodeRequestError, RPC_ERROR, RpcError } from "./rpc-protocol.ts";
import { syntheticTransaction, type SyntheticParent } from "./synthetic-txs.ts";

/** Regtest's genesis block (chainparams.cpp: time 1296688602, nonce 2, bits 0x207fffff). */
export const REGTEST_GENESIS_HEX =
  "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a" +
  "dae5494dffff7f20020000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054" +
  "696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffff" +
  "ff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b" +
  "8d578a4c702b6bf11d5fac00000000";
export const REGTEST_GENESIS_HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
export const REGTEST_BITS = 0x207fffff;

/** Core's block assembler keeps this much weight and sigop cost for the coinbase. */
const RESERVED_WEIGHT = 8_000;
const MAX_SIGOPS_COST = 80_000;
const RESERVED_SIGOPS = 400;
const DEFAULT_LONG_POLL_MAX_WAIT_MS = 60_000;
/** Every this-many synthetic transactions, one spends an output of the previous one. */
const CHILD_EVERY = 4;

export interface EmbeddedNodeOptions {
  /** Compact nBits of every block (default regtest's 0x207fffff). */
  bits?: number;
  /** Network difficulty instead of `bits` (e.g. 0.0001 for demos); 0 or absent = `bits`. */
  difficulty?: number;
  /** Synthetic transactions kept in the mempool (refilled after every block). */
  mempoolTxs?: number;
  /** A long-poll answers after this long even if nothing changed. */
  longPollMaxWaitMs?: number;
  /**
   * getblocktemplate answers only after this delay: imitates Core building a template on a full
   * mempool (hundreds of ms), which is why the watcher does not wait for templates to learn tips.
   */
  templateDelayMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Seed of the synthetic transactions (two nodes with the same salt make the same ones). */
  salt?: string;
}

export interface MineBlockOptions extends CandidateOptions {
  /**
   * Build on this block instead of the tip (display hex), e.g. to extend a side branch. Such a block
   * carries no mempool transactions.
   */
  parent?: string;
}

export interface MinedBlock {
  hash: string;
  height: number;
  hex: string;
  answer: SubmitBlockResult;
  tries: number;
}

interface StoredBlock {
  hash: string;
  height: number;
  prev: string | null;
  version: number;
  time: number;
  bits: number;
  /** Median time past of the 11 blocks ending with this one. */
  mtp: number;
  bytes: Uint8Array;
  /** Non-coinbase txids, display hex, in block order. */
  txids: string[];
  coinbaseOut: bigint;
  active: boolean;
  acceptedAtMs: number;
}

interface MempoolEntry {
  txid: string;
  wtxid: string;
  data: string;
  fee: number;
  weight: number;
  sigops: number;
  /** In-mempool parents (display txids). */
  parents: string[];
}

interface TemplateCache {
  key: string;
  transactions: GbtTransaction[];
  fees: bigint;
  commitment: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export class EmbeddedNode implements NodeAPI {
  readonly bits: number;
  private readonly target: bigint;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly mempoolTarget: number;
  private readonly longPollMaxWaitMs: number;
  private readonly templateDelayMs: number;
  private readonly halvingInterval: number;
  private readonly salt: Uint8Array;

  private readonly blocks = new Map<string, StoredBlock>();
  /** Active chain, by height. */
  private readonly chain: string[] = [];
  /** Blocks known to be invalid (Core answers "duplicate-invalid" when they come again). */
  private readonly invalid = new Set<string>();
  /** Non-coinbase transactions of the active chain: txid → height. */
  private confirmed = new Map<string, number>();
  private readonly mempool = new Map<string, MempoolEntry>();
  /** Every transaction the mempool ever held: blocks may include those (and only those). */
  private readonly known = new Map<string, MempoolEntry>();
  /** Core's "transactions updated" counter: part of the longpollid. */
  private mempoolSeq = 0;
  private syntheticCount = 0;
  private lastSpendable: (SyntheticParent & { owner: string }) | null = null;
  private templateCache: TemplateCache | null = null;
  private readonly changeWaiters = new Set<() => void>();
  private readonly tipListeners = new Set<(hash: string) => void>();
  private initialBlockDownload = false;
  private closed = false;
  private mineCounter = 0;

  constructor(options: EmbeddedNodeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const difficulty = options.difficulty ?? 0;
    this.bits = difficulty > 0 ? targetToNbits(difficultyToTarget(difficulty)) : (options.bits ?? REGTEST_BITS);
    this.target = nbitsToTarget(this.bits);
    this.mempoolTarget = options.mempoolTxs ?? 0;
    this.longPollMaxWaitMs = options.longPollMaxWaitMs ?? DEFAULT_LONG_POLL_MAX_WAIT_MS;
    this.templateDelayMs = options.templateDelayMs ?? 0;
    this.halvingInterval = NETWORKS.regtest.halvingInterval;
    this.salt = new TextEncoder().encode(options.salt ?? "sv2pool-embedded");
    const genesis = parseBlock(hexToBytes(REGTEST_GENESIS_HEX));
    this.blocks.set(REGTEST_GENESIS_HASH, {
      hash: REGTEST_GENESIS_HASH,
      height: 0,
      prev: null,
      version: genesis.header.version,
      time: genesis.header.time,
      bits: genesis.header.bits,
      mtp: genesis.header.time,
      bytes: hexToBytes(REGTEST_GENESIS_HEX),
      txids: [],
      coinbaseOut: 50n * 100_000_000n,
      active: true,
      acceptedAtMs: this.clock.nowMs(),
    });
    this.chain.push(REGTEST_GENESIS_HASH);
    this.refillMempool();
  }

  // --- accessors ----------------------------------------------------------------------------

  get tipHeight(): number {
    return this.chain.length - 1;
  }

  get tipHash(): string {
    return this.chain[this.chain.length - 1] as string;
  }

  /** Hashes of the active chain, genesis first. */
  get chainHashes(): readonly string[] {
    return this.chain;
  }

  /** Raw block hex (with witnesses), or null when unknown. */
  getBlock(hash: string): string | null {
    const b = this.blocks.get(hash);
    return b === undefined ? null : bytesToHex(b.bytes);
  }

  /** Clock time (ms) at which a block became the tip (or was stored, off the best chain): for latency measurements. */
  acceptedAtMs(hash: string): number | null {
    return this.blocks.get(hash)?.acceptedAtMs ?? null;
  }

  get mempoolSize(): number {
    return this.mempool.size;
  }

  /** Makes getblocktemplate fail with -10 like a mainnet Core in initial block download. */
  setInitialBlockDownload(on: boolean): void {
    this.initialBlockDownload = on;
  }

  /** Adds synthetic transactions now (a mempool change: wakes long-polls). */
  addSyntheticTransactions(count: number): void {
    for (let i = 0; i < count; i++) this.addSynthetic();
    this.mempoolChanged();
  }

  /** Ends pending long-polls (they fail as aborted). */
  close(): void {
    this.closed = true;
    this.wakeWaiters();
  }

  // --- NodeAPI ------------------------------------------------------------------------------

  async getBlockTemplate(request: BlockTemplateRequest = {}): Promise<GetBlockTemplateResult> {
    if (this.initialBlockDownload) {
      throw new RpcError(RPC_ERROR.CLIENT_IN_INITIAL_DOWNLOAD, "Bitcoin Core is in initial sync and waiting for blocks...");
    }
    if (request.longpollId !== undefined) await this.waitForChange(request.longpollId, request.signal);
    if (this.templateDelayMs > 0) await Bun.sleep(this.templateDelayMs);
    return this.buildTemplate();
  }

  async submitBlock(blockHex: string): Promise<SubmitBlockResult> {
    return interpretSubmitBlock(this.processBlock(blockHex));
  }

  async getBestBlockHash(): Promise<string> {
    return this.tipHash;
  }

  async getBlockchainInfo(): Promise<BlockchainInfo> {
    return {
      chain: "regtest",
      blocks: this.tipHeight,
      headers: this.tipHeight,
      bestblockhash: this.tipHash,
      initialblockdownload: this.initialBlockDownload,
    };
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    const b = this.blocks.get(hash);
    if (b === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, "Block not found");
    return {
      hash: b.hash,
      height: b.height,
      previousblockhash: b.prev,
      bits: b.bits.toString(16).padStart(8, "0"),
      time: b.time,
      mediantime: b.mtp,
    };
  }

  subscribeNewTip(listener: (hash: string) => void): () => void {
    this.tipListeners.add(listener);
    return () => this.tipListeners.delete(listener);
  }

  // --- mining helpers ------------------------------------------------------------------------

  /** Builds and solves a block on the current template without submitting it. */
  async craftBlock(options: MineBlockOptions = {}): Promise<SolvedBlock> {
    // Other miners keep mining whatever the node's IBD state: no getblocktemplate checks here.
    const gbt = options.parent === undefined || options.parent === this.tipHash ? this.buildTemplate() : this.emptyTemplateOn(options.parent);
    const extraNonce = options.extraNonce ?? Uint8Array.of(...encodeCompactSize(++this.mineCounter));
    return solveBlock(gbt, { ...options, extraNonce });
  }

  /** Another miner finds a block on the current template: build, solve, submit. */
  async mineBlock(options: MineBlockOptions = {}): Promise<MinedBlock> {
    const parent = this.blocks.get(options.parent ?? this.tipHash);
    if (parent === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, "Block not found");
    const solved = await this.craftBlock(options);
    const hex = bytesToHex(solved.bytes);
    const answer = await this.submitBlock(hex);
    return { hash: internalToDisplayHex(solved.hash), height: parent.height + 1, hex, answer, tries: solved.tries };
  }

  /** Mines `count` blocks on top of each other; throws if one is refused. */
  async mineBlocks(count: number, options: MineBlockOptions = {}): Promise<MinedBlock[]> {
    const out: MinedBlock[] = [];
    for (let i = 0; i < count; i++) {
      const mined = await this.mineBlock(options);
      if (mined.answer.result !== null) throw StratumV2Error.pool(`embedded node refused its own block: ${mined.answer.result}`);
      out.push(mined);
    }
    return out;
  }

  // --- templates -------------------------------------------------------------------------------

  private get tip(): StoredBlock {
    return this.blocks.get(this.tipHash) as StoredBlock;
  }

  private get longpollId(): string {
    return `${this.tipHash}${this.mempoolSeq}`;
  }

  private buildTemplate(): GetBlockTemplateResult & Record<string, unknown> {
    const tip = this.tip;
    const height = tip.height + 1;
    const selection = this.selectTransactions();
    const mintime = tip.mtp + 1;
    const curtime = Math.max(mintime, Math.floor(this.clock.nowMs() / 1000));
    // Core's field order and extra fields, so that RPC clients see a familiar answer.
    return {
      capabilities: ["proposal"],
      version: 0x20000000,
      rules: ["csv", "!segwit", "taproot"],
      vbavailable: {},
      vbrequired: 0,
      previousblockhash: tip.hash,
      transactions: selection.transactions,
      coinbaseaux: {},
      coinbasevalue: Number(blockSubsidy(height, this.halvingInterval) + selection.fees),
      longpollid: this.longpollId,
      target: this.target.toString(16).padStart(64, "0"),
      mintime,
      mutable: ["time", "transactions", "prevblock"],
      noncerange: "00000000ffffffff",
      sigoplimit: MAX_SIGOPS_COST,
      sizelimit: MAX_BLOCK_WEIGHT,
      weightlimit: MAX_BLOCK_WEIGHT,
      curtime,
      bits: this.bits.toString(16).padStart(8, "0"),
      height,
      default_witness_commitment: selection.commitment,
    };
  }

  /** A template without transactions on any known block (for side branches). */
  private emptyTemplateOn(parentHash: string): GetBlockTemplateResult {
    const parent = this.blocks.get(parentHash);
    if (parent === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, "Block not found");
    const height = parent.height + 1;
    const mintime = parent.mtp + 1;
    const emptyRoot = witnessMerkleRoot([new Uint8Array(32)]);
    return {
      version: 0x20000000,
      previousblockhash: parent.hash,
      transactions: [],
      coinbasevalue: Number(blockSubsidy(height, this.halvingInterval)),
      mintime,
      curtime: Math.max(mintime, Math.floor(this.clock.nowMs() / 1000)),
      bits: this.bits.toString(16).padStart(8, "0"),
      height,
      default_witness_commitment: bytesToHex(witnessCommitmentScript(witnessCommitment(emptyRoot, new Uint8Array(32)))),
    };
  }

  /** Mempool transactions that fit, parents first, with Core's 1-based `depends`. */
  private selectTransactions(): TemplateCache {
    const key = this.longpollId;
    if (this.templateCache?.key === key) return this.templateCache;
    const chosen: MempoolEntry[] = [];
    const position = new Map<string, number>();
    let weight = RESERVED_WEIGHT;
    let sigops = RESERVED_SIGOPS;
    let pending = [...this.mempool.values()];
    // Parents can follow children in insertion order after a reorg: repeat until nothing moves.
    for (let progress = true; progress && pending.length > 0; ) {
      progress = false;
      const later: MempoolEntry[] = [];
      for (const e of pending) {
        if (!e.parents.every((p) => position.has(p) || this.confirmed.has(p))) {
          later.push(e);
          continue;
        }
        if (weight + e.weight > MAX_BLOCK_WEIGHT || sigops + e.sigops > MAX_SIGOPS_COST) continue;
        weight += e.weight;
        sigops += e.sigops;
        chosen.push(e);
        position.set(e.txid, chosen.length);
        progress = true;
      }
      pending = later;
    }
    let fees = 0n;
    const transactions: GbtTransaction[] = chosen.map((e) => {
      fees += BigInt(e.fee);
      return {
        data: e.data,
        txid: e.txid,
        hash: e.wtxid,
        depends: e.parents.filter((p) => position.has(p)).map((p) => position.get(p) as number),
        fee: e.fee,
        sigops: e.sigops,
        weight: e.weight,
      };
    });
    const wtxids = [new Uint8Array(32), ...chosen.map((e) => displayHexToInternal(e.wtxid))];
    const commitment = bytesToHex(witnessCommitmentScript(witnessCommitment(witnessMerkleRoot(wtxids), new Uint8Array(32))));
    this.templateCache = { key, transactions, fees, commitment };
    return this.templateCache;
  }

  private async waitForChange(longpollId: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.longPollMaxWaitMs;
    while (longpollId === this.longpollId && !this.closed) {
      if (signal?.aborted === true) throw new NodeRequestError("aborted", "getblocktemplate: long-poll aborted");
      const remaining = deadline - Date.now();
      if (remaining <= 0) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.changeWaiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.changeWaiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    if (this.closed) throw new NodeRequestError("aborted", "getblocktemplate: the embedded node is closed");
    if (signal?.aborted === true) throw new NodeRequestError("aborted", "getblocktemplate: long-poll aborted");
  }

  private wakeWaiters(): void {
    for (const wake of [...this.changeWaiters]) wake();
  }

  private mempoolChanged(): void {
    this.mempoolSeq++;
    this.wakeWaiters();
  }

  // --- mempool -------------------------------------------------------------------------------

  private addEntry(tx: Transaction, fee: number, sigops: number, parents: string[]): MempoolEntry {
    const entry: MempoolEntry = {
      txid: internalToDisplayHex(computeTxid(tx)),
      wtxid: internalToDisplayHex(computeWtxid(tx)),
      data: bytesToHex(serializeTransaction(tx, true)),
      fee,
      weight: txWeight(tx),
      sigops,
      parents,
    };
    this.mempool.set(entry.txid, entry);
    this.known.set(entry.txid, entry);
    return entry;
  }

  private addSynthetic(): void {
    const n = this.syntheticCount++;
    const parent = n % CHILD_EVERY === CHILD_EVERY - 1 && this.lastSpendable !== null && this.mempool.has(this.lastSpendable.owner)
      ? this.lastSpendable
      : null;
    const made = syntheticTransaction(this.salt, n, parent ?? undefined);
    const entry = this.addEntry(made.tx, made.fee, made.sigops, parent === null ? [] : [parent.owner]);
    this.lastSpendable = { txid: displayHexToInternal(entry.txid), vout: 0, value: made.spendableValue, owner: entry.txid };
  }

  private refillMempool(): void {
    while (this.mempool.size < this.mempoolTarget) this.addSynthetic();
  }

  // --- block processing ------------------------------------------------------------------------

  /** Core's submitblock, step by step; returns its answer (null = accepted). */
  private processBlock(blockHex: string): string | null {
    if (blockHex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(blockHex)) {
      throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, "Block decode failed");
    }
    let block;
    try {
      block = parseBlock(hexToBytes(blockHex));
    } catch {
      throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, "Block decode failed");
    }
    const { header } = block;
    const transactions = block.transactions;
    const prevHex = internalToDisplayHex(header.prevHash);
    const prev = this.blocks.get(prevHex);
    // UpdateUncommittedBlockStructures: Core adds the witness nonce a committed coinbase lacks.
    const coinbase = transactions[0];
    if (prev !== undefined && coinbase !== undefined && isCoinbase(coinbase) && findWitnessCommitment(coinbase) !== null) {
      const input = coinbase.inputs[0];
      if (input !== undefined && input.witness.length === 0) input.witness = [new Uint8Array(32)];
    }
    const hashBytes = sha256d(serializeHeader(header));
    const hash = internalToDisplayHex(hashBytes);
    const checked: CheckedTx[] = transactions.map((tx) => ({
      tx,
      txid: computeTxid(tx),
      wtxid: computeWtxid(tx),
      strippedSize: serializeTransaction(tx, false).length,
      totalSize: serializeTransaction(tx, true).length,
    }));
    const countSize = 80 + encodeCompactSize(transactions.length).length;
    const strippedSize = checked.reduce((s, t) => s + t.strippedSize, countSize);

    const contextFree = checkBlock(header, hashBytes, checked, strippedSize);
    if (contextFree !== null) return this.rejected(hash, contextFree);
    if (this.invalid.has(hash)) return "duplicate-invalid";
    if (this.blocks.has(hash)) return "duplicate";
    if (prev === undefined) return this.rejected(hash, "prev-blk-not-found");
    if (this.invalid.has(prev.hash)) return this.rejected(hash, "bad-prevblk");
    const height = prev.height + 1;
    const headerReason = contextualCheckHeader(header, {
      expectedBits: this.bits,
      prevMedianTimePast: prev.mtp,
      nowS: Math.floor(this.clock.nowMs() / 1000),
      height,
    });
    if (headerReason !== null) return this.rejected(hash, headerReason);
    const blockReason = contextualCheckBlock(checked, height, prev.mtp, blockWeight(countSize, checked));
    if (blockReason !== null) {
      // Core marks the block failed unless the reason is a mutation (witness malleation).
      if (!blockReason.startsWith("bad-witness") && blockReason !== "unexpected-witness") this.invalid.add(hash);
      return this.rejected(hash, blockReason);
    }

    const stored: StoredBlock = {
      hash,
      height,
      prev: prev.hash,
      version: header.version,
      time: header.time,
      bits: header.bits,
      mtp: median(this.lastTimes(prev.hash, 10).concat(header.time)),
      bytes: serializeBlock({ header, transactions }),
      txids: checked.slice(1).map((t) => internalToDisplayHex(t.txid)),
      coinbaseOut: (coinbase as Transaction).outputs.reduce((s, o) => s + o.value, 0n),
      active: false,
      acceptedAtMs: this.clock.nowMs(),
    };

    if (prev.hash === this.tipHash) {
      const reason = this.connectCheck(stored, (t) => this.confirmed.has(t));
      if (reason !== null) {
        this.invalid.add(hash);
        return this.rejected(hash, reason);
      }
      this.blocks.set(hash, stored);
      this.connect([stored], []);
      return null;
    }
    // A valid block off the best chain: kept; it becomes the best chain only with more work.
    this.blocks.set(hash, stored);
    if (height <= this.tipHeight) {
      this.logger.info("embedded node: block stored on a side branch", { hash, height });
      return "inconclusive";
    }
    return this.reorganize(stored);
  }

  private rejected(hash: string, reason: string): string {
    this.logger.info("embedded node: block rejected", { hash, reason });
    return reason;
  }

  /** Times of up to `count` blocks ending at `hash`, newest first. */
  private lastTimes(hash: string, count: number): number[] {
    const out: number[] = [];
    let b = this.blocks.get(hash);
    while (b !== undefined && out.length < count) {
      out.push(b.time);
      b = b.prev === null ? undefined : this.blocks.get(b.prev);
    }
    return out;
  }

  /** ConnectBlock's input and reward checks, against a view of the confirmed transactions. */
  private connectCheck(block: StoredBlock, isConfirmed: (txid: string) => boolean): string | null {
    const inBlock = new Set<string>();
    let fees = 0n;
    for (const t of block.txids) {
      const entry = this.known.get(t);
      if (entry === undefined || isConfirmed(t)) return "bad-txns-inputs-missingorspent";
      for (const p of entry.parents) {
        if (!inBlock.has(p) && !isConfirmed(p)) return "bad-txns-inputs-missingorspent";
      }
      inBlock.add(t);
      fees += BigInt(entry.fee);
    }
    if (block.coinbaseOut > blockSubsidy(block.height, this.halvingInterval) + fees) return "bad-cb-amount";
    return null;
  }

  /** Makes `added` (in height order) the top of the active chain, after `removed` were disconnected. */
  private connect(added: StoredBlock[], removed: StoredBlock[]): void {
    for (const b of removed) {
      b.active = false;
      this.chain.pop();
      for (const t of b.txids) {
        this.confirmed.delete(t);
        const entry = this.known.get(t);
        if (entry !== undefined) this.mempool.set(t, entry);
      }
    }
    for (const b of added) {
      b.active = true;
      this.chain.push(b.hash);
      for (const t of b.txids) {
        this.confirmed.set(t, b.height);
        this.mempool.delete(t);
      }
    }
    const tip = this.tip;
    tip.acceptedAtMs = this.clock.nowMs();
    this.logger.info("embedded node: new tip", { height: tip.height, hash: tip.hash, txs: tip.txids.length + 1 });
    // Tip listeners first: a new tip is the most urgent news; new transactions arrive after it.
    for (const listener of [...this.tipListeners]) {
      try {
        listener(tip.hash);
      } catch (e) {
        this.logger.error("embedded node: new-tip listener failed", { error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.refillMempool();
    this.mempoolChanged();
  }

  /** `newTip` is on a side branch longer than the active chain: switch if every block connects. */
  private reorganize(newTip: StoredBlock): string | null {
    const branch: StoredBlock[] = [];
    let b: StoredBlock | undefined = newTip;
    while (b !== undefined && !b.active) {
      branch.unshift(b);
      b = b.prev === null ? undefined : this.blocks.get(b.prev);
    }
    const forkHeight = b?.height ?? 0;
    const removed: StoredBlock[] = [];
    for (let h = this.tipHeight; h > forkHeight; h--) removed.push(this.blocks.get(this.chain[h] as string) as StoredBlock);
    const view = new Map(this.confirmed);
    for (const r of removed) for (const t of r.txids) view.delete(t);
    for (const candidate of branch) {
      const reason = this.connectCheck(candidate, (t) => view.has(t));
      if (reason !== null) {
        this.invalid.add(candidate.hash);
        this.blocks.delete(candidate.hash);
        return candidate === newTip ? this.rejected(candidate.hash, reason) : "inconclusive";
      }
      for (const t of candidate.txids) view.set(t, candidate.height);
    }
    this.logger.warn("embedded node: reorganization", { from: this.tipHash, to: newTip.hash, depth: removed.length });
    this.connect(branch, removed);
    return null;
  }
}
