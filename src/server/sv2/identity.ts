/**
 * The pool's Noise identity: the authority key (whose public half miners configure), the static key,
 * and the certificate the authority signs for the static key. Keys live in the data dir; missing ones
 * are created (0600) at first start so `npm start` works out of the box. The certificate is re-signed
 * before it expires, so a pool that runs for months never serves an expired one.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Clock } from "../../pool/clock.ts";
import { certificateNeedsRenewal, DEFAULT_CERTIFICATE_POLICY, type CertificatePolicy } from "../../noise/certificate.ts";
import { ellSwiftKeyPairFromSecret, randomSecretKey, type EllSwiftKeyPair } from "../../noise/ellswift.ts";
import { createResponderIdentity, type ResponderIdentity } from "../../noise/handshake.ts";
import { encodeAuthorityPublicKey, generateAuthorityKeyPair, type AuthorityKeyPair } from "../../noise/keys.ts";
import { readAuthorityKeyFile, readStaticKeyFile, writeAuthorityKeyFile, writeStaticKeyFile } from "../keyfiles.ts";

export interface KeyPaths {
  authority: string;
  static: string;
}

export function keyPaths(dataDir: string, authorityFile: string, staticFile: string): KeyPaths {
  const resolve = (p: string): string => (isAbsolute(p) ? p : join(dataDir, p));
  return { authority: resolve(authorityFile), static: resolve(staticFile) };
}

export interface LoadedKeys {
  authority: AuthorityKeyPair;
  staticSecret: Uint8Array;
  /** Which files were created now (first start). */
  created: string[];
}

/** Reads both key files, creating the missing ones. Refuses group/world-readable secrets. */
export function loadOrCreateKeys(paths: KeyPaths): LoadedKeys {
  const created: string[] = [];
  let authority: AuthorityKeyPair;
  if (existsSync(paths.authority)) authority = readAuthorityKeyFile(paths.authority);
  else {
    authority = generateAuthorityKeyPair();
    writeAuthorityKeyFile(paths.authority, authority);
    created.push(paths.authority);
  }
  let staticSecret: Uint8Array;
  if (existsSync(paths.static)) staticSecret = readStaticKeyFile(paths.static);
  else {
    staticSecret = randomSecretKey();
    writeStaticKeyFile(paths.static, staticSecret);
    created.push(paths.static);
  }
  return { authority, staticSecret, created };
}

export class PoolIdentity {
  private current: ResponderIdentity;
  private readonly staticKey: EllSwiftKeyPair;
  readonly authorityPublicKey: string;

  constructor(
    private readonly authority: AuthorityKeyPair,
    staticSecret: Uint8Array,
    private readonly clock: Clock,
    private readonly policy: CertificatePolicy = DEFAULT_CERTIFICATE_POLICY,
  ) {
    this.staticKey = ellSwiftKeyPairFromSecret(staticSecret);
    this.authorityPublicKey = encodeAuthorityPublicKey(authority.xonly);
    this.current = this.sign();
  }

  /** The identity to use for a handshake now; re-signs the certificate when it is due. */
  get identity(): ResponderIdentity {
    if (certificateNeedsRenewal(this.current.certificate, this.nowSec(), this.policy)) this.current = this.sign();
    return this.current;
  }

  private nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  private sign(): ResponderIdentity {
    return createResponderIdentity({ authoritySecret: this.authority.secret, nowSec: this.nowSec(), policy: this.policy, staticKey: this.staticKey });
  }
}
