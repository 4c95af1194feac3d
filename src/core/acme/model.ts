/**
 * ACME (RFC 8555) objects as the core sees them: the resources a CA hands out (account, order,
 * authorization, challenge), with URLs as their identity, so a worker that restarts can read them
 * again from the CA. Dates are Dates; what a challenge needs answered is computed once here
 * (http-01 key authorization, dns-01 record name and TXT value), so callers never touch the JWK.
 */
import type { AcmeProblem } from './problem.js';

/** Where a CA lives: its directory URL and, when its TLS does not chain to a public root, the PEM roots to trust instead. */
export interface AcmeDirectory {
  url: string;
  /** PEM certificate(s) the directory's TLS chains to; when set, only these are trusted. */
  caBundlePem?: string | undefined;
}

/** RFC 8555 §7.3.4: the key id and the MAC key (base64url) the CA gave the operator. */
export interface ExternalAccountBinding {
  keyId: string;
  hmacKey: string;
}

export type AccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface AcmeAccount {
  /** The account URL (the JWS `kid`). */
  url: string;
  /** The account key, PEM (PKCS#8): the caller seals and keeps it. */
  keyPem: string;
  status: AccountStatus;
  /** True when this call registered the account; false when the key already had one. */
  created: boolean;
}

/** Only `dns` identifiers: names as requested, a wildcard as `*.example.com`. */
export interface Identifier {
  type: 'dns';
  value: string;
}

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface NewOrder {
  identifiers: Identifier[];
  /** A certificate profile the CA offers (draft-aaron-acme-profiles); CAs that have none ignore it. */
  profile?: string | undefined;
  /** ARI certificate id (RFC 9773 §5) of the certificate this order renews; sent only to CAs that offer renewalInfo. */
  replaces?: string | undefined;
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
}

export interface Order {
  url: string;
  status: OrderStatus;
  identifiers: Identifier[];
  /** Authorization URLs, one per identifier. */
  authorizations: string[];
  finalize: string;
  /** Present once the order is valid. */
  certificate?: string | undefined;
  expires?: Date | undefined;
  profile?: string | undefined;
  replaces?: string | undefined;
  /** Why the order is invalid, as the CA said it. */
  error?: AcmeProblem | undefined;
  /** How long the CA asked us to wait before asking again (its Retry-After), in ms. */
  retryAfterMs?: number | undefined;
}

export type AuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';

export interface Authorization {
  url: string;
  status: AuthorizationStatus;
  /** The name to prove control of: for a wildcard order, the base name (`example.com`), with `wildcard` set. */
  identifier: Identifier;
  wildcard: boolean;
  expires?: Date | undefined;
  /** The challenges this port can answer (http-01, dns-01); the CA may offer others, left out here. */
  challenges: Challenge[];
  retryAfterMs?: number | undefined;
}

export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

interface ChallengeCommon {
  url: string;
  status: ChallengeStatus;
  token: string;
  validated?: Date | undefined;
  /** Why validation failed, as the CA said it. */
  error?: AcmeProblem | undefined;
}

/** RFC 8555 §8.3: serve `keyAuthorization` as the body of `http://<name>/<path>`. */
export interface Http01Challenge extends ChallengeCommon {
  type: 'http-01';
  /** `/.well-known/acme-challenge/<token>`. */
  path: string;
  keyAuthorization: string;
}

/** RFC 8555 §8.4: publish `txtValue` as a TXT record at `recordName`. */
export interface Dns01Challenge extends ChallengeCommon {
  type: 'dns-01';
  /** `_acme-challenge.<name>` (no trailing dot). */
  recordName: string;
  /** base64url(SHA-256(key authorization)). */
  txtValue: string;
}

export type Challenge = Http01Challenge | Dns01Challenge;

/** What the CA issued: PEM, leaf first. */
export interface CertificateChain {
  /** The whole chain as the CA sent it (leaf first), normalised to `\n` line ends. */
  pem: string;
  /** One PEM per certificate, leaf first. */
  certificates: string[];
  /** URLs of alternative chains the CA offers (Link rel="alternate"). */
  alternates: string[];
}

/** RFC 9773 §4.2: when the CA would like a certificate renewed, and why. */
export interface RenewalInfo {
  suggestedWindow: { start: Date; end: Date };
  /** A page a human may read about the suggestion (an incident, a revocation). */
  explanationUrl?: string | undefined;
  /** The CA's Retry-After, in ms: ask again no sooner. */
  retryAfterMs?: number | undefined;
}
