/**
 * sv2pool as a library: the seed API (blvm-stratum-v2) in TypeScript naming, plus the building
 * blocks it stands on. Everything here is also what the `sv2pool` binary runs.
 */
// Seed API
export { StratumV2Server, type ModuleContext, type ModuleMessage } from "./server/stratum-v2-server.ts";
export { StratumV2Pool, OpenChannelError, DEFAULT_POOL_OPTIONS, VERSION_ROLLING_MASK, type PoolOptions, type TemplateChange, type TipChange } from "./pool/pool.ts";
export { BlockTemplateGenerator } from "./node/block-template-generator.ts";
export type { NodeAPI, SubmitBlockResult, BlockchainInfo, BlockHeaderInfo, BlockTemplateRequest } from "./node/api.ts";
export type { MinerConnection, ChannelInfo, JobInfo, ShareData, MinerStats, PoolStats, Hash } from "./pool/types.ts";
export { StratumV2Error, type StratumV2ErrorKind } from "./errors.ts";
export { TlvEncoder, TlvDecoder } from "./sv2/tlv.ts";
export * from "./sv2/seed.ts";

// The wire protocol
export * as sv2 from "./sv2/index.ts";
export * as noise from "./noise/index.ts";
export * as bitcoin from "./bitcoin/index.ts";

// Running a pool
export { startPool, type RunningPool, type StartOptions } from "./app.ts";
export { PoolService, type MiningFrontend } from "./server/pool-service.ts";
export { createPoolService, createNode } from "./server/assemble.ts";
export { Sv2Server, type Sv2ServerOptions } from "./server/sv2/server.ts";
export { PoolIdentity, loadOrCreateKeys, keyPaths } from "./server/sv2/identity.ts";
export { Sv1Server, sv1OptionsFromConfig, type Sv1ServerOptions } from "./server/sv1/server.ts";
export { HttpServer, type PoolInfo } from "./http/server.ts";
export { EmbeddedNode, type EmbeddedNodeOptions } from "./node/embedded.ts";
export { RpcNode } from "./node/rpc-node.ts";
export { Ledger } from "./store/ledger.ts";
export { loadConfig, resolveConfig, parseConfigText, exampleConfig, type Config } from "./config.ts";
export { Sv2Miner, type Sv2MinerOptions } from "./miner/sv2-miner.ts";
export { Sv1Miner, type Sv1MinerOptions, type Sv1MinerStats } from "./miner/sv1-client.ts";
export { createLogger, type Logger } from "./log.ts";
export { VERSION } from "./version.ts";
