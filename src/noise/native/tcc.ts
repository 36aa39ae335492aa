/**
 * ChaCha20-Poly1305 in C, compiled at start-up by bun:ffi's embedded TinyCC. Works inside a
 * `bun build --compile` binary provided the source is written to a real file first (TinyCC cannot
 * read the binary's embedded /$bunfs paths); this loader writes it to a private temporary
 * directory and removes it after compiling. Returns null when compilation is impossible.
 */
import { cc, FFIType } from "bun:ffi";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AeadCipher, AeadProvider } from "../aead.ts";
import { FfiAead } from "./ffi-aead.ts";
import type { NativeAeadCall } from "./ffi-aead.ts";
import { CHACHA20POLY1305_C_SOURCE } from "./chacha20poly1305-c.ts";

export function compileTccAead(): AeadProvider | null {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), "sv2pool-tcc-"));
    const path = join(dir, "chacha20poly1305.c");
    writeFileSync(path, CHACHA20POLY1305_C_SOURCE, { mode: 0o600 });
    const signature = { args: [FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 };
    const { symbols } = cc({ source: path, symbols: { sv2_aead_seal: signature, sv2_aead_open: signature } });
    const seal = symbols.sv2_aead_seal as NativeAeadCall;
    const open = symbols.sv2_aead_open as NativeAeadCall;
    return { name: "tcc", create: (key: Uint8Array): AeadCipher => new FfiAead("tcc", key, seal, open) };
  } catch {
    return null;
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}
