/**
 * Certificates obtained from an ACME CA: one `Issuance` per certificate, worked by the `acme.issue`
 * job over the ACME port. The ESA side (ApplyCertificate) and the CAS side (orders) create
 * issuances and read them back; neither drives the protocol.
 *
 * States, each stored before the step that follows it, so a run cut short starts again from the
 * CA's state (everything is named by its URL) and never orders twice:
 *
 *   queued ──► ordered ──► validating ──► finalizing ──► valid
 *      │          │             │              │
 *      └──────────┴─────────────┴──────────────┴──► invalid (error_code, error_detail) | canceled
 *
 * - `queued`: created; no order yet (the job registers the ACME account on first use).
 * - `ordered`: `orderUrl` stored; authorizations are read and their challenges recorded.
 * - `validating`: the records or files are in place (placed by certplane, or seen where the user
 *   placed them) and the challenges answered; waiting for the CA.
 * - `finalizing`: the order is ready and the CSR sent (or about to be); waiting for the chain.
 * - `valid`: the chain and its parsed facts are stored. `invalid`: the CA (or a check) said no, for
 *   good. `canceled`: its owner withdrew it; a run that sees it stops and cleans up.
 */
export type IssuanceState = 'queued' | 'ordered' | 'validating' | 'finalizing' | 'valid' | 'invalid' | 'canceled';

export const FINISHED_STATES: readonly IssuanceState[] = ['valid', 'invalid', 'canceled'];

export type ChallengeType = 'http-01' | 'dns-01';

/** Who puts the proof in place: certplane (ESA sites) or the user, shown what to place (CAS orders). */
export type Placement = 'certplane' | 'user';

/** The key certplane makes when no CSR is given (issuer profile `keyType`, named as lego names them). */
export type IssuanceKeyType = 'EC256' | 'EC384' | 'RSA2048' | 'RSA3072' | 'RSA4096';

/** The job that works an issuance; payload `{ issuanceId }`, idempotency key `acme.issue:{id}`. */
export const ISSUE_JOB = 'acme.issue';

/** Progress of one authorization of the order, as recorded on the issuance. */
export interface AuthorizationProgress {
  url: string;
  /** The identifier as ordered (`*.example.com` for a wildcard). */
  domain: string;
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  challengeType: ChallengeType;
  challengeUrl: string;
  token: string;
  /** http-01: where the file goes (`/.well-known/acme-challenge/<token>`) and what it holds. */
  path?: string | undefined;
  keyAuthorization?: string | undefined;
  /** dns-01: `_acme-challenge.<name>` and the TXT value. */
  recordName?: string | undefined;
  txtValue?: string | undefined;
  /** The DnsProvider's handle of the record certplane created (removed afterwards). */
  dnsHandle?: unknown;
  /** True once the challenge was answered (the CA told to validate). */
  answered?: boolean | undefined;
  /** Placement `user`: the proof was where the CA will look at the last check (none is answered before all are). */
  seen?: boolean | undefined;
  /** Why it failed, as the CA said it. */
  error?: string | undefined;
}

/** What a valid issuance's leaf says, parsed once when stored. */
export interface IssuedFacts {
  chainPem: string;
  commonName: string;
  /** Subject alternative names, comma-joined in certificate order. */
  san: string;
  serialNumber: string;
  fingerprintSha256: string;
  issuer: string;
  issuerCn: string;
  publicKeyAlgorithm: string;
  signatureAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
}

export interface Issuance {
  id: string;
  accountId: string;
  /** The issuer profile (a key of `issuers`: `lets_encrypt`, …). */
  profile: string;
  /** Names to certify, as ordered (`*.example.com` for a wildcard). */
  identifiers: string[];
  challengeType: ChallengeType;
  placement: Placement;
  state: IssuanceState;
  /** The user's CSR (CAS orders); absent: certplane makes a key of `keyType` and the CSR. */
  csrPem: string | undefined;
  keyType: IssuanceKeyType | undefined;
  /** The generated key (sealed in `private_keys`), once made. */
  keyId: string | undefined;
  acmeAccountId: string | undefined;
  orderUrl: string | undefined;
  authorizations: AuthorizationProgress[];
  /** The issuance this one renews (its ARI id is computed from that one's chain). */
  replaces: string | undefined;
  /** Why it is invalid: a short code (the ACME problem type's last part, `rejectedIdentifier`, …) and the CA's detail. */
  errorCode: string | undefined;
  errorDetail: string | undefined;
  issued: IssuedFacts | undefined;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | undefined;
}

/** What an owner (ESA, CAS) asks for; stored in the owner's own transaction with its job. */
export interface NewIssuance {
  id: string;
  accountId: string;
  profile: string;
  identifiers: string[];
  challengeType: ChallengeType;
  placement: Placement;
  csrPem?: string | undefined;
  keyType?: IssuanceKeyType | undefined;
  replaces?: string | undefined;
}
