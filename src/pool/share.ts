/**
 * What a miner submits, normalized over SV2 standard/extended shares and SV1 mining.submit, and what
 * the pool answers.
 */
import type { ShareRejectReason } from "./stats.ts";

export interface ShareSubmission {
  channelId: number;
  /** SV2 sequence_number (echoed in errors; SV1 sessions pass their JSON-RPC id order). */
  sequenceNumber: number;
  jobId: number;
  nonce: number;
  ntime: number;
  version: number;
  /** Extended channels: the rolled part only (exactly the channel's extranonce_size bytes). */
  extranonce?: Uint8Array;
}

/** A block the pool found: everything needed to submit it and to record it. */
export interface FoundBlock {
  /** Block hash, internal byte order. */
  hash: Uint8Array;
  /** Block hash as explorers and RPC show it. */
  hashHex: string;
  height: number;
  prevHashHex: string;
  header: Uint8Array;
  /** The whole serialized block (segwit form when the template has a witness commitment). */
  block: Uint8Array;
  worker: string;
  endpoint: string;
  channelId: number;
  jobId: number;
  templateId: number;
  coinbaseValue: bigint;
  foundAtMs: number;
}

export interface ShareAccepted {
  ok: true;
  /** Difficulty credited for this share (the channel/job target it met). */
  difficulty: number;
  /** Difficulty the hash itself reached. */
  hashDifficulty: number;
  /** Header hash, internal byte order. */
  hash: Uint8Array;
  block: FoundBlock | null;
}

export interface ShareRejected {
  ok: false;
  reason: ShareRejectReason;
  /** More precise cause for logs and statistics (e.g. "ntime-too-old"). */
  detail?: string;
}

export type ShareResult = ShareAccepted | ShareRejected;
