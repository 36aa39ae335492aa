// FanoutQueue: fan-outs run one after another, in chunks that let other work run between them.
import { expect, test } from "bun:test";
import { FanoutQueue } from "../../src/server/fanout.ts";

test("fan-outs run in order, each in chunks with other work between, targets taken when each starts", async () => {
  const q = new FanoutQueue(3);
  const log: string[] = [];
  let later = ["x"];
  const finished: number[] = [];
  q.run(() => [1, 2, 3, 4, 5, 6, 7], (n) => log.push(`a${n}`), (ms) => finished.push(ms));
  // Queued behind the first: its targets are read only when it starts.
  q.run(() => later, (s) => log.push(`b${s}`), (ms) => finished.push(ms));
  later = ["y", "z"];
  // Work scheduled now runs between the first fan-out's chunks (after the second, whose turn was
  // already queued when the first chunk ended).
  setImmediate(() => log.push("other"));
  expect(log).toEqual(["a1", "a2", "a3"]);
  while (finished.length < 2) await Bun.sleep(1);
  expect(log).toEqual(["a1", "a2", "a3", "a4", "a5", "a6", "other", "a7", "by", "bz"]);
  expect(finished.every((ms) => ms >= 0)).toBe(true);
  // Idle again: a new fan-out starts at once.
  q.run(() => [9], (n) => log.push(`c${n}`), () => {});
  expect(log.at(-1)).toBe("c9");
});
