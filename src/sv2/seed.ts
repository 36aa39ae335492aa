/**
 * The seed design's `StratumV2Message` trait (`message_type`, `to_bytes`, `from_bytes`) over the real
 * SV2 codec. The seed serialised its own structs with bincode under invented type tags (0x0001…0x0032);
 * here each seed message wraps the SV2 message it stands for, `messageType()` is that message's real
 * msg_type and the bytes are its real SV2 payload (no frame header):
 *
 *   SetupConnectionMessage          → SetupConnection (0x00)
 *   SetupConnectionSuccessMessage   → SetupConnection.Success (0x01)
 *   SetupConnectionErrorMessage     → SetupConnection.Error (0x02)
 *   OpenMiningChannelMessage        → OpenStandardMiningChannel (0x10)
 *   OpenMiningChannelSuccessMessage → OpenStandardMiningChannel.Success (0x11)
 *   OpenMiningChannelErrorMessage   → OpenMiningChannel.Error (0x12)
 *   NewMiningJobMessage             → NewMiningJob (0x15)
 *   SetNewPrevHashMessage           → SetNewPrevHash (0x20)
 *   SubmitSharesMessage             → SubmitSharesStandard (0x1a) (one share per message, as in SV2)
 *   SubmitSharesSuccessMessage      → SubmitShares.Success (0x1c)
 *   SubmitSharesErrorMessage        → SubmitShares.Error (0x1d)
 *
 * `fromBytes` is a static method on each class (TypeScript interfaces cannot declare statics);
 * `StratumV2MessageClass<T>` types it.
 */
import { codecOf, encodeFrame, encodePayload } from "./messages/registry.ts";
import type { MessageOf, Sv2MessageType } from "./messages/registry.ts";
import type { SetupConnection, SetupConnectionError, SetupConnectionSuccess } from "./messages/common.ts";
import type {
  NewMiningJob,
  OpenMiningChannelError,
  OpenStandardMiningChannel,
  OpenStandardMiningChannelSuccess,
  SetNewPrevHash,
  SubmitSharesError,
  SubmitSharesStandard,
  SubmitSharesSuccess,
} from "./messages/mining.ts";

export interface StratumV2Message {
  /** The SV2 msg_type. */
  messageType(): number;
  /** The SV2 payload. */
  toBytes(): Uint8Array;
}

/** The static side of a seed message class. */
export interface StratumV2MessageClass<T extends StratumV2Message> {
  fromBytes(data: Uint8Array): T;
}

abstract class SeedMessage<T extends Sv2MessageType> implements StratumV2Message {
  readonly message: MessageOf<T>;

  protected constructor(message: MessageOf<T>) {
    this.message = message;
  }

  messageType(): number {
    return codecOf(this.message.type).msgType;
  }

  toBytes(): Uint8Array {
    return encodePayload(this.message);
  }

  /** The whole plaintext SV2 frame (header + payload). */
  toFrame(): Uint8Array {
    return encodeFrame(this.message);
  }
}

function decodeAs<T extends Sv2MessageType>(type: T, data: Uint8Array): MessageOf<T> {
  return codecOf(type).decode(data);
}

export class SetupConnectionMessage extends SeedMessage<"SetupConnection"> {
  constructor(message: SetupConnection) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SetupConnectionMessage {
    return new SetupConnectionMessage(decodeAs("SetupConnection", data));
  }
}

export class SetupConnectionSuccessMessage extends SeedMessage<"SetupConnectionSuccess"> {
  constructor(message: SetupConnectionSuccess) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SetupConnectionSuccessMessage {
    return new SetupConnectionSuccessMessage(decodeAs("SetupConnectionSuccess", data));
  }
}

export class SetupConnectionErrorMessage extends SeedMessage<"SetupConnectionError"> {
  constructor(message: SetupConnectionError) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SetupConnectionErrorMessage {
    return new SetupConnectionErrorMessage(decodeAs("SetupConnectionError", data));
  }
}

export class OpenMiningChannelMessage extends SeedMessage<"OpenStandardMiningChannel"> {
  constructor(message: OpenStandardMiningChannel) {
    super(message);
  }
  static fromBytes(data: Uint8Array): OpenMiningChannelMessage {
    return new OpenMiningChannelMessage(decodeAs("OpenStandardMiningChannel", data));
  }
}

export class OpenMiningChannelSuccessMessage extends SeedMessage<"OpenStandardMiningChannelSuccess"> {
  constructor(message: OpenStandardMiningChannelSuccess) {
    super(message);
  }
  static fromBytes(data: Uint8Array): OpenMiningChannelSuccessMessage {
    return new OpenMiningChannelSuccessMessage(decodeAs("OpenStandardMiningChannelSuccess", data));
  }
}

export class OpenMiningChannelErrorMessage extends SeedMessage<"OpenMiningChannelError"> {
  constructor(message: OpenMiningChannelError) {
    super(message);
  }
  static fromBytes(data: Uint8Array): OpenMiningChannelErrorMessage {
    return new OpenMiningChannelErrorMessage(decodeAs("OpenMiningChannelError", data));
  }
}

export class NewMiningJobMessage extends SeedMessage<"NewMiningJob"> {
  constructor(message: NewMiningJob) {
    super(message);
  }
  static fromBytes(data: Uint8Array): NewMiningJobMessage {
    return new NewMiningJobMessage(decodeAs("NewMiningJob", data));
  }
}

export class SetNewPrevHashMessage extends SeedMessage<"SetNewPrevHash"> {
  constructor(message: SetNewPrevHash) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SetNewPrevHashMessage {
    return new SetNewPrevHashMessage(decodeAs("SetNewPrevHash", data));
  }
}

export class SubmitSharesMessage extends SeedMessage<"SubmitSharesStandard"> {
  constructor(message: SubmitSharesStandard) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SubmitSharesMessage {
    return new SubmitSharesMessage(decodeAs("SubmitSharesStandard", data));
  }
}

export class SubmitSharesSuccessMessage extends SeedMessage<"SubmitSharesSuccess"> {
  constructor(message: SubmitSharesSuccess) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SubmitSharesSuccessMessage {
    return new SubmitSharesSuccessMessage(decodeAs("SubmitSharesSuccess", data));
  }
}

export class SubmitSharesErrorMessage extends SeedMessage<"SubmitSharesError"> {
  constructor(message: SubmitSharesError) {
    super(message);
  }
  static fromBytes(data: Uint8Array): SubmitSharesErrorMessage {
    return new SubmitSharesErrorMessage(decodeAs("SubmitSharesError", data));
  }
}
