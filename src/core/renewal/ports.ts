/**
 * What renewal needs from storage. Renewal applies to the free certificates of ESA sites (a
 * `site_certificates` row of type `free` on a valid issuance of an active site); CAS orders, a
 * user's own CSR, are not renewed.
 */
import type { IssuanceKeyType, NewIssuance } from '../issuance/model.js';

/** A valid issuance whose renewal time came. */
export interface DueCertificate {
  issuanceId: string;
  accountId: string;
  profile: string;
  identifiers: string[];
  challengeType: NewIssuance['challengeType'];
  keyType: IssuanceKeyType | undefined;
  acmeAccountId: string | undefined;
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
  /** Failed renewals since the last success. */
  failures: number;
  renewAt: Date;
  /** ARI: the CA is not asked again before this time; a renew_at before it is the time chosen in its window. */
  ariCheckAt: Date | undefined;
}

export interface RenewalStore {
  /**
   * Up to `limit` due certificates, earliest first: renew_at ≤ now, no renewal in progress, not
   * retired, used by a free site certificate of an active site (an indexed range on renew_at).
   */
  due(now: Date, limit: number): Promise<DueCertificate[]>;
  /** The certificate is looked at again at `at` (an ARI window not reached, a CA not reachable); the CA asked again from `ariCheckAt`. */
  postpone(issuanceId: string, at: Date, now: Date, ariCheckAt?: Date): Promise<void>;
  /**
   * In one transaction: marks the old issuance as renewing (`renewed_by`), only if it still is not,
   * and inserts the renewal with its `acme.issue` job. False when another scan got there first.
   */
  startRenewal(issuanceId: string, renewal: NewIssuance, now: Date, jobId: string): Promise<boolean>;
}
