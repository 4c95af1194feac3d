import type { AuditEvent } from '../audit/ports.js';
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
  /** Which server is asked (`127.0.0.1:53`, `system resolver (…)`), shown to users when a check fails. */
  readonly description: string;
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

/**
 * The sites of one plan instance, inside a transaction that holds that instance's lock: creations
 * on one instance run one after another, so a count read here stays true until the insert commits.
 */
export interface InstanceSites {
  count(): Promise<number>;
  /** Every site named `name`, in any account: who holds it, in which mode, with which nameservers. */
  sitesNamed(name: string): Promise<SiteHolder[]>;
  /**
   * Stores the site and its audit event. Throws SiteNameInUse when the account already has a site of
   * that name, NameServersInUse when another site of that name got the same nameservers first (pick again).
   */
  insert(site: Site, audit: AuditEvent): Promise<void>;
}

export type SiteHolder = Pick<Site, 'accountId' | 'accessType' | 'nameServers'>;

export interface SiteStore {
  /** Runs `work` in one transaction that first locks plan instance `instanceId`; rolls back if it throws. */
  withInstance<T>(instanceId: string, work: (sites: InstanceSites) => Promise<T>): Promise<T>;
  find(accountId: string, id: string): Promise<Site | undefined>;
  list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }>;
  sitesOnInstance(accountId: string, instanceId: string): Promise<Site[]>;
  /** Free certificates per site id that hold the plan's quota: applying or valid. */
  freeCertificateCounts(accountId: string, siteIds: string[]): Promise<Map<string, number>>;
  /**
   * In one transaction: every other active site of the same name (other accounts: names are unique
   * per account) becomes `moved`, then this site becomes `active`, unless it is no longer pending
   * or moved. Returns the sites moved, or undefined (nothing changed) when this site was not
   * activatable any more (deleted, or activated concurrently). `audit` goes into the acting account's
   * log, and `movedAudit` of each moved site into its own account's, in the same transaction.
   */
  activate(
    site: Site,
    at: Date,
    audit: AuditEvent,
    movedAudit: (moved: { accountId: string; id: string }) => AuditEvent,
  ): Promise<Array<{ accountId: string; id: string }> | undefined>;
  /**
   * Deletes the site (with its certificates: unfinished issuances are canceled, uploads leave the
   * inventory) and records `audit` with it; false (nothing changed) when there is no such site.
   */
  delete(accountId: string, id: string, audit: AuditEvent): Promise<boolean>;
}

export class SiteNameInUse extends Error {
  override readonly name = 'SiteNameInUse';
}

/** Another site of the same name holds these nameservers (a concurrent creation won the pair). */
export class NameServersInUse extends Error {
  override readonly name = 'NameServersInUse';
}
