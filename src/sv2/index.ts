/** Public API of the SV2 binary codec (pure: no I/O). */
export { Sv2CodecError } from "./errors.ts";
export type { Sv2CodecErrorReason } from "./errors.ts";
export * from "./codec.ts";
export * from "./frame.ts";
export * from "./constants.ts";
export * from "./messages/define.ts";
export * from "./messages/common.ts";
export * from "./messages/mining.ts";
export * from "./messages/template-distribution.ts";
export * from "./messages/job-declaration.ts";
export * from "./messages/extensions.ts";
export * from "./messages/registry.ts";
export * from "./tlv.ts";
export * from "./extension-tlv.ts";
export * from "./seed.ts";
