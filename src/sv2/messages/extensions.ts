/**
 * Extension 0x0001 (extensions negotiation, spec extensions/0x0001): three messages sent with
 * extension_type 0x0001 and no channel_msg bit, right after SetupConnection.Success.
 */
import { readU16Item, writeU16Item } from "../codec.ts";
import { defineMessage } from "./define.ts";
import type { MessageCodec } from "./define.ts";

/** 0x00, client → server. */
export interface RequestExtensions {
  readonly type: "RequestExtensions";
  requestId: number;
  requestedExtensions: number[];
}

/** 0x01, server → client. */
export interface RequestExtensionsSuccess {
  readonly type: "RequestExtensionsSuccess";
  requestId: number;
  supportedExtensions: number[];
}

/** 0x02, server → client. */
export interface RequestExtensionsError {
  readonly type: "RequestExtensionsError";
  requestId: number;
  unsupportedExtensions: number[];
  /** Extensions the server requires that the client did not request. */
  requiredExtensions: number[];
}

export type ExtensionsNegotiationMessage = RequestExtensions | RequestExtensionsSuccess | RequestExtensionsError;

export const RequestExtensionsCodec: MessageCodec<RequestExtensions> = defineMessage<RequestExtensions>({
  type: "RequestExtensions",
  name: "RequestExtensions",
  protocol: "extensions-negotiation",
  extensionId: 0x0001,
  msgType: 0x00,
  channelMsg: false,
  size: (m) => 2 + 2 + 2 * m.requestedExtensions.length,
  write(w, m) {
    w.u16(m.requestId, "requestId");
    w.seq0_64k(m.requestedExtensions, "requestedExtensions", writeU16Item);
  },
  read: (r) => ({
    type: "RequestExtensions",
    requestId: r.u16("requestId"),
    requestedExtensions: r.seq0_64k("requestedExtensions", 2, readU16Item),
  }),
});

export const RequestExtensionsSuccessCodec: MessageCodec<RequestExtensionsSuccess> = defineMessage<RequestExtensionsSuccess>({
  type: "RequestExtensionsSuccess",
  name: "RequestExtensions.Success",
  protocol: "extensions-negotiation",
  extensionId: 0x0001,
  msgType: 0x01,
  channelMsg: false,
  size: (m) => 2 + 2 + 2 * m.supportedExtensions.length,
  write(w, m) {
    w.u16(m.requestId, "requestId");
    w.seq0_64k(m.supportedExtensions, "supportedExtensions", writeU16Item);
  },
  read: (r) => ({
    type: "RequestExtensionsSuccess",
    requestId: r.u16("requestId"),
    supportedExtensions: r.seq0_64k("supportedExtensions", 2, readU16Item),
  }),
});

export const RequestExtensionsErrorCodec: MessageCodec<RequestExtensionsError> = defineMessage<RequestExtensionsError>({
  type: "RequestExtensionsError",
  name: "RequestExtensions.Error",
  protocol: "extensions-negotiation",
  extensionId: 0x0001,
  msgType: 0x02,
  channelMsg: false,
  size: (m) => 2 + 2 + 2 * m.unsupportedExtensions.length + 2 + 2 * m.requiredExtensions.length,
  write(w, m) {
    w.u16(m.requestId, "requestId");
    w.seq0_64k(m.unsupportedExtensions, "unsupportedExtensions", writeU16Item);
    w.seq0_64k(m.requiredExtensions, "requiredExtensions", writeU16Item);
  },
  read: (r) => ({
    type: "RequestExtensionsError",
    requestId: r.u16("requestId"),
    unsupportedExtensions: r.seq0_64k("unsupportedExtensions", 2, readU16Item),
    requiredExtensions: r.seq0_64k("requiredExtensions", 2, readU16Item),
  }),
});

export const EXTENSIONS_NEGOTIATION_CODECS = [RequestExtensionsCodec, RequestExtensionsSuccessCodec, RequestExtensionsErrorCodec] as const;
