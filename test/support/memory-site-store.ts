import type { AuditEvent } from '../../src/core/audit/ports.js';
import { ACTIVATABLE, nameServerKey, type Site, type SiteFilter, type SitePage } from '../../src/core/sites/model.js';
import { NameServersInUse, SiteNameInUse, type InstanceSites, type SiteStore } from '../../src/core/sites/ports.js';

/**
 * SiteStore in memory, for core tests: the same rules as the SQL store (a name once per account,
 * a nameserver set once per name, one active site per name), transactions one at a time, and a
 * transaction's inserts applied only when its work succeeds.
 */
export class MemorySiteStore implements SiteStore {
  readonly sites = new Map<string, Site>();
  /** Audit events stored with the changes they record. */
  readonly audit: AuditEvent[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  withInstance<T>(instanceId: string, work: (sites: InstanceSites) => Promise<T>): Promise<T> {
    const run = async () => {
      const pending: Site[] = [];
      const pendingAudit: AuditEvent[] = [];
      const visible = () => [...this.sites.values(), ...pending];
      const result = await work({
        count: async () => visible().filter((s) => s.instanceId === instanceId).length,
        sitesNamed: async (name) =>
          visible()
            .filter((s) => s.name === name)
            .map((s) => ({ accountId: s.accountId, accessType: s.accessType, nameServers: [...s.nameServers] })),
        insert: async (site, audit) => {
          this.checkUnique(site, visible());
          pending.push(structuredClone(site));
          pendingAudit.push(audit);
        },
      });
      for (const site of pending) this.sites.set(site.id, site);
      this.audit.push(...pendingAudit);
      return result;
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async find(accountId: string, id: string): Promise<Site | undefined> {
    const site = this.sites.get(id);
    return site?.accountId === accountId ? structuredClone(site) : undefined;
  }

  async list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }> {
    const all = [...this.sites.values()].filter((s) => s.accountId === accountId && (!filter.status || s.status === filter.status));
    return { total: all.length, items: all.slice((page.number - 1) * page.size, page.number * page.size).map((s) => structuredClone(s)) };
  }

  async sitesOnInstance(accountId: string, instanceId: string): Promise<Site[]> {
    return [...this.sites.values()].filter((s) => s.accountId === accountId && s.instanceId === instanceId);
  }

  async freeCertificateCounts(): Promise<Map<string, number>> {
    return new Map();
  }

  async activate(
    site: Site,
    at: Date,
    audit: AuditEvent,
    movedAudit: (moved: { accountId: string; id: string }) => AuditEvent,
  ): Promise<Array<{ accountId: string; id: string }> | undefined> {
    const self = this.sites.get(site.id);
    if (!self || self.accountId !== site.accountId || !ACTIVATABLE.includes(self.status)) return undefined;
    const moved = [...this.sites.values()].filter((s) => s.name === site.name && s.status === 'active' && s.id !== site.id);
    for (const other of moved) Object.assign(other, { status: 'moved', updatedAt: at });
    Object.assign(self, { status: 'active', verifiedAt: at, updatedAt: at });
    const movedIds = moved.map((s) => ({ accountId: s.accountId, id: s.id }));
    this.audit.push(audit, ...movedIds.map(movedAudit));
    return movedIds;
  }

  async delete(accountId: string, id: string, audit: AuditEvent): Promise<boolean> {
    if (this.sites.get(id)?.accountId !== accountId) return false;
    this.sites.delete(id);
    this.audit.push(audit);
    return true;
  }

  private checkUnique(site: Site, existing: Site[]): void {
    if (existing.some((s) => s.accountId === site.accountId && s.name === site.name)) throw new SiteNameInUse(site.name);
    const key = nameServerKey(site.nameServers);
    const sameSet = (s: Site) => s.accessType === 'NS' && nameServerKey(s.nameServers) === key;
    if (site.accessType === 'NS' && existing.some((s) => s.name === site.name && sameSet(s))) throw new NameServersInUse(key);
  }
}
