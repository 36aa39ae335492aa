/**
 * The seed's `StratumV2Server` API (blvm-stratum-v2) in TypeScript naming, over the real pool:
 * `create(ctx, nodeApi)`, `start`, `stop`, `handleEvent`, `handleMessage(data, endpoint)` (the seed's
 * TLV path: `[len][tag = SV2 msg_type][len][SV2 payload]` in, the same envelope out),
 * `getPoolStats`, `getPool`.
 *
 * `start` runs the real listeners (SV2 with Noise, and whatever else the config enables) through
 * `startPool`; `handleMessage` serves the seed's unencrypted request/answer path for embedding
 * applications and tests, using the same pool core, so shares sent either way count the same.
 */
import type { Config, RawConfig } from "../config.ts";
import { resolveConfig } from "../config.ts";
import { StratumV2Error } from "../errors.ts";
import { silentLogger, type Logger } from "../log.ts";
import type { NodeAPI } from "../node/api.ts";
import { BlockTemplateGenerator } from "../node/block-template-generator.ts";
import { leBytesToTarget } from "../bitcoin/target.ts";
import type { Clock } from "../pool/clock.ts";
import { OpenChannelError, type StratumV2Pool } from "../pool/pool.ts";
import type { PoolStats } from "../pool/types.ts";
import { MsgType, Protocol, SV2_VERSION } from "../sv2/constants.ts";
import { decodePayload, encodePayload, type Sv2Message } from "../sv2/messages/registry.ts";
import { TlvDecoder, TlvEncoder } from "../sv2/tlv.ts";
import { startPool, type RunningPool } from "../app.ts";
import { createPoolService } from "./assemble.ts";
import type { PoolService } from "./pool-service.ts";

/** What the seed's ModuleContext carried: configuration and the host's facilities. */
export interface ModuleContext {
  /** A resolved Config, or raw layers to resolve (defaults fill the rest). */
  config?: Config | RawConfig;
  logger?: Logger;
  clock?: Clock;
}

/** The seed's ModuleMessage events. */
export type ModuleMessage =
  | { type: "BlockMined"; blockHash?: string }
  | { type: "BlockTemplateUpdated" }
  | { type: "MiningDifficultyChanged"; difficulty: number }
  | { type: "StratumV2MessageReceived"; data: Uint8Array; endpoint: string };

function isConfig(c: Config | RawConfig): c is Config {
  return typeof (c as Config).network === "string" && typeof (c as Config).mining === "object" && "sharesPerMinute" in ((c as Config).mining ?? {});
}

export class StratumV2Server {
  private running: RunningPool | null = null;
  private readonly encoder = new TlvEncoder();
  private readonly setUp = new Set<string>();

  private constructor(
    readonly config: Config,
    private readonly nodeApi: NodeAPI,
    private service: PoolService,
    private readonly logger: Logger,
    private readonly clock: Clock | undefined,
  ) {}

  /** The seed's `new(ctx, node_api)`. */
  static async create(ctx: ModuleContext, nodeApi: NodeAPI): Promise<StratumV2Server> {
    const config = ctx.config === undefined ? resolveConfig() : isConfig(ctx.config) ? ctx.config : resolveConfig(ctx.config);
    const logger = ctx.logger ?? silentLogger;
    // Until `start`, an in-memory service serves handleMessage/handleEvent.
    const service = createPoolService(config, { logger, node: nodeApi, clock: ctx.clock, ledgerPath: ":memory:" });
    service.start();
    await service.ready;
    return new StratumV2Server(config, nodeApi, service, logger, ctx.clock);
  }

  /** Starts the listeners and the node watcher. */
  async start(): Promise<void> {
    if (this.running !== null) return;
    await this.service.stop("replaced by the running pool", 0);
    this.running = await startPool(this.config, { logger: this.logger, node: this.nodeApi, clock: this.clock });
    this.service = this.running.service;
    await this.service.ready;
  }

  async stop(): Promise<void> {
    await (this.running?.stop("stopped") ?? this.service.stop("stopped", 0));
    this.running = null;
  }

  get runningPool(): RunningPool | null {
    return this.running;
  }

  getPool(): StratumV2Pool {
    return this.service.pool;
  }

  getPoolStats(): PoolStats {
    return this.service.pool.getPoolStats();
  }

  async handleEvent(event: ModuleMessage): Promise<void> {
    switch (event.type) {
      case "BlockMined":
      case "BlockTemplateUpdated": {
        const template = await new BlockTemplateGenerator(this.nodeApi, () => this.service.pool.allocateTemplateId()).generateTemplate();
        this.service.applyTemplate(template);
        return;
      }
      case "MiningDifficultyChanged":
        if (!(event.difficulty > 0)) throw StratumV2Error.pool(`difficulty must be positive, got ${event.difficulty}`);
        for (const ch of this.service.pool.allChannels()) this.service.pool.setChannelDifficulty(ch, event.difficulty);
        return;
      case "StratumV2MessageReceived":
        await this.handleMessage(event.data, event.endpoint);
        return;
    }
  }

  /** The seed's TLV request/answer path. Throws StratumV2Error (ProtocolError) for undecodable input. */
  async handleMessage(data: Uint8Array, endpoint: string): Promise<Uint8Array> {
    const [tag, payload] = new TlvDecoder(data).decode();
    const msg = decodePayload(tag, payload);
    const answer = this.answer(msg, endpoint);
    return this.encoder.encode(tagOf(answer), encodePayload(answer));
  }

  private answer(msg: Sv2Message, endpoint: string): Sv2Message {
    const service = this.service;
    if (msg.type === "SetupConnection") {
      if (msg.protocol !== Protocol.Mining) return { type: "SetupConnectionError", flags: 0, errorCode: "unsupported-protocol" };
      if (msg.minVersion > SV2_VERSION || msg.maxVersion < SV2_VERSION) return { type: "SetupConnectionError", flags: 0, errorCode: "protocol-version-mismatch" };
      if (!this.setUp.has(endpoint)) {
        service.registerSession(endpoint, { targetChanged: () => {} });
        this.setUp.add(endpoint);
      }
      return { type: "SetupConnectionSuccess", usedVersion: SV2_VERSION, flags: 0 };
    }
    if (!this.setUp.has(endpoint)) throw StratumV2Error.protocol(`${msg.type} from ${endpoint} before SetupConnection`);
    switch (msg.type) {
      case "OpenStandardMiningChannel": {
        try {
          const ch = service.pool.openStandardChannel(endpoint, { userIdentity: msg.userIdentity, nominalHashrate: msg.nominalHashRate, maxTarget: leBytesToTarget(msg.maxTarget) });
          const job = service.pool.currentJob;
          if (job !== null) service.pool.assignJob(ch, job, true);
          return { type: "OpenStandardMiningChannelSuccess", requestId: msg.requestId, channelId: ch.id, target: ch.targetLe, extranoncePrefix: ch.extranoncePrefix, groupChannelId: 0 };
        } catch (e) {
          return { type: "OpenMiningChannelError", requestId: msg.requestId, errorCode: e instanceof OpenChannelError ? e.code : "unknown-user" };
        }
      }
      case "SubmitSharesStandard": {
        const r = service.submitShare(endpoint, { channelId: msg.channelId, sequenceNumber: msg.sequenceNumber, jobId: msg.jobId, nonce: msg.nonce, ntime: msg.ntime, version: msg.version });
        if (!r.ok) return { type: "SubmitSharesError", channelId: msg.channelId, sequenceNumber: msg.sequenceNumber, errorCode: r.reason };
        return { type: "SubmitSharesSuccess", channelId: msg.channelId, lastSequenceNumber: msg.sequenceNumber, newSubmitsAcceptedCount: 1, newSharesSum: BigInt(Math.max(0, Math.round(r.difficulty))) };
      }
      default:
        throw StratumV2Error.protocol(`${msg.type} is not handled on the seed's message path`);
    }
  }
}

function tagOf(msg: Sv2Message): number {
  switch (msg.type) {
    case "SetupConnectionSuccess":
      return MsgType.SetupConnectionSuccess;
    case "SetupConnectionError":
      return MsgType.SetupConnectionError;
    case "OpenStandardMiningChannelSuccess":
      return MsgType.OpenStandardMiningChannelSuccess;
    case "OpenMiningChannelError":
      return MsgType.OpenMiningChannelError;
    case "SubmitSharesSuccess":
      return MsgType.SubmitSharesSuccess;
    case "SubmitSharesError":
      return MsgType.SubmitSharesError;
    default:
      throw StratumV2Error.protocol(`no seed answer for ${msg.type}`);
  }
}
