/**
 * TemplateWatcher: keeps the pool supplied with block templates.
 *
 * - A new tip must reach the miners at once. Core's long-poll only answers once it has built the next
 *   template (slow with a full mempool), so the watcher also polls getbestblockhash every few ms (or
 *   takes the node's push notification when it has one), and on a new tip first emits `newTip`
 *   (enough for a SetNewPrevHash on the pool's speculative job), then fetches the full template.
 * - A long-poll loop and a periodic refresh bring new transactions.
 * - Node down, warming up, in IBD, refusing credentials or sending garbage: one log line per state
 *   change, retries with capped exponential backoff, and no template is emitted until a valid one
 *   arrives, so the pool keeps mining on its last valid template.
 */
import { displayHexToInternal } from "../bitcoin/bytes.ts";
import { StratumV2Error } from "../errors.ts";
import type { Logger } from "../log.ts";
import { systemClock, type Clock } from "../pool/clock.ts";
import { templateFromGbt, type BlockTemplate, type GetBlockTemplateResult } from "../pool/template.ts";
import type { BlockHeaderInfo, NodeAPI } from "./api.ts";
import { Backoff, realSleep, type Sleep } from "./backoff.ts";
import { NodeRequestError, RPC_ERROR, RpcError } from "./rpc-protocol.ts";

/** A new best block, announced before its template exists. */
export interface NewTipEvent {
  /** The new best block's hash = the next block's prev hash, internal byte order. */
  prevHash: Uint8Array;
  /** The same hash in display (RPC) order. */
  prevHashHex: string;
  /** Height of the next block. */
  height: number;
  /** nBits of the next block. */
  bits: number;
  /** Lowest valid ntime for the next block: max(median time past + 1, now). */
  minNtime: number;
  /** Clock time (ms) at which the watcher learnt of the tip. */
  seenAtMs: number;
}

/** What the watcher knows of the node, as logged. */
export type NodeState =
  | "starting"
  | "ok"
  | "unreachable"
  | "auth-failed"
  | "warming-up"
  | "initial-block-download"
  | "not-connected"
  | "bad-answer"
  | "error";

export interface TemplateWatcherEvents {
  newTip: (tip: NewTipEvent) => void;
  template: (template: BlockTemplate) => void;
  state: (state: NodeState, previous: NodeState) => void;
}

export interface TemplateWatcherOptions {
  logger: Logger;
  /** getbestblockhash poll interval when the node has no push notification. */
  tipPollMs?: number;
  /** Fetch a fresh template this often even without a tip change (new transactions). */
  refreshMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  clock?: Clock;
  sleep?: Sleep;
  /** The pool's template ids (StratumV2Pool.allocateTemplateId); a private counter otherwise. */
  nextTemplateId?: () => number;
}

export const DEFAULT_TIP_POLL_MS = 20;
export const DEFAULT_REFRESH_MS = 30_000;
export const DEFAULT_BACKOFF_MIN_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 15_000;

/** Longest wait between getbestblockhash polls while the node fails: how fast its return is noticed. */
const TIP_POLL_BACKOFF_MAX_MS = 500;

/** Pause before re-issuing a long-poll that came back with the id it was sent. */
const SAME_LONGPOLL_PAUSE_MS = 1_000;

/** Retarget period of every Bitcoin network. */
const RETARGET_INTERVAL = 2016;

/**
 * Whether the next block's nBits equals the tip's, so that a newTip can be announced before the node
 * computed the template. Not at a retarget boundary, and never on testnet3/testnet4, whose
 * minimum-difficulty rule makes the next nBits depend on the next block's timestamp.
 */
export function nextBitsFollowTip(chain: string | null, nextHeight: number): boolean {
  if (chain === "regtest") return true;
  if (chain === "main" || chain === "signet") return nextHeight % RETARGET_INTERVAL !== 0;
  return false;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class TemplateWatcher {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly tipPollMs: number;
  private readonly refreshMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly allocateId: () => number;
  private privateId = 1;

  private readonly listeners: { [K in keyof TemplateWatcherEvents]: Set<TemplateWatcherEvents[K]> } = {
    newTip: new Set(),
    template: new Set(),
    state: new Set(),
  };

  private readonly stopController = new AbortController();
  private templateWake = new AbortController();
  private loops: Promise<void>[] = [];
  private unsubscribe: (() => void) | null = null;
  private started = false;

  private nodeState: NodeState = "starting";
  private stateSinceMs = 0;
  /**
   * Failed requests so far. An answer proves the node is back only if no request failed after it was
   * sent: a long-poll sent before an outage can still be answered during it (it passed the node's
   * checks earlier), and counting that as "ok" made the state, and the log, flap.
   */
  private failures = 0;
  private chain: string | null = null;
  private learningChain = false;
  /** Best block hash known (display hex) and a generation number bumped at every change. */
  private tipHash: string | null = null;
  private tipGen = 0;
  /** A newTip being prepared: templates on that tip wait for it, so newTip always comes first. */
  private tipAnnouncement: Promise<void> | null = null;
  private current: BlockTemplate | null = null;
  private lastKey = "";
  private fetching = false;
  private refetch = false;

  constructor(
    private readonly node: NodeAPI,
    options: TemplateWatcherOptions,
  ) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.tipPollMs = options.tipPollMs ?? DEFAULT_TIP_POLL_MS;
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.backoffMinMs = options.backoffMinMs ?? DEFAULT_BACKOFF_MIN_MS;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.allocateId = options.nextTemplateId ?? (() => this.privateId++);
  }

  on<K extends keyof TemplateWatcherEvents>(event: K, listener: TemplateWatcherEvents[K]): () => void {
    const set = this.listeners[event] as Set<TemplateWatcherEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The last template emitted (the one the pool mines on). */
  get template(): BlockTemplate | null {
    return this.current;
  }

  get state(): NodeState {
    return this.nodeState;
  }

  /** Resolves with the next template emitted; rejects if the watcher stops first. */
  nextTemplate(): Promise<BlockTemplate> {
    return new Promise((resolve, reject) => {
      if (this.stopController.signal.aborted) return reject(StratumV2Error.pool("TemplateWatcher stopped"));
      const off = this.on("template", (t) => {
        off();
        this.stopController.signal.removeEventListener("abort", onStop);
        resolve(t);
      });
      const onStop = (): void => {
        off();
        reject(StratumV2Error.pool("TemplateWatcher stopped"));
      };
      this.stopController.signal.addEventListener("abort", onStop, { once: true });
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stateSinceMs = this.clock.nowMs();
    this.unsubscribe = this.node.subscribeNewTip((hash) => {
      if (hash !== this.tipHash) void this.onTipChange(hash);
    });
    this.logger.info("watching the node for templates", {
      tip: this.unsubscribe === null ? `poll every ${this.tipPollMs} ms` : "push",
      refreshMs: this.refreshMs,
    });
    this.loops = [this.templateLoop(), this.refreshLoop()];
    if (this.unsubscribe === null) this.loops.push(this.tipPollLoop());
  }

  /** Aborts pending requests and waits for the loops to end. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.allSettled(this.loops);
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private emit<K extends keyof TemplateWatcherEvents>(event: K, ...args: Parameters<TemplateWatcherEvents[K]>): void {
    for (const fn of this.listeners[event]) {
      try {
        (fn as (...a: Parameters<TemplateWatcherEvents[K]>) => void)(...args);
      } catch (e) {
        this.logger.error("template watcher listener failed", { event, error: describe(e) });
      }
    }
  }

  // --- node state ---------------------------------------------------------------------------

  private setState(next: NodeState, fields: Record<string, string | number | null> = {}): void {
    const previous = this.nodeState;
    if (next === previous) return;
    const now = this.clock.nowMs();
    const sinceMs = now - this.stateSinceMs;
    this.nodeState = next;
    this.stateSinceMs = now;
    const keeping = this.current === null ? "no template yet" : `keeping the template at height ${this.current.height}`;
    switch (next) {
      case "ok":
        if (previous === "starting") this.logger.info("node is serving templates", fields);
        else this.logger.info("node is serving templates again", { ...fields, was: previous, afterMs: sinceMs });
        break;
      case "unreachable":
        this.logger.error(`node unreachable; ${keeping}, retrying with backoff`, fields);
        break;
      case "auth-failed":
        this.logger.error(`node refused the RPC credentials; ${keeping}, retrying`, fields);
        break;
      case "warming-up":
        this.logger.warn(`node is warming up; ${keeping}, waiting`, fields);
        break;
      case "initial-block-download":
        this.logger.warn(`node is in initial block download; ${keeping} until it has synced`, fields);
        break;
      case "not-connected":
        this.logger.warn(`node has no peers; ${keeping}, waiting`, fields);
        break;
      case "bad-answer":
        this.logger.error(`node sent an invalid answer; ${keeping}, retrying`, fields);
        break;
      case "error":
        this.logger.error(`node answered an error; ${keeping}, retrying`, fields);
        break;
      case "starting":
        break;
    }
    this.emit("state", next, previous);
  }

  /** Maps a failed request to a node state and logs it if the state changed. */
  private async report(e: unknown): Promise<void> {
    if (this.stopped) return;
    if (e instanceof NodeRequestError && e.failure === "aborted") return;
    this.failures++;
    if (e instanceof NodeRequestError) {
      const state: NodeState =
        e.failure === "auth" ? "auth-failed" : e.failure === "garbage" || e.failure === "too-large" ? "bad-answer" : "unreachable";
      this.setState(state, { error: e.message });
      return;
    }
    if (e instanceof RpcError) {
      if (e.code === RPC_ERROR.CLIENT_IN_INITIAL_DOWNLOAD) {
        if (this.nodeState === "initial-block-download") return;
        const fields: Record<string, string | number | null> = { error: e.rpcMessage };
        try {
          const info = await this.node.getBlockchainInfo();
          fields["blocks"] = info.blocks;
          fields["headers"] = info.headers;
        } catch {
          // Progress is a courtesy in the log line; the state change is logged regardless.
        }
        this.setState("initial-block-download", fields);
        return;
      }
      const state: NodeState =
        e.code === RPC_ERROR.IN_WARMUP ? "warming-up" : e.code === RPC_ERROR.CLIENT_NOT_CONNECTED ? "not-connected" : "error";
      this.setState(state, { code: e.code, error: e.rpcMessage });
      return;
    }
    // templateFromGbt / parseGbtResult reject a template that cannot be mined (TemplateError).
    this.setState("bad-answer", { error: describe(e) });
  }

  private wakeTemplateLoop(): void {
    this.templateWake.abort();
  }

  // --- tips -------------------------------------------------------------------------------------

  private async tipPollLoop(): Promise<void> {
    // This poll is what notices that the node is back, so its backoff stays short (the pool follows a
    // restarted node within a second): a cheap getbestblockhash twice a second to a node that is down
    // costs nothing, while the template loop (woken from here) may be sleeping a much longer backoff.
    const minMs = Math.max(this.tipPollMs, this.backoffMinMs);
    const backoff = new Backoff(minMs, Math.max(minMs, Math.min(this.backoffMaxMs, TIP_POLL_BACKOFF_MAX_MS)));
    let failing = false;
    while (!this.stopped) {
      let delay = this.tipPollMs;
      try {
        const hash = await this.node.getBestBlockHash();
        backoff.reset();
        // The node answers again: let a template loop waiting in backoff try at once.
        if (failing || this.nodeState === "unreachable" || this.nodeState === "warming-up") this.wakeTemplateLoop();
        // The template loop may instead be parked in a long-poll sent before the outage, which only
        // returns when the template changes: fetch one now so the node is seen serving again.
        if (failing && hash === this.tipHash) void this.requestTemplate();
        failing = false;
        if (hash !== this.tipHash) await this.onTipChange(hash);
      } catch (e) {
        failing = true;
        await this.report(e);
        delay = backoff.next();
      }
      await this.sleep(delay, this.stopController.signal);
    }
  }

  private onTipChange(hash: string): Promise<void> {
    const seenAtMs = this.clock.nowMs();
    this.tipHash = hash;
    const gen = ++this.tipGen;
    const announce = this.announceTip(hash, gen, seenAtMs);
    this.tipAnnouncement = announce;
    return announce.finally(() => {
      if (this.tipAnnouncement === announce) this.tipAnnouncement = null;
      if (gen === this.tipGen) void this.requestTemplate();
    });
  }

  private async announceTip(hash: string, gen: number, seenAtMs: number): Promise<void> {
    // Only a node already serving templates gets its tips announced: during IBD or an outage a new
    // tip says nothing about what the miners should work on.
    if (this.nodeState !== "ok" || this.current === null) return;
    let header: BlockHeaderInfo;
    try {
      header = await this.node.getBlockHeader(hash);
    } catch (e) {
      this.logger.debug("getblockheader for a new tip failed; waiting for its template", { hash, error: describe(e) });
      return;
    }
    if (gen !== this.tipGen || this.stopped) return;
    const height = header.height + 1;
    if (!nextBitsFollowTip(this.chain, height)) return;
    const bits = Number.parseInt(header.bits, 16);
    const nowS = Math.floor(this.clock.nowMs() / 1000);
    const minNtime = Math.max((header.mediantime ?? header.time) + 1, nowS);
    this.emit("newTip", { prevHash: displayHexToInternal(hash), prevHashHex: hash, height, bits, minNtime, seenAtMs });
  }

  // --- templates ----------------------------------------------------------------------------

  /** One template fetch at a time; a request made meanwhile runs once more afterwards. */
  private async requestTemplate(): Promise<void> {
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    this.fetching = true;
    try {
      do {
        this.refetch = false;
        const gen = this.tipGen;
        const failuresAtSend = this.failures;
        try {
          await this.accept(await this.node.getBlockTemplate({ signal: this.stopController.signal }), gen, failuresAtSend);
        } catch (e) {
          await this.report(e);
          this.wakeTemplateLoop();
        }
      } while (this.refetch && !this.stopped);
    } finally {
      this.fetching = false;
    }
  }

  /** Validates, orders and de-duplicates a template, then emits it. */
  private async accept(gbt: GetBlockTemplateResult, genAtRequest: number, failuresAtSend: number): Promise<void> {
    const template = templateFromGbt(gbt, 0);
    if (this.stopped) return;
    if (this.chain === null) void this.learnChain();
    const prev = gbt.previousblockhash;
    if (prev !== this.tipHash) {
      // A tip change happened while this request ran: the answer may predate it, and a fetch for
      // the new tip is under way.
      if (genAtRequest !== this.tipGen) return;
      // The node moved on before the tip source noticed (a long-poll can be quicker than the next
      // poll), or this is the first template: adopt its tip, announcing it first like any other.
      this.tipHash = prev;
      this.tipGen++;
      if (this.nodeState === "ok" && this.current !== null) {
        this.emit("newTip", {
          prevHash: template.prevHash,
          prevHashHex: prev,
          height: template.height,
          bits: template.bits,
          minNtime: template.curtime,
          seenAtMs: this.clock.nowMs(),
        });
      }
    }
    // The template is used either way; only a fresh answer changes the node's state.
    if (failuresAtSend === this.failures) this.setState("ok", { height: template.height, txs: template.transactions.length });
    if (this.tipAnnouncement !== null) await this.tipAnnouncement;
    if (prev !== this.tipHash) return;
    const key = `${prev}|${gbt.longpollid ?? ""}|${gbt.transactions.length}|${gbt.coinbasevalue}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    template.id = this.allocateId();
    this.current = template;
    this.logger.debug("template", { id: template.id, height: template.height, txs: template.transactions.length });
    this.emit("template", template);
  }

  private async learnChain(): Promise<void> {
    if (this.learningChain) return;
    this.learningChain = true;
    try {
      const info = await this.node.getBlockchainInfo();
      this.chain = info.chain;
      this.logger.info("node chain", { chain: info.chain, blocks: info.blocks, ibd: info.initialblockdownload });
    } catch (e) {
      this.logger.debug("getblockchaininfo failed; tips are announced once the chain is known", { error: describe(e) });
    } finally {
      this.learningChain = false;
    }
  }

  /** Plain fetches until a template exists, then long-polls; backs off while the node fails. */
  private async templateLoop(): Promise<void> {
    const backoff = new Backoff(this.backoffMinMs, this.backoffMaxMs);
    while (!this.stopped) {
      const longpollId = this.nodeState === "ok" ? (this.current?.longpollId ?? null) : null;
      const gen = this.tipGen;
      const failuresAtSend = this.failures;
      try {
        const gbt = await this.node.getBlockTemplate(
          longpollId === null ? { signal: this.stopController.signal } : { longpollId, signal: this.stopController.signal },
        );
        await this.accept(gbt, gen, failuresAtSend);
        if (failuresAtSend !== this.failures) {
          // Answered, but another request failed meanwhile: pace like a failure until a fresh answer.
          await this.sleepInterruptibly(backoff.next());
          continue;
        }
        backoff.reset();
        if (longpollId !== null) {
          // Core may answer a long-poll (mempool changed) with its cached template and the same id;
          // asking again at once would spin until it rebuilds (up to 5 s).
          if (gbt.longpollid === longpollId) await this.sleepInterruptibly(SAME_LONGPOLL_PAUSE_MS);
          continue;
        }
        // Without long-poll support, the refresh loop and the tip source bring updates.
        if (this.current?.longpollId === null) await this.sleepInterruptibly(this.refreshMs);
      } catch (e) {
        // A long-poll that timed out only means nothing changed.
        if (longpollId !== null && e instanceof NodeRequestError && e.failure === "timeout") continue;
        await this.report(e);
        await this.sleepInterruptibly(backoff.next());
      }
    }
  }

  private async sleepInterruptibly(ms: number): Promise<void> {
    this.templateWake = new AbortController();
    await this.sleep(ms, AbortSignal.any([this.stopController.signal, this.templateWake.signal]));
  }

  private async refreshLoop(): Promise<void> {
    while (!this.stopped) {
      await this.sleep(this.refreshMs, this.stopController.signal);
      if (!this.stopped && this.nodeState === "ok") await this.requestTemplate();
    }
  }
}
