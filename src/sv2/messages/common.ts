/** Common protocol messages (spec 03 §3.6), shared by every SV2 sub-protocol. */
import { sizeStr0_255 } from "../codec.ts";
import { defineMessage } from "./define.ts";
import type { MessageCodec } from "./define.ts";

/** 0x00, client → server: the first frame after the handshake. */
export interface SetupConnection {
  readonly type: "SetupConnection";
  /** 0 mining, 1 job declaration, 2 template distribution (see `Protocol`). */
  protocol: number;
  minVersion: number;
  maxVersion: number;
  /** Protocol-specific feature flags (see `MiningSetupFlags`). */
  flags: number;
  endpointHost: string;
  endpointPort: number;
  vendor: string;
  hardwareVersion: string;
  firmware: string;
  deviceId: string;
}

/** 0x01, server → client. `flags` have server-side meanings (see `MiningSuccessFlags`). */
export interface SetupConnectionSuccess {
  readonly type: "SetupConnectionSuccess";
  usedVersion: number;
  flags: number;
}

/** 0x02, server → client. `flags`: the unsupported request bits (0 if the error is about something else). */
export interface SetupConnectionError {
  readonly type: "SetupConnectionError";
  flags: number;
  errorCode: string;
}

/** 0x03, server → client, channel message. */
export interface ChannelEndpointChanged {
  readonly type: "ChannelEndpointChanged";
  channelId: number;
}

/** 0x04, server → client. Empty host / port 0 mean "the current one". */
export interface Reconnect {
  readonly type: "Reconnect";
  newHost: string;
  newPort: number;
}

export type CommonMessage = SetupConnection | SetupConnectionSuccess | SetupConnectionError | ChannelEndpointChanged | Reconnect;

export const SetupConnectionCodec: MessageCodec<SetupConnection> = defineMessage<SetupConnection>({
  type: "SetupConnection",
  name: "SetupConnection",
  protocol: "common",
  extensionId: 0,
  msgType: 0x00,
  channelMsg: false,
  size: (m) =>
    1 + 2 + 2 + 4 + sizeStr0_255(m.endpointHost) + 2 + sizeStr0_255(m.vendor) + sizeStr0_255(m.hardwareVersion) +
    sizeStr0_255(m.firmware) + sizeStr0_255(m.deviceId),
  write(w, m) {
    w.u8(m.protocol, "protocol");
    w.u16(m.minVersion, "minVersion");
    w.u16(m.maxVersion, "maxVersion");
    w.u32(m.flags, "flags");
    w.str0_255(m.endpointHost, "endpointHost");
    w.u16(m.endpointPort, "endpointPort");
    w.str0_255(m.vendor, "vendor");
    w.str0_255(m.hardwareVersion, "hardwareVersion");
    w.str0_255(m.firmware, "firmware");
    w.str0_255(m.deviceId, "deviceId");
  },
  read: (r) => ({
    type: "SetupConnection",
    protocol: r.u8("protocol"),
    minVersion: r.u16("minVersion"),
    maxVersion: r.u16("maxVersion"),
    flags: r.u32("flags"),
    endpointHost: r.str0_255("endpointHost"),
    endpointPort: r.u16("endpointPort"),
    vendor: r.str0_255("vendor"),
    hardwareVersion: r.str0_255("hardwareVersion"),
    firmware: r.str0_255("firmware"),
    deviceId: r.str0_255("deviceId"),
  }),
});

export const SetupConnectionSuccessCodec: MessageCodec<SetupConnectionSuccess> = defineMessage<SetupConnectionSuccess>({
  type: "SetupConnectionSuccess",
  name: "SetupConnection.Success",
  protocol: "common",
  extensionId: 0,
  msgType: 0x01,
  channelMsg: false,
  size: () => 6,
  write(w, m) {
    w.u16(m.usedVersion, "usedVersion");
    w.u32(m.flags, "flags");
  },
  read: (r) => ({ type: "SetupConnectionSuccess", usedVersion: r.u16("usedVersion"), flags: r.u32("flags") }),
});

export const SetupConnectionErrorCodec: MessageCodec<SetupConnectionError> = defineMessage<SetupConnectionError>({
  type: "SetupConnectionError",
  name: "SetupConnection.Error",
  protocol: "common",
  extensionId: 0,
  msgType: 0x02,
  channelMsg: false,
  size: (m) => 4 + sizeStr0_255(m.errorCode),
  write(w, m) {
    w.u32(m.flags, "flags");
    w.str0_255(m.errorCode, "errorCode");
  },
  read: (r) => ({ type: "SetupConnectionError", flags: r.u32("flags"), errorCode: r.str0_255("errorCode") }),
});

export const ChannelEndpointChangedCodec: MessageCodec<ChannelEndpointChanged> = defineMessage<ChannelEndpointChanged>({
  type: "ChannelEndpointChanged",
  name: "ChannelEndpointChanged",
  protocol: "common",
  extensionId: 0,
  msgType: 0x03,
  channelMsg: true,
  size: () => 4,
  write(w, m) {
    w.u32(m.channelId, "channelId");
  },
  read: (r) => ({ type: "ChannelEndpointChanged", channelId: r.u32("channelId") }),
});

export const ReconnectCodec: MessageCodec<Reconnect> = defineMessage<Reconnect>({
  type: "Reconnect",
  name: "Reconnect",
  protocol: "common",
  extensionId: 0,
  msgType: 0x04,
  channelMsg: false,
  size: (m) => sizeStr0_255(m.newHost) + 2,
  write(w, m) {
    w.str0_255(m.newHost, "newHost");
    w.u16(m.newPort, "newPort");
  },
  read: (r) => ({ type: "Reconnect", newHost: r.str0_255("newHost"), newPort: r.u16("newPort") }),
});

export const COMMON_CODECS = [
  SetupConnectionCodec,
  SetupConnectionSuccessCodec,
  SetupConnectionErrorCodec,
  ChannelEndpointChangedCodec,
  ReconnectCodec,
] as const;
