import type { Selectable } from 'kysely';
import type { AccessType, Coverage, Site, SiteFilter, SitePage, SiteStatus } from '../../core/sites/model.js';
import { SiteNameInUse, type SiteStore } from '../../core/sites/ports.js';
import { CompiledQueries } from './compiled.js';
import { isUniqueViolation, type Db } from './database.js';
import { likeMatch } from './like.js';
import type { SitesTable } from './schema.js';

type SiteRow = Selectable<SitesTable> & { plan: string };

export class SqlSiteStore implements SiteStore {
  private readonly compiled = new CompiledQueries();

  constructor(private readonly db: Db) {}

  async insert(site: Site): Promise<void> {
    try {
      await this.db
        .insertInto('sites')
        .values({
          id: site.id,
          account_id: site.accountId,
          name: site.name,
          access_type: site.accessType,
          coverage: site.coverage,
          instance_id: site.instanceId,
          resource_group_id: site.resourceGroupId,
          status: site.status,
          verify_code: site.verifyCode,
          name_servers: JSON.stringify(site.nameServers),
          cname_zone: site.cnameZone,
          created_at: site.createdAt.toISOString(),
          updated_at: site.updatedAt.toISOString(),
          verified_at: site.verifiedAt?.toISOString() ?? null,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SiteNameInUse('site name already used', { cause: err });
      throw err;
    }
  }

  async find(accountId: string, id: string): Promise<Site | undefined> {
    // Runs on nearly every ESA request: compiled once.
    const { rows } = await this.compiled.run(this.db, 'find', () => this.base(accountId).where('sites.id', '=', id), [accountId, id]);
    const row = rows[0];
    return row && fromRow(row);
  }

  async list(accountId: string, filter: SiteFilter, page: SitePage): Promise<{ total: number; items: Site[] }> {
    let query = this.base(accountId);
    if (filter.name) query = query.where(likeMatch('sites.name', filter.name.text, filter.name.match));
    if (filter.status) query = query.where('sites.status', '=', filter.status);
    if (filter.accessType) query = query.where('sites.access_type', '=', filter.accessType);
    if (filter.coverage) query = query.where('sites.coverage', '=', filter.coverage);
    if (filter.resourceGroupId) query = query.where('sites.resource_group_id', '=', filter.resourceGroupId);
    if (filter.plans) {
      if (filter.plans.length === 0) return { total: 0, items: [] };
      query = query.where('plan_instances.plan', 'in', filter.plans);
    }
    const counted = await query
      .clearSelect()
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await query
      .orderBy('sites.created_at', 'desc')
      .orderBy('sites.id')
      .limit(page.size)
      .offset((page.number - 1) * page.size)
      .execute();
    return { total: Number(counted.n), items: rows.map(fromRow) };
  }

  async countOnInstance(accountId: string, instanceId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sites')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('account_id', '=', accountId)
      .where('instance_id', '=', instanceId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async sitesOnInstance(accountId: string, instanceId: string): Promise<Site[]> {
    const rows = await this.base(accountId).where('sites.instance_id', '=', instanceId).orderBy('sites.created_at').execute();
    return rows.map(fromRow);
  }

  async freeCertificateCounts(accountId: string, siteIds: string[]): Promise<Map<string, number>> {
    if (siteIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('certificates')
      .select(['site_id', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('account_id', '=', accountId)
      .where('source', '=', 'free')
      .where('site_id', 'in', siteIds)
      .groupBy('site_id')
      .execute();
    return new Map(rows.map((r) => [String(r.site_id), Number(r.n)]));
  }

  async markVerified(accountId: string, id: string, at: Date): Promise<void> {
    await this.db
      .updateTable('sites')
      .set({ status: 'active', verified_at: at.toISOString(), updated_at: at.toISOString() })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sites').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  private base(accountId: string) {
    return this.db
      .selectFrom('sites')
      .innerJoin('plan_instances', 'plan_instances.id', 'sites.instance_id')
      .selectAll('sites')
      .select('plan_instances.plan as plan')
      .where('sites.account_id', '=', accountId);
  }
}

function fromRow(row: SiteRow): Site {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    accessType: row.access_type as AccessType,
    coverage: row.coverage as Coverage,
    instanceId: row.instance_id,
    plan: row.plan,
    resourceGroupId: row.resource_group_id,
    status: row.status as SiteStatus,
    verifyCode: row.verify_code,
    nameServers: JSON.parse(row.name_servers) as string[],
    cnameZone: row.cname_zone,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    verifiedAt: row.verified_at ? new Date(row.verified_at) : null,
  };
}
