import type { Site, SiteFilter, SitePage } from './model.js';

/**
 * DNS lookups the sites context needs to verify that a domain is under the user's control.
 *
 * An empty answer means "the name exists nowhere or has no such records" (NXDOMAIN or NODATA):
 * the site is simply not verified yet. A resolver that cannot give an answer at all (unreachable,
 * timed out, SERVFAIL, REFUSED) throws DnsUnavailable instead, so the caller can tell "not verified"
 * from "could not check" and must not mark a site as failed because its own resolver is down.
 */
export interface DnsResolver {
  /** NS targets of `name`, lower-cased and without the trailing dot; [] on NXDOMAIN or NODATA. */
  resolveNs(name: string): Promise<string[]>;
  /** TXT records at `name`, each record's character-strings joined into one string; [] on NXDOMAIN or NODATA. */
  resolveTxt(name: string): Promise<string[]>;
}

/** The resolver gave no usable answer (unreachable, timed out, SERVFAIL, REFUSED…); retry later. */
export class DnsUnavailable extends Error {
  override readonly name = 'DnsUnavailable';
  constructor(
    message: string,
    /** The resolver library's error code (e.g. ETIMEOUT), kept for logs. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SiteStore {
  /** Throws SiteNameInUse when the account already has a site of that name. */
  insert(site: Site): Promise<void>;
  find(accountId: string, id: string): Promise<Site | undefined>;
  list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }>;
  countOnInstance(accountId: string, instanceId: string): Promise<number>;
  sitesOnInstance(accountId: string, instanceId: string): Promise<Site[]>;
  /** Free (ACME-issued) certificates per site id. */
  freeCertificateCounts(accountId: string, siteIds: string[]): Promise<Map<string, number>>;
  markVerified(accountId: string, id: string, at: Date): Promise<void>;
  delete(accountId: string, id: string): Promise<boolean>;
}

export class SiteNameInUse extends Error {
  override readonly name = 'SiteNameInUse';
}
