export const ACCESS_TYPES = ['NS', 'CNAME'] as const;
export type AccessType = (typeof ACCESS_TYPES)[number];
export const COVERAGES = ['domestic', 'global', 'overseas'] as const;
export type Coverage = (typeof COVERAGES)[number];
/**
 * `pending` until ownership is proven; `active` once VerifySite passed; `moved` when another
 * account's site of the same name became active since (that account proved ownership later);
 * `offline` is ESA's, set by nothing in certplane yet. At most one site of a name is active.
 */
export const SITE_STATUSES = ['pending', 'active', 'offline', 'moved'] as const;
export type SiteStatus = (typeof SITE_STATUSES)[number];

/** Statuses a passing VerifySite turns into `active` (a moved site is won back the same way). */
export const ACTIVATABLE: readonly SiteStatus[] = ['pending', 'moved'];

export interface Site {
  /** Decimal, at most 15 digits so JSON clients keep it exact. */
  id: string;
  accountId: string;
  /** A domain under a public suffix (`example.com`, `shop.example.com`), punycode, lower case. */
  name: string;
  accessType: AccessType;
  coverage: Coverage;
  instanceId: string;
  /** Name of the plan behind `instanceId`. */
  plan: string;
  resourceGroupId: string | null;
  status: SiteStatus;
  verifyCode: string;
  /**
   * NS mode: the site's own pair from the configured pool, sorted; no other site of the same name
   * holds the same pair. CNAME mode: empty.
   */
  nameServers: string[];
  cnameZone: string;
  createdAt: Date;
  updatedAt: Date;
  verifiedAt: Date | null;
}

export type NameMatch = 'prefix' | 'suffix' | 'exact' | 'fuzzy';

export interface SiteFilter {
  name?: { text: string; match: NameMatch } | undefined;
  status?: SiteStatus | undefined;
  accessType?: AccessType | undefined;
  coverage?: Coverage | undefined;
  resourceGroupId?: string | undefined;
  /** Only sites on these plans (by plan name); undefined = any plan. */
  plans?: string[] | undefined;
}

export interface SitePage {
  /** 1-based. */
  number: number;
  size: number;
}

/**
 * Whether certplane may obtain or renew certificates for the site: only while it is active. A
 * site that is pending, offline or moved (another account has proven ownership of the name since)
 * gets none. Renewal must ask this of the site as it is at renewal time, not as it was when the
 * certificate was first issued.
 */
export function certificatesRenewable(site: Pick<Site, 'status'>): boolean {
  return site.status === 'active';
}

/** How a set of nameservers is keyed for the one-pair-per-name rule: sorted, comma-joined. */
export function nameServerKey(nameServers: readonly string[]): string {
  return [...nameServers].sort().join(',');
}
