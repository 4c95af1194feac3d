/**
 * What working an issuance needs from storage and the outside world besides the ACME port
 * (core/acme) and the dns-01 ports (core/validation). Every write the engine makes is conditional
 * on the state it read, so a run that lost a race (the owner canceled, another worker got there
 * first) learns it instead of overwriting.
 */
import type { NewJob } from '../jobs/ports.js';
import type { AuthorizationProgress, Issuance, IssuanceKeyType, IssuanceState, IssuedFacts } from './model.js';

/** An ACME account as stored: one per (certplane account, issuer profile, directory URL). */
export interface StoredAcmeAccount {
  id: string;
  accountId: string;
  profile: string;
  directoryUrl: string;
  /** The account key, sealed under `acmeAccountKeyContext(id)`. */
  keySealed: string;
  /** Set once registered with the CA. */
  accountUrl: string | undefined;
}

/** What a step records on the issuance besides (or instead of) changing its state. */
export interface IssuanceChanges {
  orderUrl?: string;
  acmeAccountId?: string;
  authorizations?: AuthorizationProgress[];
}

/** How an issuance ends. */
export type IssuanceOutcome =
  | {
      state: 'valid';
      issued: IssuedFacts;
      /** When the renewal scan first looks at it (renewal policy). */
      renewAt?: Date | undefined;
      /** ARI: the CA is not asked again before this time. */
      ariCheckAt?: Date | undefined;
    }
  | { state: 'invalid'; errorCode: string; errorDetail: string }
  | { state: 'canceled' };

/** An http-01 token certplane's responder serves until `expiresAt`. */
export interface Http01Token {
  token: string;
  keyAuthorization: string;
  domain: string;
  expiresAt: Date;
}

/** Cleanup that goes with a change, in its transaction: jobs to enqueue (dns record removal), and whether to drop the http-01 tokens. */
export interface Cleanup {
  jobs: NewJob[];
  dropHttp01Tokens: boolean;
}

export interface IssuanceStore {
  find(id: string): Promise<Issuance | undefined>;
  /**
   * Moves the issuance from `from` to `to` with `changes` (and `cleanup`), only if it is still in
   * `from`: false when it is not (canceled by its owner, or another run moved it first).
   */
  advance(id: string, from: IssuanceState, to: IssuanceState, changes: IssuanceChanges, now: Date, cleanup?: Cleanup): Promise<boolean>;
  /** Ends the issuance (finished_at set) if it is in one of `from`; the cleanup is done in the same transaction. */
  finish(id: string, from: readonly IssuanceState[], outcome: IssuanceOutcome, now: Date, cleanup: Cleanup): Promise<boolean>;
  /** Cleanup on its own: records a run created but could not note on the issuance (it changed meanwhile). */
  cleanUp(issuanceId: string, cleanup: Cleanup, now: Date): Promise<void>;
  /** Puts the tokens where every server's responder finds them (an existing token is left as it is). */
  putHttp01Tokens(issuanceId: string, tokens: Http01Token[], now: Date): Promise<void>;

  findAcmeAccount(id: string): Promise<StoredAcmeAccount | undefined>;
  findAcmeAccountFor(accountId: string, profile: string, directoryUrl: string): Promise<StoredAcmeAccount | undefined>;
  /**
   * Inserts the account unless one exists for its (account, profile, directory): the unique key
   * decides a race, and the row in effect (this one or the winner's) is returned.
   */
  insertAcmeAccount(account: StoredAcmeAccount, now: Date): Promise<StoredAcmeAccount>;
  setAcmeAccountUrl(id: string, url: string, now: Date): Promise<void>;

  /**
   * Stores the generated certificate key (sealed, in `private_keys`) and points the issuance at
   * it, only if the issuance has no key yet; returns the key id in effect (another run's, when it
   * was first).
   */
  attachKey(issuanceId: string, key: { id: string; algorithm: string; sealed: string }, now: Date): Promise<string>;
  /** The sealed text of a stored private key. */
  sealedKey(keyId: string): Promise<string | undefined>;
}

/** What the http-01 responder reads: the key authorization of an unexpired token. */
export interface Http01Tokens {
  keyAuthorization(token: string, now: Date): Promise<string | undefined>;
}

/** Makes the key of a certificate certplane requests itself. */
export interface CertificateKeys {
  generate(type: IssuanceKeyType): Promise<{ privateKeyPem: string; algorithm: 'EC' | 'RSA' }>;
}

/** Checks that a user placed a challenge's proof where the CA will look (CAS orders). */
export interface PlacementChecks {
  /** The TXT value is served by every authoritative server of the name's zone now. */
  txtVisible(name: string, value: string, signal?: AbortSignal): Promise<boolean>;
  /** `http://<domain>/.well-known/acme-challenge/<token>` answers `keyAuthorization`. */
  httpServes(domain: string, token: string, keyAuthorization: string, signal?: AbortSignal): Promise<boolean>;
}

/** Context an ACME account key is sealed under: it opens for this row only. */
export function acmeAccountKeyContext(id: string): string {
  return `acme_account:${id}`;
}
