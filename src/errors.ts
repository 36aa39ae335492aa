/**
 * The error type of the whole library, with the kinds of the seed design (blvm-stratum-v2).
 * Every failure that crosses a module boundary is a StratumV2Error, so callers can branch on `kind`
 * instead of parsing messages.
 */
export type StratumV2ErrorKind =
  | "ModuleError"
  | "ProtocolError"
  | "PoolConnectionError"
  | "TemplateError"
  | "ConfigError"
  | "PoolError"
  | "ServerError";

export class StratumV2Error extends Error {
  readonly kind: StratumV2ErrorKind;

  constructor(kind: StratumV2ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = "StratumV2Error";
  }

  static module(message: string): StratumV2Error {
    return new StratumV2Error("ModuleError", message);
  }
  static protocol(message: string): StratumV2Error {
    return new StratumV2Error("ProtocolError", message);
  }
  static poolConnection(message: string): StratumV2Error {
    return new StratumV2Error("PoolConnectionError", message);
  }
  static template(message: string): StratumV2Error {
    return new StratumV2Error("TemplateError", message);
  }
  static config(message: string): StratumV2Error {
    return new StratumV2Error("ConfigError", message);
  }
  static pool(message: string): StratumV2Error {
    return new StratumV2Error("PoolError", message);
  }
  static server(message: string): StratumV2Error {
    return new StratumV2Error("ServerError", message);
  }
  /** Malformed Bitcoin data (a transaction, block or script that does not parse). */
  static invalidData(message: string): StratumV2Error {
    return new StratumV2Error("ProtocolError", message);
  }
}
