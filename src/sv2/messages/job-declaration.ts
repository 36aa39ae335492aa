/** Job Declaration Protocol messages (spec 06 §6.4), all without the channel_msg bit. */
import { readB0_16mItem, readU16Item, readU256Item, sizeB0_16mSeq, sizeStr0_255, writeB0_16mItem, writeU16Item, writeU256Item } from "../codec.ts";
import { defineMessage } from "./define.ts";
import type { MessageCodec } from "./define.ts";

/** 0x50, JDC → JDS. */
export interface AllocateMiningJobToken {
  readonly type: "AllocateMiningJobToken";
  userIdentifier: string;
  requestId: number;
}

/** 0x51, JDS → JDC. */
export interface AllocateMiningJobTokenSuccess {
  readonly type: "AllocateMiningJobTokenSuccess";
  requestId: number;
  miningJobToken: Uint8Array;
  /** CompactSize-prefixed outputs; the first is the pool payout output. */
  coinbaseTxOutputs: Uint8Array;
}

/** 0x55, JDS → JDC. */
export interface ProvideMissingTransactions {
  readonly type: "ProvideMissingTransactions";
  requestId: number;
  unknownTxPositionList: number[];
}

/** 0x56, JDC → JDS. */
export interface ProvideMissingTransactionsSuccess {
  readonly type: "ProvideMissingTransactionsSuccess";
  requestId: number;
  transactionList: Uint8Array[];
}

/** 0x57, JDC → JDS. Prefix/suffix keep their BIP141 fields (unlike NewExtendedMiningJob). */
export interface DeclareMiningJob {
  readonly type: "DeclareMiningJob";
  requestId: number;
  miningJobToken: Uint8Array;
  version: number;
  coinbaseTxPrefix: Uint8Array;
  coinbaseTxSuffix: Uint8Array;
  wtxidList: Uint8Array[];
  excessData: Uint8Array;
}

/** 0x58, JDS → JDC. */
export interface DeclareMiningJobSuccess {
  readonly type: "DeclareMiningJobSuccess";
  requestId: number;
  newMiningJobToken: Uint8Array;
}

/** 0x59, JDS → JDC. */
export interface DeclareMiningJobError {
  readonly type: "DeclareMiningJobError";
  requestId: number;
  errorCode: string;
  errorDetails: Uint8Array;
}

/** 0x60, JDC → JDS. */
export interface PushSolution {
  readonly type: "PushSolution";
  /** The full extranonce. */
  extranonce: Uint8Array;
  prevHash: Uint8Array;
  nonce: number;
  ntime: number;
  nbits: number;
  version: number;
}

export type JobDeclarationMessage =
  | AllocateMiningJobToken
  | AllocateMiningJobTokenSuccess
  | ProvideMissingTransactions
  | ProvideMissingTransactionsSuccess
  | DeclareMiningJob
  | DeclareMiningJobSuccess
  | DeclareMiningJobError
  | PushSolution;

export const AllocateMiningJobTokenCodec: MessageCodec<AllocateMiningJobToken> = defineMessage<AllocateMiningJobToken>({
  type: "AllocateMiningJobToken",
  name: "AllocateMiningJobToken",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x50,
  channelMsg: false,
  size: (m) => sizeStr0_255(m.userIdentifier) + 4,
  write(w, m) {
    w.str0_255(m.userIdentifier, "userIdentifier");
    w.u32(m.requestId, "requestId");
  },
  read: (r) => ({ type: "AllocateMiningJobToken", userIdentifier: r.str0_255("userIdentifier"), requestId: r.u32("requestId") }),
});

export const AllocateMiningJobTokenSuccessCodec: MessageCodec<AllocateMiningJobTokenSuccess> = defineMessage<AllocateMiningJobTokenSuccess>({
  type: "AllocateMiningJobTokenSuccess",
  name: "AllocateMiningJobToken.Success",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x51,
  channelMsg: false,
  size: (m) => 4 + 1 + m.miningJobToken.length + 2 + m.coinbaseTxOutputs.length,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.b0_255(m.miningJobToken, "miningJobToken");
    w.b0_64k(m.coinbaseTxOutputs, "coinbaseTxOutputs");
  },
  read: (r) => ({
    type: "AllocateMiningJobTokenSuccess",
    requestId: r.u32("requestId"),
    miningJobToken: r.b0_255("miningJobToken"),
    coinbaseTxOutputs: r.b0_64k("coinbaseTxOutputs"),
  }),
});

export const ProvideMissingTransactionsCodec: MessageCodec<ProvideMissingTransactions> = defineMessage<ProvideMissingTransactions>({
  type: "ProvideMissingTransactions",
  name: "ProvideMissingTransactions",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x55,
  channelMsg: false,
  size: (m) => 4 + 2 + 2 * m.unknownTxPositionList.length,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.seq0_64k(m.unknownTxPositionList, "unknownTxPositionList", writeU16Item);
  },
  read: (r) => ({
    type: "ProvideMissingTransactions",
    requestId: r.u32("requestId"),
    unknownTxPositionList: r.seq0_64k("unknownTxPositionList", 2, readU16Item),
  }),
});

export const ProvideMissingTransactionsSuccessCodec: MessageCodec<ProvideMissingTransactionsSuccess> =
  defineMessage<ProvideMissingTransactionsSuccess>({
    type: "ProvideMissingTransactionsSuccess",
    name: "ProvideMissingTransactions.Success",
    protocol: "job-declaration",
    extensionId: 0,
    msgType: 0x56,
    channelMsg: false,
    size: (m) => 4 + sizeB0_16mSeq(m.transactionList),
    write(w, m) {
      w.u32(m.requestId, "requestId");
      w.seq0_64k(m.transactionList, "transactionList", writeB0_16mItem);
    },
    read: (r) => ({
      type: "ProvideMissingTransactionsSuccess",
      requestId: r.u32("requestId"),
      transactionList: r.seq0_64k("transactionList", 3, readB0_16mItem),
    }),
  });

export const DeclareMiningJobCodec: MessageCodec<DeclareMiningJob> = defineMessage<DeclareMiningJob>({
  type: "DeclareMiningJob",
  name: "DeclareMiningJob",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x57,
  channelMsg: false,
  size: (m) =>
    4 + 1 + m.miningJobToken.length + 4 + 2 + m.coinbaseTxPrefix.length + 2 + m.coinbaseTxSuffix.length + 2 + 32 * m.wtxidList.length + 2 +
    m.excessData.length,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.b0_255(m.miningJobToken, "miningJobToken");
    w.u32(m.version, "version");
    w.b0_64k(m.coinbaseTxPrefix, "coinbaseTxPrefix");
    w.b0_64k(m.coinbaseTxSuffix, "coinbaseTxSuffix");
    w.seq0_64k(m.wtxidList, "wtxidList", writeU256Item);
    w.b0_64k(m.excessData, "excessData");
  },
  read: (r) => ({
    type: "DeclareMiningJob",
    requestId: r.u32("requestId"),
    miningJobToken: r.b0_255("miningJobToken"),
    version: r.u32("version"),
    coinbaseTxPrefix: r.b0_64k("coinbaseTxPrefix"),
    coinbaseTxSuffix: r.b0_64k("coinbaseTxSuffix"),
    wtxidList: r.seq0_64k("wtxidList", 32, readU256Item),
    excessData: r.b0_64k("excessData"),
  }),
});

export const DeclareMiningJobSuccessCodec: MessageCodec<DeclareMiningJobSuccess> = defineMessage<DeclareMiningJobSuccess>({
  type: "DeclareMiningJobSuccess",
  name: "DeclareMiningJob.Success",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x58,
  channelMsg: false,
  size: (m) => 4 + 1 + m.newMiningJobToken.length,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.b0_255(m.newMiningJobToken, "newMiningJobToken");
  },
  read: (r) => ({ type: "DeclareMiningJobSuccess", requestId: r.u32("requestId"), newMiningJobToken: r.b0_255("newMiningJobToken") }),
});

export const DeclareMiningJobErrorCodec: MessageCodec<DeclareMiningJobError> = defineMessage<DeclareMiningJobError>({
  type: "DeclareMiningJobError",
  name: "DeclareMiningJob.Error",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x59,
  channelMsg: false,
  size: (m) => 4 + sizeStr0_255(m.errorCode) + 2 + m.errorDetails.length,
  write(w, m) {
    w.u32(m.requestId, "requestId");
    w.str0_255(m.errorCode, "errorCode");
    w.b0_64k(m.errorDetails, "errorDetails");
  },
  read: (r) => ({
    type: "DeclareMiningJobError",
    requestId: r.u32("requestId"),
    errorCode: r.str0_255("errorCode"),
    errorDetails: r.b0_64k("errorDetails"),
  }),
});

export const PushSolutionCodec: MessageCodec<PushSolution> = defineMessage<PushSolution>({
  type: "PushSolution",
  name: "PushSolution",
  protocol: "job-declaration",
  extensionId: 0,
  msgType: 0x60,
  channelMsg: false,
  size: (m) => 1 + m.extranonce.length + 32 + 16,
  write(w, m) {
    w.b0_32(m.extranonce, "extranonce");
    w.u256(m.prevHash, "prevHash");
    w.u32(m.nonce, "nonce");
    w.u32(m.ntime, "ntime");
    w.u32(m.nbits, "nbits");
    w.u32(m.version, "version");
  },
  read: (r) => ({
    type: "PushSolution",
    extranonce: r.b0_32("extranonce"),
    prevHash: r.u256("prevHash"),
    nonce: r.u32("nonce"),
    ntime: r.u32("ntime"),
    nbits: r.u32("nbits"),
    version: r.u32("version"),
  }),
});

export const JOB_DECLARATION_CODECS = [
  AllocateMiningJobTokenCodec,
  AllocateMiningJobTokenSuccessCodec,
  ProvideMissingTransactionsCodec,
  ProvideMissingTransactionsSuccessCodec,
  DeclareMiningJobCodec,
  DeclareMiningJobSuccessCodec,
  DeclareMiningJobErrorCodec,
  PushSolutionCodec,
] as const;
