import { expect, test } from "bun:test";

test("bun runs the suite", () => {
  expect(typeof Bun.version).toBe("string");
});
