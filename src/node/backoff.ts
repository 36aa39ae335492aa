/**
 * Capped exponential backoff and an abortable sleep: the retry rhythm of everything that waits for a
 * node to come back.
 */

export class Backoff {
  private current: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.current = minMs;
  }

  /** The delay to wait now; the next one doubles, up to the cap. */
  next(): number {
    const d = this.current;
    this.current = Math.min(this.maxMs, this.current * 2);
    return d;
  }

  reset(): void {
    this.current = this.minMs;
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects: callers check their own state after). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
