import type { AuditEvent } from '../audit/ports.js';
import type { Certificate } from '../certificates/model.js';
import type { SealedKey } from '../certificates/ports.js';
import type { NewIssuance } from '../issuance/model.js';
import type { SiteStatus } from '../sites/model.js';
import type { ListFilter, Page, SiteCertificate, SiteCertificateType } from './model.js';

/** One free certificate to apply for: its row and the issuance (with its job) that obtains it. */
export interface NewApplication {
  id: string;
  name: string;
  domain: string;
  issuerProfile: string;
  issuance: NewIssuance;
  jobId: string;
  at: Date;
}

/**
 * A site's certificates inside one transaction that holds the site's lock: applications for one
 * site run one after another, so the counts read here stay true until the inserts commit.
 */
export interface LockedSite {
  /** The site's status as it is now (undefined: deleted meanwhile). */
  siteStatus: SiteStatus | undefined;
  /** Frees the domains of applications whose issuance has finished, so they can be applied for again. */
  settleFinished(): Promise<void>;
  /** Domains of the site with an application in progress. */
  domainsInProgress(): Promise<string[]>;
  /** Free certificates of the site that count against the plan: applying or valid. */
  freeCertificatesHeld(): Promise<number>;
  /**
   * Stores the applications, their issuances and jobs, and the audit event. Throws
   * ApplicationInProgress when the unique index finds a domain already applying.
   */
  insertApplications(applications: NewApplication[], audit: AuditEvent): Promise<void>;
}

/** An upload made ready by the inventory: the certificate and its keys, sealed. */
export interface PreparedUpload {
  certificate: Certificate;
  keys: { main: SealedKey; sign: SealedKey | null };
}

/** What SetCertificate stores: a new row, or (with `replaces`) the row it takes the place of. */
export interface SiteCertificateWrite {
  id: string;
  accountId: string;
  siteId: string;
  type: Exclude<SiteCertificateType, 'free'>;
  name: string;
  /** The inventory certificate: made by this write (`upload`) or referenced (`cas`). */
  certificateId: string;
  casId: string | null;
  region: string;
  at: Date;
}

export interface SiteCertificateStore {
  /** Runs `work` in one transaction that first locks site `siteId`; rolls back if it throws. */
  withSite<T>(accountId: string, siteId: string, work: (locked: LockedSite) => Promise<T>): Promise<T>;
  find(accountId: string, siteId: string, id: string): Promise<SiteCertificate | undefined>;
  /** Newest first; `now` judges validity. */
  list(accountId: string, siteId: string, filter: ListFilter, page: Page, now: Date): Promise<{ total: number; items: SiteCertificate[] }>;
  /** Every certificate of the site, newest first (at most `limit`). */
  all(accountId: string, siteId: string, limit: number): Promise<SiteCertificate[]>;
  /**
   * Deletes the certificate, with the inventory certificate an upload made (one the inventory has
   * bound to domains meanwhile stays there, no longer the site's); a free one's unfinished issuance
   * becomes `canceled` in the same transaction. Undefined: no such certificate on the site.
   */
  delete(accountId: string, siteId: string, id: string, audit: AuditEvent): Promise<SiteCertificate | undefined>;
  /**
   * Stores an uploaded or referenced certificate (with `upload`, the inventory certificate and keys
   * too). With `replaces`, that row of the site takes the new content under its id: an upload it
   * made leaves the inventory as on delete, and an unfinished issuance is canceled. False: nothing to replace.
   */
  set(write: SiteCertificateWrite, upload: PreparedUpload | null, replaces: boolean, audit: AuditEvent): Promise<boolean>;
}

/** The unique (site, domain) index among applying rows refused an application. */
export class ApplicationInProgress extends Error {
  override readonly name = 'ApplicationInProgress';
}
