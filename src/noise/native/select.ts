/**
 * Picks the AEAD implementation by name. "pure" (the default everywhere) needs nothing but the
 * binary; "libsodium" and "tcc" load native code through bun:ffi and fall back to pure when that
 * fails, reporting why, so a configuration that names them still starts on a bare box.
 */
import type { AeadProvider } from "../aead.ts";
import { nobleAead } from "../aead.ts";
import { pureAead } from "../chacha20poly1305.ts";
import { loadSodiumAead } from "./sodium.ts";
import { compileTccAead } from "./tcc.ts";

export type AeadChoice = "pure" | "noble" | "libsodium" | "tcc" | "auto";

export const AEAD_CHOICES: readonly AeadChoice[] = ["pure", "noble", "libsodium", "tcc", "auto"];

export interface AeadSelection {
  readonly provider: AeadProvider;
  /** Set when the requested implementation was unavailable and pure TS is used instead. */
  readonly fallbackReason: string | null;
}

/** "auto" = libsodium when it loads (faster on payloads above ~1 kB), else pure. */
export function selectAead(choice: AeadChoice = "pure"): AeadSelection {
  switch (choice) {
    case "pure":
      return { provider: pureAead, fallbackReason: null };
    case "noble":
      return { provider: nobleAead, fallbackReason: null };
    case "libsodium":
    case "auto": {
      const sodium = loadSodiumAead();
      if (sodium !== null) return { provider: sodium, fallbackReason: null };
      return { provider: pureAead, fallbackReason: choice === "auto" ? null : "libsodium could not be loaded (install libsodium23)" };
    }
    case "tcc": {
      const tcc = compileTccAead();
      return tcc !== null ? { provider: tcc, fallbackReason: null } : { provider: pureAead, fallbackReason: "TinyCC compilation failed" };
    }
  }
}
