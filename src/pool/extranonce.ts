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

export class ExtranonceAllocator {
  private next = 1;
  private readonly inUse = new Set<number>();

  constructor(readonly serverId = 0) {
    if (!Number.isInteger(serverId) || serverId < 0 || serverId > 255) {
      throw StratumV2Error.config(`server id must be 0..255, got ${serverId}`);
    }
  }

  /** Allocates a unique prefix; release it when the channel closes. */
  allocate(): Uint8Array {
    const space = 1 << 24;
    if (this.inUse.size >= space - 1) throw StratumV2Error.pool("extranonce prefix space exhausted");
    while (this.inUse.has(this.next)) this.next = (this.next % (space - 1)) + 1;
    const n = this.next;
    this.next = (this.next % (space - 1)) + 1;
    this.inUse.add(n);
    return Uint8Array.of(this.serverId, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }

  release(prefix: Uint8Array): void {
    if (prefix.length !== PREFIX_SIZE || prefix[0] !== this.serverId) return;
    this.inUse.delete(((prefix[1] as number) << 16) | ((prefix[2] as number) << 8) | (prefix[3] as number));
  }

  get allocated(): number {
    return this.inUse.size;
  }
}
