import type { Clock } from '../../kernel/clock.js';
import type { AuditEvent, AuditStamp } from '../audit/ports.js';
import { siteResource } from '../policy/resource.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { PlanDefinition, PlanInstance } from '../plans/model.js';
import { parseSiteName } from './domain-name.js';
import { ACTIVATABLE, type AccessType, type Coverage, type Site, type SiteFilter, type SitePage } from './model.js';
import { freePairs, pairCount } from './name-server-pairs.js';
import { DnsUnavailable, NameServersInUse, SiteNameInUse, type DnsResolver, type SiteStore } from './ports.js';
import { judgeDelegation, judgeTxt, txtRecordName, type VerificationReport } from './verification.js';


export interface SitesDeps {
  store: SiteStore;
  dns: DnsResolver;
  clock: Clock;
  ids: IdGenerator;
  plans: {
    requireInstance(accountId: string, id: string): Promise<{ instance: PlanInstance; definition: PlanDefinition }>;
    definition(plan: string): PlanDefinition;
  };
  /** The pool NS-mode sites draw their own pair of nameservers from. */
  nameServers: string[];
  /** CNAME-mode sites point at `<site>.<cnameSuffix>`. */
  cnameSuffix: string;
  /** A uniform random integer in [0, n): which free pair a new NS-mode site gets. */
  randomIndex(n: number): number;
  logger: Logger;
  /** Names a moved site in its own account's audit log. */
  regionId: string;
}

/** Who the audit log of an account whose site was moved names: certplane's own rule, not the account that verified. */
const SITE_VERIFICATION = 'system:site-verification';
export const MOVE_SITE_ACTION = 'certplane:MoveSite';

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
  private readonly poolSize: number;

  constructor(private readonly deps: SitesDeps) {
    this.poolSize = new Set(deps.nameServers).size;
    if (this.poolSize < 2) throw new RangeError('the nameserver pool needs at least two distinct names');
  }

  /**
   * Creates a pending site. The plan's site quota is checked and the site stored in one
   * transaction holding the plan instance's lock, so parallel creations cannot overshoot it. An
   * NS-mode site draws, at random, a pair of the pool that no other site of its name holds.
   */
  async create(accountId: string, input: NewSite, audit: AuditStamp): Promise<Site> {
    const name = parseSiteName(input.name);
    const { instance, definition } = await this.deps.plans.requireInstance(accountId, input.instanceId);
    for (let attempt = 1; ; attempt++) {
      const site = this.draft(accountId, name, input, instance);
      try {
        await this.deps.store.withInstance(instance.id, async (sites) => {
          if ((await sites.count()) >= definition.sites) throw errors.siteQuotaExceeded(definition.sites);
          const holders = await sites.sitesNamed(name);
          if (holders.some((h) => h.accountId === accountId)) throw new SiteNameInUse(name);
          const held = holders.filter((h) => h.accessType === 'NS').map((h) => h.nameServers);
          if (site.accessType === 'NS') site.nameServers = this.pickPair(name, held);
          await sites.insert(site, audit.eventAt(site.createdAt, site.id));
        });
        return site;
      } catch (err) {
        if (err instanceof SiteNameInUse) throw errors.siteNameTaken(name);
        // A concurrent creation of the same name took the pair between our read and our insert.
        // Each such loss is a pair gone for good, so the pool runs out before this bound does.
        if (err instanceof NameServersInUse && attempt <= pairCount(this.poolSize)) continue;
        throw err;
      }
    }
  }

  async get(accountId: string, id: string): Promise<Site> {
    const site = await this.deps.store.find(accountId, id);
    if (!site) throw errors.siteNotFound(id);
    return site;
  }

  list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }> {
    return this.deps.store.list(accountId, filter, page);
  }

  async delete(accountId: string, id: string, audit: AuditStamp): Promise<Site> {
    const site = await this.get(accountId, id);
    if (!(await this.deps.store.delete(accountId, id, audit.eventAt(this.deps.clock.now())))) throw errors.siteNotFound(id);
    return site;
  }

  /**
   * Checks ownership through DNS and activates the site when it passes (a pending site, or a moved
   * one winning its name back): NS mode needs the name delegated to exactly the site's pair; CNAME
   * mode needs the site's VerifyCode in a TXT record at `_esaauth.<site>`. Activation moves any
   * other active site of the name. A resolver that cannot answer is an error, not a failed check.
   */
  async verify(
    accountId: string,
    id: string,
    audit: AuditStamp,
  ): Promise<{ passed: boolean; site: Site; report: VerificationReport }> {
    const site = await this.get(accountId, id);
    const report = await this.check(site);
    const log = { accountId, siteId: site.id, siteName: site.name };
    if (!report.passed) {
      this.deps.logger.info({ ...log, verification: report }, 'site verification did not pass');
      return { passed: false, site, report };
    }
    if (!ACTIVATABLE.includes(site.status)) return { passed: true, site, report };
    const at = this.deps.clock.now();
    // The account that loses the name learns of it in its own log, without learning who took it.
    const movedAudit = (other: { accountId: string; id: string }): AuditEvent => ({
      at,
      accountId: other.accountId,
      actor: SITE_VERIFICATION,
      action: MOVE_SITE_ACTION,
      resource: siteResource(this.deps.regionId, other.accountId, other.id),
      outcome: 'success',
      requestId: audit.requestId,
    });
    const moved = await this.deps.store.activate(site, at, audit.eventAt(at), movedAudit);
    // Deleted or activated by a concurrent call meanwhile: report the site as it is now.
    if (!moved) return { passed: true, site: await this.get(accountId, id), report };
    this.deps.logger.info({ ...log, moved }, 'site activated');
    return { passed: true, site: { ...site, status: 'active', verifiedAt: at, updatedAt: at }, report };
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

  private draft(accountId: string, name: string, input: NewSite, instance: PlanInstance): Site {
    const now = this.deps.clock.now();
    return {
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
      nameServers: [],
      cnameZone: `${name}.${this.deps.cnameSuffix}`,
      createdAt: now,
      updatedAt: now,
      verifiedAt: null,
    };
  }

  private pickPair(name: string, inUse: string[][]): string[] {
    const free = freePairs(this.deps.nameServers, inUse);
    if (free.length === 0) throw errors.siteNameServersExhausted(name, pairCount(this.poolSize));
    return free[this.deps.randomIndex(free.length)]!;
  }

  private async check(site: Site): Promise<VerificationReport> {
    const { dns } = this.deps;
    try {
      if (site.accessType === 'NS') return judgeDelegation(site, await dns.resolveNs(site.name), dns.description);
      return judgeTxt(site, await dns.resolveTxt(txtRecordName(site.name)), dns.description);
    } catch (err) {
      if (err instanceof DnsUnavailable) throw errors.dependencyUnavailable('the DNS resolver', err);
      throw err;
    }
  }
}
