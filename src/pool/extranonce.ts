/**
 * Extranonce prefixes: every channel's coinbase must differ from every other channel's, or two miners
 * would search the same nonce space and their shares would collide. Each channel gets a unique
 * `extranonce_prefix` of `PREFIX_SIZE` bytes: one server-id byte (so several pool processes sharing the
 * listening ports never hand out the same prefix) followed by a 3-byte counter. Prefixes of closed
 * channels are reused only after the counter wraps, and never while still in use.
 */
import { StratumV2Error } from "../errors.ts";

export const PREFIX_SIZE = 4;
/** SubmitSharesExtended.extranonce is B0_32: prefix + rollable part fit in 32 bytes. */
export const MAX_EXTRANONCE_TOTAL = 32;

function counterOf(prefix: Uint8Array): number {
  return ((prefix[1] as number) << 16) | ((prefix[2] as number) << 8) | (prefix[3] as number);
}

export class ExtranonceAllocator {
  private next = 1;
  private live = 0;
  /** Counters 1 .. space (0 is never handed out). */
  private readonly space: number;
  /**
   * Counters in use, kept only once the counter has wrapped: until then every counter from `next` on
   * was never handed out, so none of them can be in use, and a set entry per open channel (~60 bytes
   * each, tens of thousands of channels) would buy nothing. At the wrap the set is built from the
   * prefixes of the channels open then.
   */
  private inUse: Set<number> | null = null;

  /**
   * `openPrefixes` lists the prefixes still in use (the pool's open channels), read once, when the
   * counter first wraps. `counterBits` is 24 (3 bytes); tests use fewer to reach the wrap.
   */
  constructor(
    readonly serverId = 0,
    private readonly openPrefixes: () => Iterable<Uint8Array> = () => [],
    counterBits = 24,
  ) {
    if (!Number.isInteger(serverId) || serverId < 0 || serverId > 255) {
      throw StratumV2Error.config(`server id must be 0..255, got ${serverId}`);
    }
    this.space = 2 ** Math.min(24, counterBits) - 1;
  }

  /** Allocates a unique prefix; release it when the channel closes. */
  allocate(): Uint8Array {
    if (this.live >= this.space) throw StratumV2Error.pool("extranonce prefix space exhausted");
    if (this.inUse !== null) while (this.inUse.has(this.next)) this.next = (this.next % this.space) + 1;
    const n = this.next;
    this.next = (this.next % this.space) + 1;
    this.live++;
    if (this.inUse !== null) this.inUse.add(n);
    else if (this.next === 1) {
      // The first wrap: from now on, counters ahead may be in use.
      const inUse = new Set<number>([n]);
      for (const p of this.openPrefixes()) if (p.length === PREFIX_SIZE && p[0] === this.serverId) inUse.add(counterOf(p));
      this.inUse = inUse;
    }
    return Uint8Array.of(this.serverId, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }

  release(prefix: Uint8Array): void {
    if (prefix.length !== PREFIX_SIZE || prefix[0] !== this.serverId) return;
    if (this.inUse !== null && !this.inUse.delete(counterOf(prefix))) return;
    this.live = Math.max(0, this.live - 1);
  }

  get allocated(): number {
    return this.live;
  }
}
