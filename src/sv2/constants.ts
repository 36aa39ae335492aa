/**
 * SV2 protocol constants: message type numbers (spec 08, extensions/0x0001), SetupConnection
 * protocols and flags (03 §3.6, 05 §5.3.1, 06 §6.4.1), and the error-code strings SRI sends.
 * Error codes are free-form strings (the spec stopped listing them in 2026-05); these are the
 * values other implementations send and recognise.
 */

/** The only protocol version SV2 defines. */
export const SV2_VERSION = 2;

/** `SetupConnection.protocol`. */
export const Protocol = {
  Mining: 0,
  JobDeclaration: 1,
  TemplateDistribution: 2,
} as const;
export type ProtocolId = (typeof Protocol)[keyof typeof Protocol];

/** Mining protocol, client → server `SetupConnection.flags` (and the bits echoed in `.Error.flags`). */
export const MiningSetupFlags = {
  REQUIRES_STANDARD_JOBS: 0x1,
  REQUIRES_WORK_SELECTION: 0x2,
  REQUIRES_VERSION_ROLLING: 0x4,
} as const;

/** Mining protocol, server → client `SetupConnection.Success.flags` (different meanings from the request!). */
export const MiningSuccessFlags = {
  REQUIRES_FIXED_VERSION: 0x1,
  REQUIRES_EXTENDED_CHANNELS: 0x2,
} as const;

/** Job Declaration protocol, client → server `SetupConnection.flags`. */
export const JobDeclarationSetupFlags = {
  DECLARE_TX_DATA: 0x1,
} as const;

/** Extension ids (bits 0-14 of extension_type; also the ids negotiated by RequestExtensions). */
export const Extension = {
  Core: 0x0000,
  ExtensionsNegotiation: 0x0001,
  WorkerSpecificHashrateTracking: 0x0002,
} as const;

/** TLV field types of extension 0x0002 (worker name appended to SubmitSharesExtended, ≤ 32 bytes). */
export const WORKER_HASHRATE_TRACKING_USER_IDENTITY_FIELD = 0x01;
export const WORKER_HASHRATE_TRACKING_USER_IDENTITY_MAX = 32;

/** Version rolling masks: BIP320 and the wider BIP323 (spec since 2026-06). */
export const VERSION_ROLLING_MASK_BIP320 = 0x1fffe000;
export const VERSION_ROLLING_MASK_BIP323 = 0x1fffffe0;

/** msg_type numbers of the core protocols (extension id 0). */
export const MsgType = {
  // Common
  SetupConnection: 0x00,
  SetupConnectionSuccess: 0x01,
  SetupConnectionError: 0x02,
  ChannelEndpointChanged: 0x03,
  Reconnect: 0x04,
  // Mining
  OpenStandardMiningChannel: 0x10,
  OpenStandardMiningChannelSuccess: 0x11,
  OpenMiningChannelError: 0x12,
  OpenExtendedMiningChannel: 0x13,
  OpenExtendedMiningChannelSuccess: 0x14,
  NewMiningJob: 0x15,
  UpdateChannel: 0x16,
  UpdateChannelError: 0x17,
  CloseChannel: 0x18,
  SetExtranoncePrefix: 0x19,
  SubmitSharesStandard: 0x1a,
  SubmitSharesExtended: 0x1b,
  SubmitSharesSuccess: 0x1c,
  SubmitSharesError: 0x1d,
  // 0x1e is reserved.
  NewExtendedMiningJob: 0x1f,
  SetNewPrevHash: 0x20,
  SetTarget: 0x21,
  SetCustomMiningJob: 0x22,
  SetCustomMiningJobSuccess: 0x23,
  SetCustomMiningJobError: 0x24,
  SetGroupChannel: 0x25,
  // Job Declaration
  AllocateMiningJobToken: 0x50,
  AllocateMiningJobTokenSuccess: 0x51,
  ProvideMissingTransactions: 0x55,
  ProvideMissingTransactionsSuccess: 0x56,
  DeclareMiningJob: 0x57,
  DeclareMiningJobSuccess: 0x58,
  DeclareMiningJobError: 0x59,
  PushSolution: 0x60,
  // Template Distribution
  CoinbaseOutputConstraints: 0x70,
  /** The pre-2025 name and shape of 0x70 (one U32); decoded when the payload is exactly 4 bytes. */
  CoinbaseOutputDataSize: 0x70,
  NewTemplate: 0x71,
  SetNewPrevHashTdp: 0x72,
  RequestTransactionData: 0x73,
  RequestTransactionDataSuccess: 0x74,
  RequestTransactionDataError: 0x75,
  SubmitSolution: 0x76,
} as const;

/** msg_type numbers of extension 0x0001 (sent with extension_type 0x0001). */
export const ExtensionsNegotiationMsgType = {
  RequestExtensions: 0x00,
  RequestExtensionsSuccess: 0x01,
  RequestExtensionsError: 0x02,
} as const;

/** SetupConnection.Error codes. */
export const SetupConnectionErrorCode = {
  UNSUPPORTED_FEATURE_FLAGS: "unsupported-feature-flags",
  UNSUPPORTED_PROTOCOL: "unsupported-protocol",
  PROTOCOL_VERSION_MISMATCH: "protocol-version-mismatch",
  MISSING_DECLARE_TX_DATA_FLAG: "missing-declare-tx-data-flag",
} as const;

/** OpenMiningChannel.Error codes. */
export const OpenMiningChannelErrorCode = {
  UNKNOWN_USER: "unknown-user",
  INVALID_USER_IDENTITY: "invalid-user-identity",
  INVALID_NOMINAL_HASHRATE: "invalid-nominal-hashrate",
  MAX_TARGET_OUT_OF_RANGE: "max-target-out-of-range",
  MIN_EXTRANONCE_SIZE_TOO_LARGE: "min-extranonce-size-too-large",
  UNSUPPORTED_MIN_EXTRANONCE_SIZE: "unsupported-min-extranonce-size",
  STANDARD_CHANNELS_NOT_SUPPORTED_FOR_CUSTOM_WORK: "standard-channels-not-supported-for-custom-work",
  EXTENDED_CHANNELS_NOT_SUPPORTED_FOR_STANDARD_JOBS: "extended-channels-not-supported-for-standard-jobs",
} as const;

/** UpdateChannel.Error codes (`max-target-out-of-range` is from the historic spec). */
export const UpdateChannelErrorCode = {
  INVALID_NOMINAL_HASHRATE: "invalid-nominal-hashrate",
  INVALID_CHANNEL_ID: "invalid-channel-id",
  MAX_TARGET_OUT_OF_RANGE: "max-target-out-of-range",
} as const;

/** SubmitShares.Error codes. */
export const SubmitSharesErrorCode = {
  INVALID_CHANNEL_ID: "invalid-channel-id",
  INVALID_SHARE: "invalid-share",
  STALE_SHARE: "stale-share",
  INVALID_JOB_ID: "invalid-job-id",
  DIFFICULTY_TOO_LOW: "difficulty-too-low",
  DUPLICATE_SHARE: "duplicate-share",
  BAD_EXTRANONCE_SIZE: "bad-extranonce-size",
  VERSION_ROLLING_NOT_ALLOWED: "version-rolling-not-allowed",
  INVALID_NON_ROLLABLE_VERSION_BIT: "invalid-non-rollable-version-bit",
} as const;

/** SetCustomMiningJob.Error codes. */
export const SetCustomMiningJobErrorCode = {
  JD_NOT_SUPPORTED: "jd-not-supported",
  INVALID_CHANNEL_ID: "invalid-channel-id",
  INVALID_MINING_JOB_TOKEN: "invalid-mining-job-token",
  JOB_NOT_YET_VALIDATED: "job-not-yet-validated",
  STALE_CHAIN_TIP: "stale-chain-tip",
  INVALID_MIN_NTIME: "invalid-min-ntime",
  INVALID_NBITS: "invalid-nbits",
  INVALID_VERSION: "invalid-version",
  INVALID_COINBASE_TX: "invalid-coinbase-tx",
  INVALID_COINBASE_TX_VERSION: "invalid-coinbase-tx-version",
  INVALID_COINBASE_PREFIX: "invalid-coinbase-prefix",
  INVALID_COINBASE_TX_INPUT_N_SEQUENCE: "invalid-coinbase-tx-input-n-sequence",
  INVALID_COINBASE_TX_OUTPUTS: "invalid-coinbase-tx-outputs",
  INVALID_COINBASE_TX_LOCKTIME: "invalid-coinbase-tx-locktime",
  INVALID_MERKLE_PATH: "invalid-merkle-path",
} as const;

/** DeclareMiningJob.Error codes. */
export const DeclareMiningJobErrorCode = {
  INVALID_MINING_JOB_TOKEN: "invalid-mining-job-token",
  MISSING_TXS: "missing-txs",
  INVALID_COINBASE_TX: "invalid-coinbase-tx",
  INVALID_COINBASE_TX_INPUT: "invalid-coinbase-tx-input",
  INTERNAL_ERROR: "internal-error",
  STALE_CHAIN_TIP: "stale-chain-tip",
  INVALID_JOB: "invalid-job",
} as const;

/** RequestTransactionData.Error codes. */
export const RequestTransactionDataErrorCode = {
  TEMPLATE_ID_NOT_FOUND: "template-id-not-found",
  STALE_TEMPLATE_ID: "stale-template-id",
} as const;
