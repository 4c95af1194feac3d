export const ACCESS_TYPES = ['NS', 'CNAME'] as const;
export type AccessType = (typeof ACCESS_TYPES)[number];
export const COVERAGES = ['domestic', 'global', 'overseas'] as const;
export type Coverage = (typeof COVERAGES)[number];
export const SITE_STATUSES = ['pending', 'active', 'offline', 'moved'] as const;
export type SiteStatus = (typeof SITE_STATUSES)[number];

export interface Site {
  /** Decimal, at most 15 digits so JSON clients keep it exact. */
  id: string;
  accountId: string;
  /** Registrable domain, punycode, lower case. */
  name: string;
  accessType: AccessType;
  coverage: Coverage;
  instanceId: string;
  /** Name of the plan behind `instanceId`. */
  plan: string;
  resourceGroupId: string | null;
  status: SiteStatus;
  verifyCode: string;
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
