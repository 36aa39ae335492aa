// Public surface of the encrypted transport (src/noise). Everything here is pure except the
// native AEAD loaders re-exported from ./native/select.ts, which load code only when called.
export { NoiseError, CertificateError, NotAHandshakeError } from "./errors.ts";
export type { NoiseErrorCode, CertificateFailure, ForeignProtocol } from "./errors.ts";

export {
  ellswiftDecode,
  ellswiftEncode,
  ellswiftCreate,
  ellswiftEcdhXonly,
  v2Ecdh,
  xswiftec,
  xswiftecInv,
  xonlyPublicKey,
  generateEllSwiftKeyPair,
  ellSwiftKeyPairFromSecret,
  randomSecretKey,
  defaultRandom,
} from "./ellswift.ts";
export type { EllSwiftKeyPair, RandomSource } from "./ellswift.ts";

export {
  AUTHORITY_KEY_VERSION,
  KeyDecodeError,
  authorityPublicKey,
  decodeAuthorityPublicKey,
  decodeSecretKey,
  encodeAuthorityPublicKey,
  encodeSecretKey,
  generateAuthorityKeyPair,
} from "./keys.ts";
export type { AuthorityKeyPair, KeyDecodeFailure } from "./keys.ts";

export {
  CERTIFICATE_VERSION,
  DEFAULT_CERTIFICATE_LEEWAY_SEC,
  DEFAULT_CERTIFICATE_POLICY,
  SIGNATURE_NOISE_MESSAGE_LENGTH,
  assertValidCertificate,
  certificateMessageHash,
  certificateNeedsRenewal,
  certificateRenewalTime,
  certificateWindow,
  decodeCertificate,
  encodeCertificate,
  signCertificate,
  verifyCertificate,
} from "./certificate.ts";
export type { CertificatePolicy, CertificateVerdict, SignatureNoiseMessage, SignCertificateOptions } from "./certificate.ts";

export { ACT1_LENGTH, ACT2_LENGTH, InitiatorHandshake, ResponderHandshake, createResponderIdentity } from "./handshake.ts";
export type {
  CreateIdentityOptions,
  InitiatorHandshakeOptions,
  InitiatorResult,
  ResponderHandshakeOptions,
  ResponderIdentity,
  TransportKeys,
} from "./handshake.ts";
export { PROTOCOL_NAME } from "./symmetric-state.ts";
export type { HandshakeTraceEvent } from "./symmetric-state.ts";

export { CipherState, MAX_NONCE, defaultAeadProvider } from "./cipher-state.ts";
export { nobleAead } from "./aead.ts";
export type { AeadCipher, AeadProvider } from "./aead.ts";
export { pureAead } from "./chacha20poly1305.ts";
export { AEAD_CHOICES, selectAead } from "./native/select.ts";
export type { AeadChoice, AeadSelection } from "./native/select.ts";

export {
  CHANNEL_MSG_BIT,
  ENCRYPTED_HEADER_LENGTH,
  FRAME_HEADER_LENGTH,
  MAX_CHUNK_PLAINTEXT,
  MAX_PAYLOAD_LENGTH,
  FrameDecoder,
  encryptFrame,
  encryptSerializedFrame,
  encryptedFrameLength,
  encryptedPayloadLength,
  isChannelMessage,
} from "./transport.ts";
export type { FrameDecoderOptions, Sv2Frame } from "./transport.ts";

export { InitiatorSession, ResponderSession } from "./session.ts";
export type { InitiatorSessionOptions, NoiseClock, ResponderSessionOptions, SessionOutput, SessionState } from "./session.ts";
export { EphemeralKeyPool } from "./ephemeral-pool.ts";
export { classifyFirstBytes } from "./foreign-protocol.ts";
