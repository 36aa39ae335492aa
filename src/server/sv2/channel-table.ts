/**
 * The channels of one SV2 connection, with what the connection keeps per channel (how its jobs are
 * sent, its share-rate bucket, its batched SubmitShares.Success) in one record.
 *
 * Most connections are one device with one channel; a proxy may open hundreds. Records live in an
 * array in opening order (what the fan-out iterates); an index by channel id is built only past a
 * handful of channels, so a one-channel miner does not pay for a hash table (a Map with one entry
 * costs about 400 bytes in JavaScriptCore; the pool holds tens of thousands of connections).
 */
import type { Channel } from "../../pool/channel.ts";

/**
 * How a channel's jobs are sent: "group" = a standard channel in the connection's group channel
 * (one NewExtendedMiningJob for the group); "solo" = a standard channel of a REQUIRES_STANDARD_JOBS
 * connection (its own NewMiningJob); "extended" = NewExtendedMiningJob to the channel itself.
 */
export type ChannelRoute = "group" | "solo" | "extended";

/** A share-rate token bucket; `rateLastMs` < 0 until the first share. */
export interface RateBucket {
  rateTokens: number;
  rateLastMs: number;
}

export interface ConnectionChannel extends RateBucket {
  readonly channel: Channel;
  readonly route: ChannelRoute;
  /** Accepted shares not yet answered with SubmitShares.Success. */
  pendingCount: number;
  pendingLastSequence: number;
  pendingDifficultySum: number;
}

/** Past this many channels, lookups by id go through a Map. */
const INDEX_FROM = 8;

export class ChannelTable {
  private readonly list: ConnectionChannel[] = [];
  private index: Map<number, ConnectionChannel> | null = null;
  /** The group channel of the group-routed channels: allocated with the first, kept after the last closes. */
  groupId = 0;
  /** Group-routed channels open. */
  groupSize = 0;
  /** Whether the group already has the current jobs (a new member then only records them). */
  groupPrimed = false;
  /** Some channel has accepted shares waiting for their SubmitShares.Success. */
  pendingAny = false;

  get size(): number {
    return this.list.length;
  }

  /** Records in opening order. */
  get entries(): readonly ConnectionChannel[] {
    return this.list;
  }

  add(channel: Channel, route: ChannelRoute): ConnectionChannel {
    const entry: ConnectionChannel = { channel, route, rateTokens: 0, rateLastMs: -1, pendingCount: 0, pendingLastSequence: 0, pendingDifficultySum: 0 };
    this.list.push(entry);
    if (route === "group") this.groupSize++;
    if (this.index !== null) this.index.set(channel.id, entry);
    else if (this.list.length > INDEX_FROM) this.index = new Map(this.list.map((e) => [e.channel.id, e]));
    return entry;
  }

  get(channelId: number): ConnectionChannel | undefined {
    if (this.index !== null) return this.index.get(channelId);
    for (const e of this.list) if (e.channel.id === channelId) return e;
    return undefined;
  }

  delete(channelId: number): boolean {
    const i = this.list.findIndex((e) => e.channel.id === channelId);
    if (i < 0) return false;
    if ((this.list[i] as ConnectionChannel).route === "group") this.groupSize--;
    this.list.splice(i, 1);
    this.index?.delete(channelId);
    return true;
  }
}
