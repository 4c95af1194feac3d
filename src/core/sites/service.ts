import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { PlanDefinition, PlanInstance } from '../plans/model.js';
import { parseSiteName } from './domain-name.js';
import type { AccessType, Coverage, Site, SiteFilter, SitePage } from './model.js';
import { DnsUnavailable, SiteNameInUse, type DnsResolver, type SiteStore } from './ports.js';

export interface SitesDeps {
  store: SiteStore;
  dns: DnsResolver;
  clock: Clock;
  ids: IdGenerator;
  plans: {
    requireInstance(accountId: string, id: string): Promise<{ instance: PlanInstance; definition: PlanDefinition }>;
    definition(plan: string): PlanDefinition;
  };
  /** Nameservers assigned to NS-mode sites. */
  nameServers: string[];
  /** CNAME-mode sites point at `<site>.<cnameSuffix>`. */
  cnameSuffix: string;
}

export interface NewSite {
  name: string;
  accessType: AccessType;
  coverage: Coverage;
  instanceId: string;
  resourceGroupId?: string | undefined;
}

export interface CertificateQuota {
  quota: number;
  siteCount: number;
  usage: Array<{ site: Site; used: number }>;
  /** Usage of the site asked about. */
  used: number;
}

/** ESA sites: creation on a plan instance, ownership verification through DNS, listing and quotas. */
export class SitesService {
  constructor(private readonly deps: SitesDeps) {}

  async create(accountId: string, input: NewSite): Promise<Site> {
    const name = parseSiteName(input.name);
    const { instance, definition } = await this.deps.plans.requireInstance(accountId, input.instanceId);
    if ((await this.deps.store.countOnInstance(accountId, instance.id)) >= definition.sites) {
      throw errors.siteQuotaExceeded(definition.sites);
    }
    const now = this.deps.clock.now();
    const site: Site = {
      id: this.deps.ids.numeric(13),
      accountId,
      name,
      accessType: input.accessType,
      coverage: input.coverage,
      instanceId: instance.id,
      plan: instance.plan,
      resourceGroupId: input.resourceGroupId ?? null,
      status: 'pending',
      verifyCode: `verify_${this.deps.ids.hex32()}`,
      nameServers: [...this.deps.nameServers],
      cnameZone: `${name}.${this.deps.cnameSuffix}`,
      createdAt: now,
      updatedAt: now,
      verifiedAt: null,
    };
    try {
      await this.deps.store.insert(site);
    } catch (err) {
      throw err instanceof SiteNameInUse ? errors.siteNameTaken(name) : err;
    }
    return site;
  }

  async get(accountId: string, id: string): Promise<Site> {
    const site = await this.deps.store.find(accountId, id);
    if (!site) throw errors.siteNotFound(id);
    return site;
  }

  list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }> {
    return this.deps.store.list(accountId, filter, page);
  }

  async delete(accountId: string, id: string): Promise<Site> {
    const site = await this.get(accountId, id);
    if (!(await this.deps.store.delete(accountId, id))) throw errors.siteNotFound(id);
    return site;
  }

  /**
   * Checks ownership through DNS and activates the site when it passes: NS mode needs every
   * assigned nameserver among the domain's NS records; CNAME mode needs the verify code in a TXT
   * record at the site name. A resolver that cannot answer is an error, not a failed check.
   */
  async verify(accountId: string, id: string): Promise<{ passed: boolean; site: Site }> {
    const site = await this.get(accountId, id);
    let passed: boolean;
    try {
      passed = site.accessType === 'NS' ? await this.nsDelegated(site) : await this.txtPublished(site);
    } catch (err) {
      if (err instanceof DnsUnavailable) throw errors.dependencyUnavailable('the DNS resolver', err);
      throw err;
    }
    if (!passed || site.status !== 'pending') return { passed, site };
    const at = this.deps.clock.now();
    await this.deps.store.markVerified(accountId, id, at);
    return { passed, site: { ...site, status: 'active', verifiedAt: at, updatedAt: at } };
  }

  async certificateQuota(accountId: string, id: string): Promise<CertificateQuota> {
    const site = await this.get(accountId, id);
    const definition = this.deps.plans.definition(site.plan);
    const siblings = await this.deps.store.sitesOnInstance(accountId, site.instanceId);
    const counts = await this.deps.store.freeCertificateCounts(
      accountId,
      siblings.map((s) => s.id),
    );
    return {
      quota: definition.freeCertificatesPerSite,
      siteCount: siblings.length,
      usage: siblings.map((s) => ({ site: s, used: counts.get(s.id) ?? 0 })),
      used: counts.get(site.id) ?? 0,
    };
  }

  private async nsDelegated(site: Site): Promise<boolean> {
    const found = new Set(await this.deps.dns.resolveNs(site.name));
    return site.nameServers.every((ns) => found.has(ns));
  }

  private async txtPublished(site: Site): Promise<boolean> {
    const records = await this.deps.dns.resolveTxt(site.name);
    return records.some((record) => record.trim() === site.verifyCode);
  }
}
