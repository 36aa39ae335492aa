/**
 * Compiles one of the embedded WebAssembly modules (base64 in a generated *-wasm.ts) with no
 * imports. Shared by the secp256k1 arithmetic and the AEAD; null when WebAssembly is unavailable
 * or the module does not validate, so each caller keeps its TypeScript fallback.
 */
export function instantiateEmbedded<T>(base64: string): T | null {
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as T;
  } catch {
    return null;
  }
}
