/**
 * Mining protocol messages (spec 05 §5.3, types in 08). U256 fields stay 32 wire bytes: targets are
 * little-endian integers, prev_hash / merkle_root / merkle_path entries are internal-order hashes.
 * `minNtime: null` is an empty OPTION[U32], i.e. a future job.
 */
import { sizeStr0_255 } from "../codec.ts";
import type { Reader } from "../codec.ts";
import { defineMessage } from "./define.ts";
import type { MessageCodec } from "./define.ts";

/** 0x10, client → server. */
export interface OpenStandardMiningChannel {
  readonly type: "OpenStandardMiningChannel";
  requestId: number;
  userIdentity: string;
  /** F32 hashes per second (single precision on the wire). */
  nominalHashRate: number;
  /** U256 LE: the largest target the device accepts. */
  maxTarget: Uint8Array;
}

/** 0x11, server → client. */
export interface OpenStandardMiningChannelSuccess {
  readonly type: "OpenStandardMiningChannelSuccess";
  requestId: number;
  channelId: number;
  target: Uint8Array;
  /** B0_32: the channel's whole extranonce (standard channels roll nothing in the coinbase). */
  extranoncePrefix: Uint8Array;
  /** 0 = no group. */
  groupChannelId: number;
}

/** 0x12, server → client: refusal of either channel kind. */
export interface OpenMiningChannelError {
  readonly type: "OpenMiningChannelError";
  requestId: number;
  errorCode: string;
}

/** 0x13, client → server. */
export interface OpenExtendedMiningChannel {
  readonly type: "OpenExtendedMiningChannel";
  requestId: number;
  userIdentity: string;
  nominalHashRate: number;
  maxTarget: Uint8Array;
  minExtranonceSize: number;
}

/** 0x14, server → client. Note: extranonce_size comes before the prefix here. */
export interface OpenExtendedMiningChannelSuccess {
  readonly type: "OpenExtendedMiningChannelSuccess";
  requestId: number;
  channelId: number;
  target: Uint8Array;
  extranonceSize: number;
  extranoncePrefix: Uint8Array;
  /** Added to the spec in 2025-10 (SRI ≥ v1.7.0). */
  groupChannelId: number;
}

/** 0x15, server → client, channel message: a job for a standard channel. */
export interface NewMiningJob {
  readonly type: "NewMiningJob";
  channelId: number;
  jobId: number;
  /** null: future job, activated by a later SetNewPrevHash. */
  minNtime: number | null;
  version: number;
  /** 32 bytes, internal order, as in the header. */
  merkleRoot: Uint8Array;
}

/** 0x16, client → server, channel message. */
export interface UpdateChannel {
  readonly type: "UpdateChannel";
  channelId: number;
  nominalHashRate: number;
  maximumTarget: Uint8Array;
}

/** 0x17, server → client, channel message. */
export interface UpdateChannelError {
  readonly type: "UpdateChannelError";
  channelId: number;
  errorCode: string;
}

/** 0x18, both directions, channel message. */
export interface CloseChannel {
  readonly type: "CloseChannel";
  channelId: number;
  reasonCode: string;
}

/** 0x19, server → client, channel message. */
export interface SetExtranoncePrefix {
  readonly type: "SetExtranoncePrefix";
  channelId: number;
  extranoncePrefix: Uint8Array;
}

/** 0x1a, client → server, channel message: 24 bytes. */
export interface SubmitSharesStandard {
  readonly type: "SubmitSharesStandard";
  channelId: number;
  sequenceNumber: number;
  jobId: number;
  nonce: number;
  ntime: number;
  version: number;
}

/** 0x1b, client → server, channel message. */
export interface SubmitSharesExtended {
  readonly type: "SubmitSharesExtended";
  channelId: number;
  sequenceNumber: number;
  jobId: number;
  nonce: number;
  ntime: number;
  version: number;
  /** B0_32: the client-rolled part of the extranonce (exactly extranonce_size bytes when valid). */
  extranonce: Uint8Array;
}

/** 0x1c, server → client, channel message: acknowledges a batch of accepted shares. */
export interface SubmitSharesSuccess {
  readonly type: "SubmitSharesSuccess";
  channelId: number;
  lastSequenceNumber: number;
  newSubmitsAcceptedCount: number;
  /** U64 sum of the accepted shares' difficulties. */
  newSharesSum: bigint;
}

/** 0x1d, server → client, channel message. */
export interface SubmitSharesError {
  readonly type: "SubmitSharesError";
  channelId: number;
  sequenceNumber: number;
  errorCode: string;
}

/** 0x1f, server → client, channel message: a job for an extended (or group) channel. */
export interface NewExtendedMiningJob {
  readonly type: "NewExtendedMiningJob";
  channelId: number;
  jobId: number;
  minNtime: number | null;
  version: number;
  versionRollingAllowed: boolean;
  /** Deepest first, internal-order txids. */
  merklePath: Uint8Array[];
  /** BIP141-stripped coinbase up to the extranonce. */
  coinbaseTxPrefix: Uint8Array;
  /** BIP141-stripped coinbase after the extranonce. */
  coinbaseTxSuffix: Uint8Array;
}

/** 0x20, server → client, channel message: activates a future job on a new tip. */
export interface SetNewPrevHash {
  readonly type: "SetNewPrevHash";
  channelId: number;
  jobId: number;
  /** 32 bytes exactly as in the block header (internal order). */
  prevHash: Uint8Array;
  minNtime: number;
  nbits: number;
}

/** 0x21, server → client, channel message. */
export interface SetTarget {
  readonly type: "SetTarget";
  channelId: number;
  maximumTarget: Uint8Array;
}

/** 0x22, client → server, channel message (SRI ≤ v1.9.0 sends it without the bit). */
export interface SetCustomMiningJob {
  readonly type: "SetCustomMiningJob";
  channelId: number;
  requestId: number;
  miningJobToken: Uint8Array;
  version: number;
  prevHash: Uint8Array;
  minNtime: number;
  nbits: number;
  coinbaseTxVersion: number;
  coinbasePrefix: Uint8Array;
  coinbaseTxInputNSequence: number;
  /** CompactSize count followed by the serialized outputs. */
  coinbaseTxOutputs: Uint8Array;
  coinbaseTxLocktime: number;
  merklePath: Uint8Array[];
}

/** 0x23, server → client, channel message. */
export interface SetCustomMiningJobSuccess {
  readonly type: "SetCustomMiningJobSuccess";
  channelId: number;
  requestId: number;
  jobId: number;
}

/** 0x24, server → client, channel message. */
export interface SetCustomMiningJobError {
  readonly type: "SetCustomMiningJobError";
  channelId: number;
  requestId: number;
  errorCode: string;
}

/** 0x25, server → client (not a channel message). */
export interface SetGroupChannel {
  readonly type: "SetGroupChannel";
  groupChannelId: number;
  channelIds: number[];
}

export type MiningMessage =
  | OpenStandardMiningChannel
  | OpenStandardMiningChannelSuccess
  | OpenMiningChannelError
  | OpenExtendedMiningChannel
  | OpenExtendedMiningChannelSuccess
  | NewMiningJob
  | UpdateChannel
  | UpdateChannelError
  | CloseChannel
  | SetExtranoncePrefix
  | SubmitSharesStandard
  | SubmitSharesExtended
  | SubmitSharesSuccess
  | SubmitSharesError
  | NewExtendedMiningJob
  | SetNewPrevHash
  | SetTarget
  | SetCustomMiningJob
  | SetCustomMiningJobSuccess
  | SetCustomMiningJobError
  | SetGroupChannel;

/** Reads a little-endian U32 at `o` without a bounds check (callers checked the whole span). */
function u32At(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}

const SHARE_FIELDS = ["channelId", "sequenceNumber", "jobId", "nonce", "ntime", "version"] as const;

/**
 * The six U32s of both SubmitShares messages are read behind one bounds check (hot path). When
 * fewer than 24 bytes are left, read them one by one so the error names the field that ran out.
 */
function checkShareFields(r: Reader): number {
  if (r.remaining < 24) for (const f of SHARE_FIELDS) r.u32(f);
  const o = r.offset;
  r.offset = o + 24;
  return o;
}

export const OpenStandardMiningChannelCodec: MessageCodec<OpenStandardMiningChannel> = defineMessage<OpenStandardMiningChannel>({
  type: "OpenStandardMiningChannel",
  name: "OpenStandardMiningChannel",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x10,
  channelMsg: false,
  size: (m) => 4 + sizeStr0_255(m.userIdentity) + 4 + 32,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.str0_255(m.userIdentity, "userIdentity");
    w.f32(m.nominalHashRate, "nominalHashRate");
    w.u256(m.maxTarget, "maxTarget");
  },
  read: (r) => ({
    type: "OpenStandardMiningChannel",
    requestId: r.u32("requestId"),
    userIdentity: r.str0_255("userIdentity"),
    nominalHashRate: r.f32("nominalHashRate"),
    maxTarget: r.u256("maxTarget"),
  }),
});

export const OpenStandardMiningChannelSuccessCodec: MessageCodec<OpenStandardMiningChannelSuccess> =
  defineMessage<OpenStandardMiningChannelSuccess>({
    type: "OpenStandardMiningChannelSuccess",
    name: "OpenStandardMiningChannel.Success",
    protocol: "mining",
    extensionId: 0,
    msgType: 0x11,
    channelMsg: false,
    size: (m) => 4 + 4 + 32 + 1 + m.extranoncePrefix.length + 4,
    write(w, m) {
      w.u32(m.requestId, "requestId");
      w.u32(m.channelId, "channelId");
      w.u256(m.target, "target");
      w.b0_32(m.extranoncePrefix, "extranoncePrefix");
      w.u32(m.groupChannelId, "groupChannelId");
    },
    read: (r) => ({
      type: "OpenStandardMiningChannelSuccess",
      requestId: r.u32("requestId"),
      channelId: r.u32("channelId"),
      target: r.u256("target"),
      extranoncePrefix: r.b0_32("extranoncePrefix"),
      groupChannelId: r.u32("groupChannelId"),
    }),
  });

export const OpenMiningChannelErrorCodec: MessageCodec<OpenMiningChannelError> = defineMessage<OpenMiningChannelError>({
  type: "OpenMiningChannelError",
  name: "OpenMiningChannel.Error",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x12,
  channelMsg: false,
  size: (m) => 4 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({ type: "OpenMiningChannelError", requestId: r.u32("requestId"), errorCode: r.str0_255("errorCode") }),
});

export const OpenExtendedMiningChannelCodec: MessageCodec<OpenExtendedMiningChannel> = defineMessage<OpenExtendedMiningChannel>({
  type: "OpenExtendedMiningChannel",
  name: "OpenExtendedMiningChannel",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x13,
  channelMsg: false,
  size: (m) => 4 + sizeStr0_255(m.userIdentity) + 4 + 32 + 2,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.str0_255(m.userIdentity, "userIdentity");
    w.f32(m.nominalHashRate, "nominalHashRate");
    w.u256(m.maxTarget, "maxTarget");
    w.u16(m.minExtranonceSize, "minExtranonceSize");
  },
  read: (r) => ({
    type: "OpenExtendedMiningChannel",
    requestId: r.u32("requestId"),
    userIdentity: r.str0_255("userIdentity"),
    nominalHashRate: r.f32("nominalHashRate"),
    maxTarget: r.u256("maxTarget"),
    minExtranonceSize: r.u16("minExtranonceSize"),
  }),
});

export const OpenExtendedMiningChannelSuccessCodec: MessageCodec<OpenExtendedMiningChannelSuccess> =
  defineMessage<OpenExtendedMiningChannelSuccess>({
    type: "OpenExtendedMiningChannelSuccess",
    name: "OpenExtendedMiningChannel.Success",
    protocol: "mining",
    extensionId: 0,
    msgType: 0x14,
    channelMsg: false,
    size: (m) => 4 + 4 + 32 + 2 + 1 + m.extranoncePrefix.length + 4,
    write(w, m) {
      w.u32(m.requestId, "requestId");
      w.u32(m.channelId, "channelId");
      w.u256(m.target, "target");
      w.u16(m.extranonceSize, "extranonceSize");
      w.b0_32(m.extranoncePrefix, "extranoncePrefix");
      w.u32(m.groupChannelId, "groupChannelId");
    },
    read: (r) => ({
      type: "OpenExtendedMiningChannelSuccess",
      requestId: r.u32("requestId"),
      channelId: r.u32("channelId"),
      target: r.u256("target"),
      extranonceSize: r.u16("extranonceSize"),
      extranoncePrefix: r.b0_32("extranoncePrefix"),
      groupChannelId: r.u32("groupChannelId"),
    }),
  });

export const NewMiningJobCodec: MessageCodec<NewMiningJob> = defineMessage<NewMiningJob>({
  type: "NewMiningJob",
  name: "NewMiningJob",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x15,
  channelMsg: true,
  size: (m) => 4 + 4 + (m.minNtime === null ? 1 : 5) + 4 + 32,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.jobId, "jobId");
    w.optionU32(m.minNtime, "minNtime");
    w.u32(m.version, "version");
    w.u256(m.merkleRoot, "merkleRoot");
  },
  read: (r) => ({
    type: "NewMiningJob",
    channelId: r.u32("channelId"),
    jobId: r.u32("jobId"),
    minNtime: r.optionU32("minNtime"),
    version: r.u32("version"),
    merkleRoot: r.u256("merkleRoot"),
  }),
});

export const UpdateChannelCodec: MessageCodec<UpdateChannel> = defineMessage<UpdateChannel>({
  type: "UpdateChannel",
  name: "UpdateChannel",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x16,
  channelMsg: true,
  size: () => 4 + 4 + 32,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.f32(m.nominalHashRate, "nominalHashRate");
    w.u256(m.maximumTarget, "maximumTarget");
  },
  read: (r) => ({
    type: "UpdateChannel",
    channelId: r.u32("channelId"),
    nominalHashRate: r.f32("nominalHashRate"),
    maximumTarget: r.u256("maximumTarget"),
  }),
});

export const UpdateChannelErrorCodec: MessageCodec<UpdateChannelError> = defineMessage<UpdateChannelError>({
  type: "UpdateChannelError",
  name: "UpdateChannel.Error",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x17,
  channelMsg: true,
  size: (m) => 4 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({ type: "UpdateChannelError", channelId: r.u32("channelId"), errorCode: r.str0_255("errorCode") }),
});

export const CloseChannelCodec: MessageCodec<CloseChannel> = defineMessage<CloseChannel>({
  type: "CloseChannel",
  name: "CloseChannel",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x18,
  channelMsg: true,
  size: (m) => 4 + sizeStr0_255(m.reasonCode),
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.str0_255(m.reasonCode, "reasonCode");
  },
  read: (r) => ({ type: "CloseChannel", channelId: r.u32("channelId"), reasonCode: r.str0_255("reasonCode") }),
});

export const SetExtranoncePrefixCodec: MessageCodec<SetExtranoncePrefix> = defineMessage<SetExtranoncePrefix>({
  type: "SetExtranoncePrefix",
  name: "SetExtranoncePrefix",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x19,
  channelMsg: true,
  size: (m) => 4 + 1 + m.extranoncePrefix.length,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.b0_32(m.extranoncePrefix, "extranoncePrefix");
  },
  read: (r) => ({ type: "SetExtranoncePrefix", channelId: r.u32("channelId"), extranoncePrefix: r.b0_32("extranoncePrefix") }),
});

export const SubmitSharesStandardCodec: MessageCodec<SubmitSharesStandard> = defineMessage<SubmitSharesStandard>({
  type: "SubmitSharesStandard",
  name: "SubmitSharesStandard",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x1a,
  channelMsg: true,
  size: () => 24,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.sequenceNumber, "sequenceNumber");
    w.u32(m.jobId, "jobId");
    w.u32(m.nonce, "nonce");
    w.u32(m.ntime, "ntime");
    w.u32(m.version, "version");
  },
  read(r) {
    const o = checkShareFields(r);
    const b = r.bytes;
    return {
      type: "SubmitSharesStandard",
      channelId: u32At(b, o),
      sequenceNumber: u32At(b, o + 4),
      jobId: u32At(b, o + 8),
      nonce: u32At(b, o + 12),
      ntime: u32At(b, o + 16),
      version: u32At(b, o + 20),
    };
  },
});

export const SubmitSharesExtendedCodec: MessageCodec<SubmitSharesExtended> = defineMessage<SubmitSharesExtended>({
  type: "SubmitSharesExtended",
  name: "SubmitSharesExtended",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x1b,
  channelMsg: true,
  size: (m) => 24 + 1 + m.extranonce.length,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.sequenceNumber, "sequenceNumber");
    w.u32(m.jobId, "jobId");
    w.u32(m.nonce, "nonce");
    w.u32(m.ntime, "ntime");
    w.u32(m.version, "version");
    w.b0_32(m.extranonce, "extranonce");
  },
  read(r) {
    const o = checkShareFields(r);
    const b = r.bytes;
    return {
      type: "SubmitSharesExtended",
      channelId: u32At(b, o),
      sequenceNumber: u32At(b, o + 4),
      jobId: u32At(b, o + 8),
      nonce: u32At(b, o + 12),
      ntime: u32At(b, o + 16),
      version: u32At(b, o + 20),
      extranonce: r.b0_32("extranonce"),
    };
  },
});

export const SubmitSharesSuccessCodec: MessageCodec<SubmitSharesSuccess> = defineMessage<SubmitSharesSuccess>({
  type: "SubmitSharesSuccess",
  name: "SubmitShares.Success",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x1c,
  channelMsg: true,
  size: () => 20,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.lastSequenceNumber, "lastSequenceNumber");
    w.u32(m.newSubmitsAcceptedCount, "newSubmitsAcceptedCount");
    w.u64(m.newSharesSum, "newSharesSum");
  },
  read: (r) => ({
    type: "SubmitSharesSuccess",
    channelId: r.u32("channelId"),
    lastSequenceNumber: r.u32("lastSequenceNumber"),
    newSubmitsAcceptedCount: r.u32("newSubmitsAcceptedCount"),
    newSharesSum: r.u64("newSharesSum"),
  }),
});

export const SubmitSharesErrorCodec: MessageCodec<SubmitSharesError> = defineMessage<SubmitSharesError>({
  type: "SubmitSharesError",
  name: "SubmitShares.Error",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x1d,
  channelMsg: true,
  size: (m) => 8 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.sequenceNumber, "sequenceNumber");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({
    type: "SubmitSharesError",
    channelId: r.u32("channelId"),
    sequenceNumber: r.u32("sequenceNumber"),
    errorCode: r.str0_255("errorCode"),
  }),
});

export const NewExtendedMiningJobCodec: MessageCodec<NewExtendedMiningJob> = defineMessage<NewExtendedMiningJob>({
  type: "NewExtendedMiningJob",
  name: "NewExtendedMiningJob",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x1f,
  channelMsg: true,
  size: (m) =>
    4 + 4 + (m.minNtime === null ? 1 : 5) + 4 + 1 + 1 + 32 * m.merklePath.length + 2 + m.coinbaseTxPrefix.length + 2 + m.coinbaseTxSuffix.length,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.jobId, "jobId");
    w.optionU32(m.minNtime, "minNtime");
    w.u32(m.version, "version");
    w.bool(m.versionRollingAllowed, "versionRollingAllowed");
    w.u256Seq0_255(m.merklePath, "merklePath");
    w.b0_64k(m.coinbaseTxPrefix, "coinbaseTxPrefix");
    w.b0_64k(m.coinbaseTxSuffix, "coinbaseTxSuffix");
  },
  read: (r) => ({
    type: "NewExtendedMiningJob",
    channelId: r.u32("channelId"),
    jobId: r.u32("jobId"),
    minNtime: r.optionU32("minNtime"),
    version: r.u32("version"),
    versionRollingAllowed: r.bool("versionRollingAllowed"),
    merklePath: r.u256Seq0_255("merklePath"),
    coinbaseTxPrefix: r.b0_64k("coinbaseTxPrefix"),
    coinbaseTxSuffix: r.b0_64k("coinbaseTxSuffix"),
  }),
});

export const SetNewPrevHashCodec: MessageCodec<SetNewPrevHash> = defineMessage<SetNewPrevHash>({
  type: "SetNewPrevHash",
  name: "SetNewPrevHash",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x20,
  channelMsg: true,
  size: () => 4 + 4 + 32 + 4 + 4,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.jobId, "jobId");
    w.u256(m.prevHash, "prevHash");
    w.u32(m.minNtime, "minNtime");
    w.u32(m.nbits, "nbits");
  },
  read: (r) => ({
    type: "SetNewPrevHash",
    channelId: r.u32("channelId"),
    jobId: r.u32("jobId"),
    prevHash: r.u256("prevHash"),
    minNtime: r.u32("minNtime"),
    nbits: r.u32("nbits"),
  }),
});

export const SetTargetCodec: MessageCodec<SetTarget> = defineMessage<SetTarget>({
  type: "SetTarget",
  name: "SetTarget",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x21,
  channelMsg: true,
  size: () => 36,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u256(m.maximumTarget, "maximumTarget");
  },
  read: (r) => ({ type: "SetTarget", channelId: r.u32("channelId"), maximumTarget: r.u256("maximumTarget") }),
});

export const SetCustomMiningJobCodec: MessageCodec<SetCustomMiningJob> = defineMessage<SetCustomMiningJob>({
  type: "SetCustomMiningJob",
  name: "SetCustomMiningJob",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x22,
  channelMsg: true,
  size: (m) =>
    4 + 4 + 1 + m.miningJobToken.length + 4 + 32 + 4 + 4 + 4 + 1 + m.coinbasePrefix.length + 4 + 2 + m.coinbaseTxOutputs.length + 4 +
    1 + 32 * m.merklePath.length,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.requestId, "requestId");
    w.b0_255(m.miningJobToken, "miningJobToken");
    w.u32(m.version, "version");
    w.u256(m.prevHash, "prevHash");
    w.u32(m.minNtime, "minNtime");
    w.u32(m.nbits, "nbits");
    w.u32(m.coinbaseTxVersion, "coinbaseTxVersion");
    w.b0_255(m.coinbasePrefix, "coinbasePrefix");
    w.u32(m.coinbaseTxInputNSequence, "coinbaseTxInputNSequence");
    w.b0_64k(m.coinbaseTxOutputs, "coinbaseTxOutputs");
    w.u32(m.coinbaseTxLocktime, "coinbaseTxLocktime");
    w.u256Seq0_255(m.merklePath, "merklePath");
  },
  read: (r) => ({
    type: "SetCustomMiningJob",
    channelId: r.u32("channelId"),
    requestId: r.u32("requestId"),
    miningJobToken: r.b0_255("miningJobToken"),
    version: r.u32("version"),
    prevHash: r.u256("prevHash"),
    minNtime: r.u32("minNtime"),
    nbits: r.u32("nbits"),
    coinbaseTxVersion: r.u32("coinbaseTxVersion"),
    coinbasePrefix: r.b0_255("coinbasePrefix"),
    coinbaseTxInputNSequence: r.u32("coinbaseTxInputNSequence"),
    coinbaseTxOutputs: r.b0_64k("coinbaseTxOutputs"),
    coinbaseTxLocktime: r.u32("coinbaseTxLocktime"),
    merklePath: r.u256Seq0_255("merklePath"),
  }),
});

export const SetCustomMiningJobSuccessCodec: MessageCodec<SetCustomMiningJobSuccess> = defineMessage<SetCustomMiningJobSuccess>({
  type: "SetCustomMiningJobSuccess",
  name: "SetCustomMiningJob.Success",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x23,
  channelMsg: true,
  size: () => 12,
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.requestId, "requestId");
    w.u32(m.jobId, "jobId");
  },
  read: (r) => ({ type: "SetCustomMiningJobSuccess", channelId: r.u32("channelId"), requestId: r.u32("requestId"), jobId: r.u32("jobId") }),
});

export const SetCustomMiningJobErrorCodec: MessageCodec<SetCustomMiningJobError> = defineMessage<SetCustomMiningJobError>({
  type: "SetCustomMiningJobError",
  name: "SetCustomMiningJob.Error",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x24,
  channelMsg: true,
  size: (m) => 8 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u32(m.channelId, "channelId");
    w.u32(m.requestId, "requestId");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({
    type: "SetCustomMiningJobError",
    channelId: r.u32("channelId"),
    requestId: r.u32("requestId"),
    errorCode: r.str0_255("errorCode"),
  }),
});

export const SetGroupChannelCodec: MessageCodec<SetGroupChannel> = defineMessage<SetGroupChannel>({
  type: "SetGroupChannel",
  name: "SetGroupChannel",
  protocol: "mining",
  extensionId: 0,
  msgType: 0x25,
  channelMsg: false,
  size: (m) => 4 + 2 + 4 * m.channelIds.length,
  write(w, m) {
    w.u32(m.groupChannelId, "groupChannelId");
    w.seq0_64k(m.channelIds, "channelIds", (wr, v, f) => wr.u32(v, f));
  },
  read: (r) => ({
    type: "SetGroupChannel",
    groupChannelId: r.u32("groupChannelId"),
    channelIds: r.seq0_64k("channelIds", 4, (rd, f) => rd.u32(f)),
  }),
});

export const MINING_CODECS = [
  OpenStandardMiningChannelCodec,
  OpenStandardMiningChannelSuccessCodec,
  OpenMiningChannelErrorCodec,
  OpenExtendedMiningChannelCodec,
  OpenExtendedMiningChannelSuccessCodec,
  NewMiningJobCodec,
  UpdateChannelCodec,
  UpdateChannelErrorCodec,
  CloseChannelCodec,
  SetExtranoncePrefixCodec,
  SubmitSharesStandardCodec,
  SubmitSharesExtendedCodec,
  SubmitSharesSuccessCodec,
  SubmitSharesErrorCodec,
  NewExtendedMiningJobCodec,
  SetNewPrevHashCodec,
  SetTargetCodec,
  SetCustomMiningJobCodec,
  SetCustomMiningJobSuccessCodec,
  SetCustomMiningJobErrorCodec,
  SetGroupChannelCodec,
] as const;
