/** The Bitcoin primitives, pure and synchronous. */
export * from "./bytes.ts";
export * from "./hash.ts";
export * from "./compactsize.ts";
export * from "./target.ts";
export * from "./script.ts";
export * from "./merkle.ts";
export * from "./header.ts";
export * from "./tx.ts";
export * from "./block.ts";
export * from "./witness.ts";
export * from "./coinbase.ts";
export * from "./subsidy.ts";
export * from "./network.ts";
export * from "./address.ts";
