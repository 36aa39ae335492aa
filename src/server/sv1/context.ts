/** What the V1 listener shares with its sessions: the pool service, limits, counters, cached lines. */
import type { LogFields, Logger } from "../../log.ts";
import type { Job } from "../../pool/jobs.ts";
import type { PoolService } from "../pool-service.ts";
import type { NotifyLine } from "./protocol.ts";

/** Resolved listener options (every limit has a value). */
export interface Sv1Limits {
  extranonce2Size: number;
  maxLineBytes: number;
  maxSharesPerSecond: number;
  /** Floor for every V1 channel's difficulty (fractional allowed); 0 = the pool's minimum only. */
  minDifficulty: number;
}

export interface Sv1ServerContext {
  readonly service: PoolService;
  readonly logger: Logger;
  readonly options: Sv1Limits;
  /** The rollable version bits V1 miners may get (the pool's mask unless narrowed). */
  readonly versionMask: number;
  /** The notify line for a job (built once per job and clean flag). */
  notifyLine(job: Job, clean: boolean): NotifyLine;
  countMessage(method: string): void;
  countError(reason: string): void;
  countShare(accepted: boolean): void;
  countLimit(limit: string, detail: string): void;
  countDisconnect(reason: string): void;
  /** Logs bad input at most once per cause and interval (a flooding peer cannot flood the log). */
  logBadInput(cause: string, msg: string, fields: LogFields): void;
}
