/**
 * Duplicate-share detection for one job of one channel, keyed by the share's header hash.
 *
 * Why not a Set of strings: building a 16-character key from the hash and inserting it costs
 * ~1-2 µs per accepted share on Bun (bench/share-validate.ts), more than the double SHA-256 itself.
 * Here the hash is read as two 53-bit numbers (integers a double holds exactly): the first is the
 * Map key, the second its value, so a share counts as a duplicate only when 106 bits match, as
 * unlikely by chance as the 128-bit key it replaces. When two different shares share the first 53
 * bits (about 1 in 2·10^8 for a job with 10,000 shares), the second is accepted and not recorded:
 * a later exact copy of it would go unnoticed, a valid share is never refused.
 */

const TWO_32 = 4294967296;

/** 53 bits of `h` from byte `at`: a 32-bit word plus 21 more bits. */
function slice53(h: Uint8Array, at: number): number {
  const lo = ((h[at] as number) | ((h[at + 1] as number) << 8) | ((h[at + 2] as number) << 16) | ((h[at + 3] as number) << 24)) >>> 0;
  const hi = (h[at + 4] as number) | ((h[at + 5] as number) << 8) | (((h[at + 6] as number) & 0x1f) << 16);
  return hi * TWO_32 + lo;
}

export class SeenShares {
  private readonly byPrefix = new Map<number, number>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.byPrefix.size;
  }

  /**
   * Records the share with this 32-byte header hash; false when the same hash was recorded before.
   * Past `capacity` shares nothing new is recorded (memory stays bounded; later duplicates of
   * unrecorded shares are then not detected).
   */
  add(hash: Uint8Array): boolean {
    const key = slice53(hash, 0);
    const check = slice53(hash, 8);
    const known = this.byPrefix.get(key);
    if (known !== undefined) return known !== check;
    if (this.byPrefix.size < this.capacity) this.byPrefix.set(key, check);
    return true;
  }
}
