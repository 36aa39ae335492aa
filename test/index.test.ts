// The library's public surface carries the seed API under its TypeScript names.
import { expect, test } from "bun:test";
import * as lib from "../src/index.ts";
import pkg from "../package.json";

test("the seed's types and classes are exported", () => {
  for (const name of ["StratumV2Server", "StratumV2Pool", "BlockTemplateGenerator", "TlvEncoder", "TlvDecoder", "StratumV2Error", "SetupConnectionMessage", "SubmitSharesMessage", "NewMiningJobMessage"]) {
    expect(typeof (lib as Record<string, unknown>)[name]).toBe("function");
  }
  expect(typeof lib.sv2.encodeFrame).toBe("function");
  expect(typeof lib.noise.ResponderSession).toBe("function");
  expect(typeof lib.bitcoin.sha256d).toBe("function");
});

test("the version constant follows package.json", () => {
  expect(lib.VERSION).toBe(pkg.version);
});
