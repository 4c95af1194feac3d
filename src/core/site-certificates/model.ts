import type { AuthorizationProgress, ChallengeType, IssuanceState } from '../issuance/model.js';
import { FINISHED_STATES } from '../issuance/model.js';
import { expiryOf, type ExpiryFilter, type ExpiryStatus } from '../certificates/expiry.js';

/**
 * ESA's certificates of a site: `free` ones obtained through ACME (each points at its issuance),
 * `upload` ones brought by the user (stored in the certificate inventory with their site), and
 * `cas` ones referencing a certificate the account's inventory already holds.
 */
export type SiteCertificateType = 'free' | 'upload' | 'cas';

/**
 * What a certificate of a site is now. `applying` while its issuance is not finished; `ok`,
 * `expiring` or `expired` once there is a certificate, as `expiryOf` reads its notAfter;
 * `apply_failed` when the CA (or a check) refused it for good; `canceled` when withdrawn.
 */
export type SiteCertificateStatus = 'applying' | 'ok' | 'expiring' | 'expired' | 'apply_failed' | 'canceled';

/** What the certificate itself says, once there is one. */
export interface CertificateDetails {
  chainPem: string;
  commonName: string;
  /** Subject alternative names in certificate order. */
  san: string[];
  /** Lower-case hex. */
  serialNumber: string;
  fingerprintSha256: string;
  /** The issuer's organisation (its common name when it has none). */
  issuer: string;
  issuerCn: string;
  publicKeyAlgorithm: string;
  signatureAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
}

/** One proof of control of an issuance, as its authorization records it. */
export interface DomainValidation {
  /** Stable id of the authorization (derived from its URL). */
  id: string;
  challengeType: ChallengeType;
  /** dns-01: the TXT record's name; http-01: the path the file is served at. */
  key: string;
  /** dns-01: the TXT value; http-01: the file's content (the key authorization). */
  value: string;
  status: AuthorizationProgress['status'];
}

export interface SiteCertificate {
  id: string;
  accountId: string;
  siteId: string;
  type: SiteCertificateType;
  name: string;
  /** Free certificates: the domain applied for (`*.example.com` for a wildcard). */
  domain: string | null;
  /** Free certificates: the issuer profile (`lets_encrypt`, …). */
  issuerProfile: string | null;
  issuanceId: string | null;
  /** Upload and cas certificates: the inventory certificate. */
  certificateId: string | null;
  casId: string | null;
  region: string | null;
  /** Free certificates: the issuance's state, its failure and its validations. */
  issuanceState: IssuanceState | null;
  failure: { code: string; detail: string } | null;
  validations: DomainValidation[];
  /** Absent until there is a certificate (a free one still applying, failed or canceled). */
  details: CertificateDetails | null;
  createdAt: Date;
  updatedAt: Date;
}

const EXPIRY_WORDS: Record<ExpiryStatus, SiteCertificateStatus> = { valid: 'ok', expiring: 'expiring', expired: 'expired' };

export function statusOf(
  certificate: Pick<SiteCertificate, 'type' | 'issuanceState' | 'details'>,
  now: Date,
  expiringDays: number,
): SiteCertificateStatus {
  if (certificate.type === 'free') {
    const state = certificate.issuanceState;
    if (state === 'invalid') return 'apply_failed';
    if (state === 'canceled') return 'canceled';
    if (state !== 'valid' || !certificate.details) return 'applying';
  }
  return EXPIRY_WORDS[expiryOf(certificate.details?.notAfter ?? new Date(0), now, expiringDays)];
}

/** Usable now: what `ValidOnly` keeps, and what a record counts as configured with. */
export function isValid(status: SiteCertificateStatus): boolean {
  return status === 'ok' || status === 'expiring';
}

export function issuanceFinished(state: IssuanceState | null): boolean {
  return state !== null && FINISHED_STATES.includes(state);
}

/**
 * The names a certificate answers for: its SAN once issued, else the domain applied for. A record
 * name matches one exactly, or through a wildcard covering exactly its leftmost label.
 */
export function namesOf(certificate: Pick<SiteCertificate, 'details' | 'domain'>): string[] {
  if (certificate.details) return certificate.details.san;
  return certificate.domain ? [certificate.domain] : [];
}

export interface ListFilter {
  /** Matches the name, the domain applied for and the SAN, case-insensitively. */
  keyword?: string | undefined;
  validOnly?: boolean | undefined;
  /** Only certificates (free ones once issued) of these expiry statuses. */
  expiry?: ExpiryFilter | undefined;
}

export interface Page {
  /** 1-based. */
  number: number;
  size: number;
}
