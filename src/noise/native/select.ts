/**
 * Picks the AEAD implementation by name. "wasm" (the default) and "pure" need nothing but the
 * binary; "libsodium" and "tcc" load native code through bun:ffi and fall back to pure when that
 * fails, reporting why, so a configuration that names them still starts on a bare box.
 */
import type { AeadProvider } from "../aead.ts";
import { nobleAead } from "../aead.ts";
import { pureAead } from "../chacha20poly1305.ts";
import { loadSodiumAead } from "./sodium.ts";
import { compileTccAead } from "./tcc.ts";
import { loadWasmAead } from "../wasm/aead.ts";

export type AeadChoice = "pure" | "wasm" | "noble" | "libsodium" | "tcc" | "auto";

export const AEAD_CHOICES: readonly AeadChoice[] = ["pure", "wasm", "noble", "libsodium", "tcc", "auto"];

export interface AeadSelection {
  readonly provider: AeadProvider;
  /** Set when the requested implementation was unavailable and pure TS is used instead. */
  readonly fallbackReason: string | null;
}

/**
 * The default is "wasm" (measured fastest without native code, bench/noise.ts; pure TS when
 * WebAssembly is unavailable). "auto" = libsodium when it loads, else the same as "wasm".
 */
export function selectAead(choice: AeadChoice = "wasm"): AeadSelection {
  switch (choice) {
    case "pure":
      return { provider: pureAead, fallbackReason: null };
    case "noble":
      return { provider: nobleAead, fallbackReason: null };
    case "wasm": {
      const wasm = loadWasmAead();
      return wasm !== null ? { provider: wasm, fallbackReason: null } : { provider: pureAead, fallbackReason: "WebAssembly is not available" };
    }
    case "libsodium":
    case "auto": {
      const sodium = loadSodiumAead();
      if (sodium !== null) return { provider: sodium, fallbackReason: null };
      if (choice === "auto") return { provider: loadWasmAead() ?? pureAead, fallbackReason: null };
      return { provider: pureAead, fallbackReason: "libsodium could not be loaded (install libsodium23)" };
    }
    case "tcc": {
      const tcc = compileTccAead();
      return tcc !== null ? { provider: tcc, fallbackReason: null } : { provider: pureAead, fallbackReason: "TinyCC compilation failed" };
    }
  }
}
