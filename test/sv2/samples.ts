// Seeded generators of valid SV2 messages of every type, for round-trip and fuzz tests.
import type { MessageOf, Sv2Message, Sv2MessageType } from "../../src/sv2/index.ts";

/** mulberry32: tiny, fast, good enough to drive tests reproducibly from one 32-bit seed. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Value generators biased towards edges (0, max) as well as random values. */
export class Gen {
  constructor(readonly rng: Prng) {}
  uint(bits: 8 | 16 | 24 | 32): number {
    const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    const k = this.rng.int(8);
    if (k === 0) return 0;
    if (k === 1) return max;
    return bits === 32 ? this.rng.u32() : this.rng.u32() & max;
  }
  u8(): number {
    return this.uint(8);
  }
  u16(): number {
    return this.uint(16);
  }
  u32(): number {
    return this.uint(32);
  }
  u64(): bigint {
    const k = this.rng.int(6);
    if (k === 0) return 0n;
    if (k === 1) return (1n << 64n) - 1n;
    return (BigInt(this.rng.u32()) << 32n) | BigInt(this.rng.u32());
  }
  /** A number exactly representable as F32 (so decode gives it back unchanged). */
  f32(): number {
    const k = this.rng.int(6);
    if (k === 0) return 0;
    if (k === 1) return Infinity;
    return Math.fround((this.rng.u32() / 0x100000000) * 10 ** this.rng.int(16));
  }
  u256(): Uint8Array {
    return this.rng.bytes(32);
  }
  /** Byte string of length 0..max, often short. */
  bytes(max: number): Uint8Array {
    const k = this.rng.int(8);
    const len = k === 0 ? 0 : k === 1 ? max : this.rng.int(Math.min(max, 80) + 1);
    return this.rng.bytes(len);
  }
  str(): string {
    return this.rng.pick(STRINGS);
  }
  optU32(): number | null {
    return this.rng.bool() ? null : this.u32();
  }
  u256s(max: number): Uint8Array[] {
    const k = this.rng.int(10);
    const n = k === 0 ? max : this.rng.int(13);
    return Array.from({ length: n }, () => this.u256());
  }
  list<T>(max: number, item: () => T): T[] {
    const k = this.rng.int(12);
    const n = k === 0 ? 0 : k === 1 ? max : this.rng.int(9);
    return Array.from({ length: n }, item);
  }
}

export const STRINGS: readonly string[] = [
  "",
  "worker.1",
  "bc1qexampleaddress.rig-07",
  "invalid-job-id",
  "Stratum V2 SRI Pool",
  "мир",
  "⛏️ Ω 🙂",
  "\u{feff}bom-first",
  "x".repeat(255),
  "é".repeat(127),
];

type Generators = { [T in Sv2MessageType]: (g: Gen) => MessageOf<T> };

const GENERATORS: Generators = {
  SetupConnection: (g) => ({
    type: "SetupConnection",
    protocol: g.u8(),
    minVersion: g.u16(),
    maxVersion: g.u16(),
    flags: g.u32(),
    endpointHost: g.str(),
    endpointPort: g.u16(),
    vendor: g.str(),
    hardwareVersion: g.str(),
    firmware: g.str(),
    deviceId: g.str(),
  }),
  SetupConnectionSuccess: (g) => ({ type: "SetupConnectionSuccess", usedVersion: g.u16(), flags: g.u32() }),
  SetupConnectionError: (g) => ({ type: "SetupConnectionError", flags: g.u32(), errorCode: g.str() }),
  ChannelEndpointChanged: (g) => ({ type: "ChannelEndpointChanged", channelId: g.u32() }),
  Reconnect: (g) => ({ type: "Reconnect", newHost: g.str(), newPort: g.u16() }),
  OpenStandardMiningChannel: (g) => ({
    type: "OpenStandardMiningChannel",
    requestId: g.u32(),
    userIdentity: g.str(),
    nominalHashRate: g.f32(),
    maxTarget: g.u256(),
  }),
  OpenStandardMiningChannelSuccess: (g) => ({
    type: "OpenStandardMiningChannelSuccess",
    requestId: g.u32(),
    channelId: g.u32(),
    target: g.u256(),
    extranoncePrefix: g.bytes(32),
    groupChannelId: g.u32(),
  }),
  OpenMiningChannelError: (g) => ({ type: "OpenMiningChannelError", requestId: g.u32(), errorCode: g.str() }),
  OpenExtendedMiningChannel: (g) => ({
    type: "OpenExtendedMiningChannel",
    requestId: g.u32(),
    userIdentity: g.str(),
    nominalHashRate: g.f32(),
    maxTarget: g.u256(),
    minExtranonceSize: g.u16(),
  }),
  OpenExtendedMiningChannelSuccess: (g) => ({
    type: "OpenExtendedMiningChannelSuccess",
    requestId: g.u32(),
    channelId: g.u32(),
    target: g.u256(),
    extranonceSize: g.u16(),
    extranoncePrefix: g.bytes(32),
    groupChannelId: g.u32(),
  }),
  NewMiningJob: (g) => ({ type: "NewMiningJob", channelId: g.u32(), jobId: g.u32(), minNtime: g.optU32(), version: g.u32(), merkleRoot: g.u256() }),
  UpdateChannel: (g) => ({ type: "UpdateChannel", channelId: g.u32(), nominalHashRate: g.f32(), maximumTarget: g.u256() }),
  UpdateChannelError: (g) => ({ type: "UpdateChannelError", channelId: g.u32(), errorCode: g.str() }),
  CloseChannel: (g) => ({ type: "CloseChannel", channelId: g.u32(), reasonCode: g.str() }),
  SetExtranoncePrefix: (g) => ({ type: "SetExtranoncePrefix", channelId: g.u32(), extranoncePrefix: g.bytes(32) }),
  SubmitSharesStandard: (g) => ({
    type: "SubmitSharesStandard",
    channelId: g.u32(),
    sequenceNumber: g.u32(),
    jobId: g.u32(),
    nonce: g.u32(),
    ntime: g.u32(),
    version: g.u32(),
  }),
  SubmitSharesExtended: (g) => ({
    type: "SubmitSharesExtended",
    channelId: g.u32(),
    sequenceNumber: g.u32(),
    jobId: g.u32(),
    nonce: g.u32(),
    ntime: g.u32(),
    version: g.u32(),
    extranonce: g.bytes(32),
  }),
  SubmitSharesSuccess: (g) => ({
    type: "SubmitSharesSuccess",
    channelId: g.u32(),
    lastSequenceNumber: g.u32(),
    newSubmitsAcceptedCount: g.u32(),
    newSharesSum: g.u64(),
  }),
  SubmitSharesError: (g) => ({ type: "SubmitSharesError", channelId: g.u32(), sequenceNumber: g.u32(), errorCode: g.str() }),
  NewExtendedMiningJob: (g) => ({
    type: "NewExtendedMiningJob",
    channelId: g.u32(),
    jobId: g.u32(),
    minNtime: g.optU32(),
    version: g.u32(),
    versionRollingAllowed: g.rng.bool(),
    merklePath: g.u256s(255),
    coinbaseTxPrefix: g.bytes(400),
    coinbaseTxSuffix: g.bytes(400),
  }),
  SetNewPrevHash: (g) => ({ type: "SetNewPrevHash", channelId: g.u32(), jobId: g.u32(), prevHash: g.u256(), minNtime: g.u32(), nbits: g.u32() }),
  SetTarget: (g) => ({ type: "SetTarget", channelId: g.u32(), maximumTarget: g.u256() }),
  SetCustomMiningJob: (g) => ({
    type: "SetCustomMiningJob",
    channelId: g.u32(),
    requestId: g.u32(),
    miningJobToken: g.bytes(255),
    version: g.u32(),
    prevHash: g.u256(),
    minNtime: g.u32(),
    nbits: g.u32(),
    coinbaseTxVersion: g.u32(),
    coinbasePrefix: g.bytes(255),
    coinbaseTxInputNSequence: g.u32(),
    coinbaseTxOutputs: g.bytes(300),
    coinbaseTxLocktime: g.u32(),
    merklePath: g.u256s(255),
  }),
  SetCustomMiningJobSuccess: (g) => ({ type: "SetCustomMiningJobSuccess", channelId: g.u32(), requestId: g.u32(), jobId: g.u32() }),
  SetCustomMiningJobError: (g) => ({ type: "SetCustomMiningJobError", channelId: g.u32(), requestId: g.u32(), errorCode: g.str() }),
  SetGroupChannel: (g) => ({ type: "SetGroupChannel", groupChannelId: g.u32(), channelIds: g.list(2000, () => g.u32()) }),
  AllocateMiningJobToken: (g) => ({ type: "AllocateMiningJobToken", userIdentifier: g.str(), requestId: g.u32() }),
  AllocateMiningJobTokenSuccess: (g) => ({
    type: "AllocateMiningJobTokenSuccess",
    requestId: g.u32(),
    miningJobToken: g.bytes(255),
    coinbaseTxOutputs: g.bytes(300),
  }),
  ProvideMissingTransactions: (g) => ({ type: "ProvideMissingTransactions", requestId: g.u32(), unknownTxPositionList: g.list(3000, () => g.u16()) }),
  ProvideMissingTransactionsSuccess: (g) => ({
    type: "ProvideMissingTransactionsSuccess",
    requestId: g.u32(),
    transactionList: g.list(40, () => g.bytes(500)),
  }),
  DeclareMiningJob: (g) => ({
    type: "DeclareMiningJob",
    requestId: g.u32(),
    miningJobToken: g.bytes(255),
    version: g.u32(),
    coinbaseTxPrefix: g.bytes(300),
    coinbaseTxSuffix: g.bytes(300),
    wtxidList: g.list(300, () => g.u256()),
    excessData: g.bytes(300),
  }),
  DeclareMiningJobSuccess: (g) => ({ type: "DeclareMiningJobSuccess", requestId: g.u32(), newMiningJobToken: g.bytes(255) }),
  DeclareMiningJobError: (g) => ({ type: "DeclareMiningJobError", requestId: g.u32(), errorCode: g.str(), errorDetails: g.bytes(300) }),
  PushSolution: (g) => ({
    type: "PushSolution",
    extranonce: g.bytes(32),
    prevHash: g.u256(),
    nonce: g.u32(),
    ntime: g.u32(),
    nbits: g.u32(),
    version: g.u32(),
  }),
  CoinbaseOutputConstraints: (g) => ({
    type: "CoinbaseOutputConstraints",
    coinbaseOutputMaxAdditionalSize: g.u32(),
    coinbaseOutputMaxAdditionalSigops: g.u16(),
  }),
  CoinbaseOutputDataSize: (g) => ({ type: "CoinbaseOutputDataSize", coinbaseOutputMaxAdditionalSize: g.u32() }),
  NewTemplate: (g) => ({
    type: "NewTemplate",
    templateId: g.u64(),
    futureTemplate: g.rng.bool(),
    version: g.u32(),
    coinbaseTxVersion: g.u32(),
    coinbasePrefix: g.bytes(255),
    coinbaseTxInputSequence: g.u32(),
    coinbaseTxValueRemaining: g.u64(),
    coinbaseTxOutputsCount: g.u32(),
    coinbaseTxOutputs: g.bytes(300),
    coinbaseTxLocktime: g.u32(),
    merklePath: g.u256s(255),
  }),
  SetNewPrevHashTdp: (g) => ({
    type: "SetNewPrevHashTdp",
    templateId: g.u64(),
    prevHash: g.u256(),
    headerTimestamp: g.u32(),
    nBits: g.u32(),
    target: g.u256(),
  }),
  RequestTransactionData: (g) => ({ type: "RequestTransactionData", templateId: g.u64() }),
  RequestTransactionDataSuccess: (g) => ({
    type: "RequestTransactionDataSuccess",
    templateId: g.u64(),
    excessData: g.bytes(300),
    transactionList: g.list(40, () => g.bytes(500)),
  }),
  RequestTransactionDataError: (g) => ({ type: "RequestTransactionDataError", templateId: g.u64(), errorCode: g.str() }),
  SubmitSolution: (g) => ({
    type: "SubmitSolution",
    templateId: g.u64(),
    version: g.u32(),
    headerTimestamp: g.u32(),
    headerNonce: g.u32(),
    coinbaseTx: g.bytes(400),
  }),
  RequestExtensions: (g) => ({ type: "RequestExtensions", requestId: g.u16(), requestedExtensions: g.list(100, () => g.u16()) }),
  RequestExtensionsSuccess: (g) => ({ type: "RequestExtensionsSuccess", requestId: g.u16(), supportedExtensions: g.list(100, () => g.u16()) }),
  RequestExtensionsError: (g) => ({
    type: "RequestExtensionsError",
    requestId: g.u16(),
    unsupportedExtensions: g.list(100, () => g.u16()),
    requiredExtensions: g.list(100, () => g.u16()),
  }),
};

export const MESSAGE_TYPES: readonly Sv2MessageType[] = Object.keys(GENERATORS) as Sv2MessageType[];

export function randomMessage<T extends Sv2MessageType>(type: T, g: Gen): MessageOf<T> {
  return (GENERATORS[type] as (g: Gen) => MessageOf<T>)(g);
}

export function randomAnyMessage(g: Gen): Sv2Message {
  return randomMessage(g.rng.pick(MESSAGE_TYPES), g);
}
