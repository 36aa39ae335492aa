/**
 * Ephemeral keys made ahead of time. Generating a key and its ElligatorSwift encoding is the most
 * expensive part of a responder handshake that does not depend on the peer, so the server can
 * `refill()` while idle and `take()` one per incoming connection. Each key is handed out once.
 */
import { defaultRandom, generateEllSwiftKeyPair } from "./ellswift.ts";
import type { EllSwiftKeyPair, RandomSource } from "./ellswift.ts";

export class EphemeralKeyPool {
  private readonly keys: EllSwiftKeyPair[] = [];

  constructor(
    private readonly capacity: number,
    private readonly rng: RandomSource = defaultRandom,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError("capacity must be a non-negative integer");
  }

  get size(): number {
    return this.keys.length;
  }

  /** A ready key, or a freshly generated one when the pool is empty. Never returns a key twice. */
  take(): EllSwiftKeyPair {
    return this.keys.pop() ?? generateEllSwiftKeyPair(this.rng);
  }

  /** Generates up to `max` keys (bounded by capacity); returns how many were added. */
  refill(max: number = this.capacity): number {
    let added = 0;
    while (added < max && this.keys.length < this.capacity) {
      this.keys.push(generateEllSwiftKeyPair(this.rng));
      added++;
    }
    return added;
  }
}
