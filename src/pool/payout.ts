/**
 * Splitting the coinbase value between the farm's payout addresses.
 *
 * Shares are given in parts per million so that percentages like 33.3333 split exactly and the sum
 * check is integer arithmetic. Rounding dust goes to the first payout, so the outputs always add up to
 * exactly the value the template allows (never more, which would make the block invalid).
 */
import type { TxOut } from "../bitcoin/tx.ts";
import { StratumV2Error } from "../errors.ts";

export interface Payout {
  /** scriptPubKey of the address (see bitcoin/address.ts payoutScript). */
  script: Uint8Array;
  /** Share of the coinbase value in percent (0 < percent ≤ 100). */
  percent: number;
  /** The address as configured, for logs and the API. */
  address: string;
}

const PPM = 1_000_000;

export function percentToPpm(percent: number): number {
  return Math.round(percent * 10_000);
}

/** Checks that a payout list is usable: at least one entry, positive shares summing to 100%. */
export function validatePayouts(payouts: readonly Payout[]): void {
  if (payouts.length === 0) throw StratumV2Error.config("at least one payout address is required");
  let total = 0;
  for (const p of payouts) {
    if (!(p.percent > 0 && p.percent <= 100)) {
      throw StratumV2Error.config(`payout ${p.address}: percent must be in (0, 100], got ${p.percent}`);
    }
    total += percentToPpm(p.percent);
  }
  if (total !== PPM) {
    throw StratumV2Error.config(`payout percentages must add up to 100, they add up to ${total / 10_000}`);
  }
}

/** The pool's coinbase outputs for a coinbase worth `value` satoshi. */
export function payoutOutputs(value: bigint, payouts: readonly Payout[]): TxOut[] {
  const outputs: TxOut[] = payouts.map((p) => ({
    value: (value * BigInt(percentToPpm(p.percent))) / BigInt(PPM),
    script: p.script,
  }));
  const paid = outputs.reduce((sum, o) => sum + o.value, 0n);
  const first = outputs[0];
  if (first !== undefined) first.value += value - paid;
  return outputs;
}
