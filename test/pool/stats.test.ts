import { describe, expect, test } from "bun:test";
import { HashrateMeter, MeteredShareStats, ShareStats } from "../../src/pool/stats.ts";

const D1 = 2 ** 32;
const T0 = 1_700_000_000_000; // a bucket boundary (multiple of 10 s)

describe("HashrateMeter", () => {
  test("sums the buckets inside the window, the current one included", () => {
    const m = new HashrateMeter();
    m.add(1, T0);
    m.add(2, T0 + 5_000);
    m.add(4, T0 + 20_000);
    expect(m.hashrate(T0 + 25_000)).toBe((7 * D1) / 600);
    // A 10-s window from T0+25s reaches back to T0+15s: only the bucket starting at T0+20s.
    expect(m.hashrate(T0 + 25_000, 10_000)).toBe((4 * D1) / 10);
  });

  test("buckets older than the window drop out; slots are reused after a gap", () => {
    const m = new HashrateMeter();
    m.add(3, T0);
    expect(m.hashrate(T0 + 595_000)).toBe((3 * D1) / 600);
    expect(m.hashrate(T0 + 610_000)).toBe(0);
    // 61 buckets later the same ring slot is written again: the old sum must not come back.
    m.add(5, T0 + 610_000);
    expect(m.hashrate(T0 + 611_000)).toBe((5 * D1) / 600);
    // A jump of more than the whole ring clears everything.
    m.add(1, T0 + 10 * 3_600_000);
    expect(m.hashrate(T0 + 10 * 3_600_000)).toBe(D1 / 600);
  });

  test("a clock stepped back: shares within the horizon still count, older ones are dropped", () => {
    const m = new HashrateMeter();
    m.add(1, T0 + 100_000);
    m.add(2, T0 + 50_000);
    m.add(8, T0 - 1_000_000);
    expect(m.hashrate(T0 + 100_000)).toBe((3 * D1) / 600);
    // Buckets after `now` are not counted (as before the step).
    expect(m.hashrate(T0 + 60_000)).toBe((2 * D1) / 600);
  });
});

describe("ShareStats", () => {
  test("counters, rejections by reason, and a meter only where one is kept", () => {
    const s = new ShareStats();
    const other = new ShareStats();
    expect(s.counters.rejectedByReason).toEqual({});
    s.accept(2, 5, T0);
    s.reject("stale-share", T0 + 1);
    s.reject("stale-share", T0 + 2);
    s.reject("duplicate-share", T0 + 3);
    expect(s.counters).toMatchObject({ accepted: 1, rejected: 3, stale: 2, acceptedDifficulty: 2, bestShareDifficulty: 5, lastShareMs: T0 + 3 });
    expect(s.counters.rejectedByReason).toEqual({ "stale-share": 2, "duplicate-share": 1 });
    // The empty map of rejections is shared until the first one, never written through.
    expect(other.counters.rejectedByReason).toEqual({});
    expect("meter" in s).toBe(false);

    const metered = new MeteredShareStats();
    metered.accept(3, 3, T0);
    expect(metered.counters.accepted).toBe(1);
    expect(metered.meter.hashrate(T0)).toBe((3 * D1) / 600);
  });
});
