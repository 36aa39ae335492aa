/**
 * Template Distribution Protocol messages (spec 07), all without the channel_msg bit.
 *
 * 0x70 has two shapes across spec versions: `CoinbaseOutputConstraints` (U32 size + U16 sigops,
 * current spec and SRI) and the older `CoinbaseOutputDataSize` (U32 only). A 4-byte payload
 * decodes as the old one, anything else as the new one, and each re-encodes to its own bytes.
 */
import { readB0_16mItem, sizeB0_16mSeq, sizeStr0_255, writeB0_16mItem } from "../codec.ts";
import { defineMessage } from "./define.ts";
import type { MessageCodec } from "./define.ts";

/** 0x70, client → server (current spec). */
export interface CoinbaseOutputConstraints {
  readonly type: "CoinbaseOutputConstraints";
  coinbaseOutputMaxAdditionalSize: number;
  coinbaseOutputMaxAdditionalSigops: number;
}

/** 0x70, client → server (pre-2025 spec, still spoken by old template providers). */
export interface CoinbaseOutputDataSize {
  readonly type: "CoinbaseOutputDataSize";
  coinbaseOutputMaxAdditionalSize: number;
}

/** 0x71, server → client. */
export interface NewTemplate {
  readonly type: "NewTemplate";
  templateId: bigint;
  futureTemplate: boolean;
  version: number;
  coinbaseTxVersion: number;
  coinbasePrefix: Uint8Array;
  coinbaseTxInputSequence: number;
  coinbaseTxValueRemaining: bigint;
  coinbaseTxOutputsCount: number;
  /** Serialized outputs back to back, with no CompactSize count in front. */
  coinbaseTxOutputs: Uint8Array;
  coinbaseTxLocktime: number;
  merklePath: Uint8Array[];
}

/** 0x72, server → client: the TDP SetNewPrevHash (the mining one is `SetNewPrevHash`). */
export interface SetNewPrevHashTdp {
  readonly type: "SetNewPrevHashTdp";
  templateId: bigint;
  prevHash: Uint8Array;
  headerTimestamp: number;
  nBits: number;
  /** U256 LE network target. */
  target: Uint8Array;
}

/** 0x73, client → server. */
export interface RequestTransactionData {
  readonly type: "RequestTransactionData";
  templateId: bigint;
}

/** 0x74, server → client. */
export interface RequestTransactionDataSuccess {
  readonly type: "RequestTransactionDataSuccess";
  templateId: bigint;
  excessData: Uint8Array;
  transactionList: Uint8Array[];
}

/** 0x75, server → client. */
export interface RequestTransactionDataError {
  readonly type: "RequestTransactionDataError";
  templateId: bigint;
  errorCode: string;
}

/** 0x76, client → server. `coinbaseTx` is the full (segwit) serialization. */
export interface SubmitSolution {
  readonly type: "SubmitSolution";
  templateId: bigint;
  version: number;
  headerTimestamp: number;
  headerNonce: number;
  coinbaseTx: Uint8Array;
}

export type TemplateDistributionMessage =
  | CoinbaseOutputConstraints
  | CoinbaseOutputDataSize
  | NewTemplate
  | SetNewPrevHashTdp
  | RequestTransactionData
  | RequestTransactionDataSuccess
  | RequestTransactionDataError
  | SubmitSolution;

export const CoinbaseOutputConstraintsCodec: MessageCodec<CoinbaseOutputConstraints> = defineMessage<CoinbaseOutputConstraints>({
  type: "CoinbaseOutputConstraints",
  name: "CoinbaseOutputConstraints",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x70,
  channelMsg: false,
  size: () => 6,
  write(w, m) {
    w.u32(m.coinbaseOutputMaxAdditionalSize, "coinbaseOutputMaxAdditionalSize");
    w.u16(m.coinbaseOutputMaxAdditionalSigops, "coinbaseOutputMaxAdditionalSigops");
  },
  read: (r) => ({
    type: "CoinbaseOutputConstraints",
    coinbaseOutputMaxAdditionalSize: r.u32("coinbaseOutputMaxAdditionalSize"),
    coinbaseOutputMaxAdditionalSigops: r.u16("coinbaseOutputMaxAdditionalSigops"),
  }),
});

export const CoinbaseOutputDataSizeCodec: MessageCodec<CoinbaseOutputDataSize> = defineMessage<CoinbaseOutputDataSize>({
  type: "CoinbaseOutputDataSize",
  name: "CoinbaseOutputDataSize",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x70,
  channelMsg: false,
  size: () => 4,
  write(w, m) {
    w.u32(m.coinbaseOutputMaxAdditionalSize, "coinbaseOutputMaxAdditionalSize");
  },
  read: (r) => ({ type: "CoinbaseOutputDataSize", coinbaseOutputMaxAdditionalSize: r.u32("coinbaseOutputMaxAdditionalSize") }),
});

export const NewTemplateCodec: MessageCodec<NewTemplate> = defineMessage<NewTemplate>({
  type: "NewTemplate",
  name: "NewTemplate",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x71,
  channelMsg: false,
  size: (m) => 8 + 1 + 4 + 4 + 1 + m.coinbasePrefix.length + 4 + 8 + 4 + 2 + m.coinbaseTxOutputs.length + 4 + 1 + 32 * m.merklePath.length,
  write(w, m) {
    w.u64(m.templateId, "templateId");
    w.bool(m.futureTemplate, "futureTemplate");
    w.u32(m.version, "version");
    w.u32(m.coinbaseTxVersion, "coinbaseTxVersion");
    w.b0_255(m.coinbasePrefix, "coinbasePrefix");
    w.u32(m.coinbaseTxInputSequence, "coinbaseTxInputSequence");
    w.u64(m.coinbaseTxValueRemaining, "coinbaseTxValueRemaining");
    w.u32(m.coinbaseTxOutputsCount, "coinbaseTxOutputsCount");
    w.b0_64k(m.coinbaseTxOutputs, "coinbaseTxOutputs");
    w.u32(m.coinbaseTxLocktime, "coinbaseTxLocktime");
    w.u256Seq0_255(m.merklePath, "merklePath");
  },
  read: (r) => ({
    type: "NewTemplate",
    templateId: r.u64("templateId"),
    futureTemplate: r.bool("futureTemplate"),
    version: r.u32("version"),
    coinbaseTxVersion: r.u32("coinbaseTxVersion"),
    coinbasePrefix: r.b0_255("coinbasePrefix"),
    coinbaseTxInputSequence: r.u32("coinbaseTxInputSequence"),
    coinbaseTxValueRemaining: r.u64("coinbaseTxValueRemaining"),
    coinbaseTxOutputsCount: r.u32("coinbaseTxOutputsCount"),
    coinbaseTxOutputs: r.b0_64k("coinbaseTxOutputs"),
    coinbaseTxLocktime: r.u32("coinbaseTxLocktime"),
    merklePath: r.u256Seq0_255("merklePath"),
  }),
});

export const SetNewPrevHashTdpCodec: MessageCodec<SetNewPrevHashTdp> = defineMessage<SetNewPrevHashTdp>({
  type: "SetNewPrevHashTdp",
  name: "SetNewPrevHash (template distribution)",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x72,
  channelMsg: false,
  size: () => 8 + 32 + 4 + 4 + 32,
  write(w, m) {
    w.u64(m.templateId, "templateId");
    w.u256(m.prevHash, "prevHash");
    w.u32(m.headerTimestamp, "headerTimestamp");
    w.u32(m.nBits, "nBits");
    w.u256(m.target, "target");
  },
  read: (r) => ({
    type: "SetNewPrevHashTdp",
    templateId: r.u64("templateId"),
    prevHash: r.u256("prevHash"),
    headerTimestamp: r.u32("headerTimestamp"),
    nBits: r.u32("nBits"),
    target: r.u256("target"),
  }),
});

export const RequestTransactionDataCodec: MessageCodec<RequestTransactionData> = defineMessage<RequestTransactionData>({
  type: "RequestTransactionData",
  name: "RequestTransactionData",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x73,
  channelMsg: false,
  size: () => 8,
  write(w, m) {
    w.u64(m.templateId, "templateId");
  },
  read: (r) => ({ type: "RequestTransactionData", templateId: r.u64("templateId") }),
});

export const RequestTransactionDataSuccessCodec: MessageCodec<RequestTransactionDataSuccess> = defineMessage<RequestTransactionDataSuccess>({
  type: "RequestTransactionDataSuccess",
  name: "RequestTransactionData.Success",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x74,
  channelMsg: false,
  size: (m) => 8 + 2 + m.excessData.length + sizeB0_16mSeq(m.transactionList),
  write(w, m) {
    w.u64(m.templateId, "templateId");
    w.b0_64k(m.excessData, "excessData");
    w.seq0_64k(m.transactionList, "transactionList", writeB0_16mItem);
  },
  read: (r) => ({
    type: "RequestTransactionDataSuccess",
    templateId: r.u64("templateId"),
    excessData: r.b0_64k("excessData"),
    transactionList: r.seq0_64k("transactionList", 3, readB0_16mItem),
  }),
});

export const RequestTransactionDataErrorCodec: MessageCodec<RequestTransactionDataError> = defineMessage<RequestTransactionDataError>({
  type: "RequestTransactionDataError",
  name: "RequestTransactionData.Error",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x75,
  channelMsg: false,
  size: (m) => 8 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u64(m.templateId, "templateId");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({ type: "RequestTransactionDataError", templateId: r.u64("templateId"), errorCode: r.str0_255("errorCode") }),
});

export const SubmitSolutionCodec: MessageCodec<SubmitSolution> = defineMessage<SubmitSolution>({
  type: "SubmitSolution",
  name: "SubmitSolution",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x76,
  channelMsg: false,
  size: (m) => 8 + 4 + 4 + 4 + 2 + m.coinbaseTx.length,
  write(w, m) {
    w.u64(m.templateId, "templateId");
    w.u32(m.version, "version");
    w.u32(m.headerTimestamp, "headerTimestamp");
    w.u32(m.headerNonce, "headerNonce");
    w.b0_64k(m.coinbaseTx, "coinbaseTx");
  },
  read: (r) => ({
    type: "SubmitSolution",
    templateId: r.u64("templateId"),
    version: r.u32("version"),
    headerTimestamp: r.u32("headerTimestamp"),
    headerNonce: r.u32("headerNonce"),
    coinbaseTx: r.b0_64k("coinbaseTx"),
  }),
});

export const TEMPLATE_DISTRIBUTION_CODECS = [
  CoinbaseOutputConstraintsCodec,
  CoinbaseOutputDataSizeCodec,
  NewTemplateCodec,
  SetNewPrevHashTdpCodec,
  RequestTransactionDataCodec,
  RequestTransactionDataSuccessCodec,
  RequestTransactionDataErrorCodec,
  SubmitSolutionCodec,
] as const;

/**
 * What the registry uses to decode msg_type 0x70: the pre-2025 4-byte `CoinbaseOutputDataSize`
 * when the bytes left are exactly 4, else `CoinbaseOutputConstraints`. Encoding follows `type`.
 */
export const CoinbaseOutput0x70Codec: MessageCodec<CoinbaseOutputConstraints | CoinbaseOutputDataSize> = defineMessage<
  CoinbaseOutputConstraints | CoinbaseOutputDataSize
>({
  type: "CoinbaseOutputConstraints",
  name: "CoinbaseOutputConstraints",
  protocol: "template-distribution",
  extensionId: 0,
  msgType: 0x70,
  channelMsg: false,
  size: (m) => (m.type === "CoinbaseOutputDataSize" ? 4 : 6),
  write(w, m) {
    if (m.type === "CoinbaseOutputDataSize") CoinbaseOutputDataSizeCodec.write(w, m);
    else CoinbaseOutputConstraintsCodec.write(w, m);
  },
  read(r) {
    if (r.remaining === 4) {
      r.messageName = CoinbaseOutputDataSizeCodec.name;
      return CoinbaseOutputDataSizeCodec.read(r);
    }
    return CoinbaseOutputConstraintsCodec.read(r);
  },
});
