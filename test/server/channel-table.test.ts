import { expect, test } from "bun:test";
import type { Channel } from "../../src/pool/channel.ts";
import { ChannelTable } from "../../src/server/sv2/channel-table.ts";

/** The table reads only the channel's id. */
const channel = (id: number): Channel => ({ id }) as Channel;

test("ChannelTable: lookups, deletes and opening order, below and past the indexed size", () => {
  const t = new ChannelTable();
  for (let id = 1; id <= 20; id++) {
    t.add(channel(id * 10), id % 3 === 0 ? "extended" : "group");
    // Every channel added so far is found, with the index (past 8) and without.
    for (let k = 1; k <= id; k++) expect(t.get(k * 10)?.channel.id).toBe(k * 10);
    expect(t.get(id * 10 + 1)).toBeUndefined();
  }
  expect(t.size).toBe(20);
  // Group-routed: every id not divisible by 3 (14 of 20).
  expect(t.groupSize).toBe(14);
  expect(t.delete(50)).toBe(true);
  expect(t.groupSize).toBe(13);
  expect(t.delete(50)).toBe(false);
  expect(t.get(50)).toBeUndefined();
  expect(t.entries.map((e) => e.channel.id)).toEqual([10, 20, 30, 40, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200]);
  expect(t.get(30)?.route).toBe("extended");
  expect(t.delete(30)).toBe(true);
  expect(t.groupSize).toBe(13);
  const fresh = t.get(200);
  expect(fresh).toMatchObject({ rateLastMs: -1, pendingCount: 0 });

  const small = new ChannelTable();
  small.add(channel(7), "solo");
  expect(small.delete(7)).toBe(true);
  expect(small.size).toBe(0);
  expect(small.get(7)).toBeUndefined();
});
