import { expect, test } from "bun:test";
import { ExtranonceAllocator } from "../../src/pool/extranonce.ts";

const counter = (p: Uint8Array): number => ((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number);

test("ExtranonceAllocator: sequential counters after the server id, 0 never used", () => {
  const a = new ExtranonceAllocator(7);
  expect([...a.allocate()]).toEqual([7, 0, 0, 1]);
  expect([...a.allocate()]).toEqual([7, 0, 0, 2]);
  expect(a.allocated).toBe(2);
});

test("ExtranonceAllocator: after the wrap, prefixes still open (as listed then) or allocated since are skipped", () => {
  // 3-bit counters: 1..7.
  const open = new Map<number, Uint8Array>();
  const a = new ExtranonceAllocator(1, () => open.values(), 3);
  const take = (): number => {
    const p = a.allocate();
    open.set(counter(p), p);
    return counter(p);
  };
  const drop = (n: number): void => {
    a.release(open.get(n) as Uint8Array);
    open.delete(n);
  };
  expect([take(), take(), take()]).toEqual([1, 2, 3]);
  drop(2);
  expect([take(), take(), take(), take()]).toEqual([4, 5, 6, 7]); // 7 wraps the counter
  drop(5);
  // In use now: 1, 3, 4, 6, 7. Free: 2, 5.
  expect(take()).toBe(2);
  expect(take()).toBe(5);
  expect(() => a.allocate()).toThrow("exhausted");
  drop(4);
  expect(take()).toBe(4);
  expect(a.allocated).toBe(7);
});

test("ExtranonceAllocator: prefixes of another server id are not released", () => {
  const a = new ExtranonceAllocator(2, () => [], 2);
  a.allocate();
  a.release(Uint8Array.of(3, 0, 0, 1));
  expect(a.allocated).toBe(1);
});
