import type { Selectable, Transaction } from 'kysely';
import {
  ACTIVATABLE,
  nameServerKey,
  type AccessType,
  type Coverage,
  type Site,
  type SiteFilter,
  type SitePage,
  type SiteStatus,
} from '../../core/sites/model.js';
import { NameServersInUse, SiteNameInUse, type InstanceSites, type SiteHolder, type SiteStore } from '../../core/sites/ports.js';
import { CompiledQueries } from './compiled.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { auditRow } from './audit-log.js';
import { isUniqueViolation, type Db } from './database.js';
import { likeMatch } from './like.js';
import type { IssuanceWithdrawal } from './issuance-rows.js';
import { freeCertificatesHeld, releaseSiteCertificates } from './site-certificate-store.js';
import type { Schema, SitesTable } from './schema.js';

type SiteRow = Selectable<SitesTable> & { plan: string };

/** The unique indexes of `sites`, by name (PostgreSQL reports it) and columns (SQLite names those). */
const ACCOUNT_NAME = { name: 'sites_account_name', columns: ['account_id', 'name'] };
const NAME_NS_PAIR = { name: 'sites_name_ns_pair', columns: ['name', 'ns_pair'] };
const ACTIVE_NAME = { name: 'sites_active_name', columns: ['name'] };
/** Two activations of one name racing on PostgreSQL: the loser's transaction is run again. */
const ACTIVATE_ATTEMPTS = 3;

export class SqlSiteStore implements SiteStore {
  private readonly compiled = new CompiledQueries();

  constructor(
    private readonly db: Db,
    /** How the unfinished issuances of a deleted site's free certificates are withdrawn. */
    private readonly withdrawal: IssuanceWithdrawal,
  ) {}

  withInstance<T>(instanceId: string, work: (sites: InstanceSites) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx) => {
      // A no-op write on the instance's row: a row lock on PostgreSQL, the write lock on SQLite.
      // Other creations on the instance wait here until this transaction ends.
      await tx.updateTable('plan_instances').set((eb) => ({ id: eb.ref('id') })).where('id', '=', instanceId).execute();
      return work(new SqlInstanceSites(tx, instanceId));
    });
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

  async sitesOnInstance(accountId: string, instanceId: string): Promise<Site[]> {
    const rows = await this.base(accountId).where('sites.instance_id', '=', instanceId).orderBy('sites.created_at').execute();
    return rows.map(fromRow);
  }

  freeCertificateCounts(accountId: string, siteIds: string[]): Promise<Map<string, number>> {
    return freeCertificatesHeld(this.db, accountId, siteIds);
  }

  async activate(
    site: Site,
    at: Date,
    audit: AuditEvent,
    movedAudit: (moved: { accountId: string; id: string }) => AuditEvent,
  ): Promise<Array<{ accountId: string; id: string }> | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (tx) => {
          const moved = await activateIn(tx, site, at);
          await tx.insertInto('audit_events').values([audit, ...moved.map(movedAudit)].map((event) => auditRow(event))).execute();
          return moved;
        });
      } catch (err) {
        if (err instanceof NotActivatable) return undefined;
        if (!violates(err, ACTIVE_NAME) || attempt === ACTIVATE_ATTEMPTS) throw err;
      }
    }
  }

  async delete(accountId: string, id: string, audit: AuditEvent): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const owned = await tx.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (!owned) return false;
      await releaseSiteCertificates(tx, accountId, id, audit.at, this.withdrawal);
      const result = await tx.deleteFrom('sites').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
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

class SqlInstanceSites implements InstanceSites {
  constructor(
    private readonly tx: Transaction<Schema>,
    private readonly instanceId: string,
  ) {}

  async count(): Promise<number> {
    const row = await this.tx
      .selectFrom('sites')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('instance_id', '=', this.instanceId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async sitesNamed(name: string): Promise<SiteHolder[]> {
    const rows = await this.tx.selectFrom('sites').select(['account_id', 'access_type', 'name_servers']).where('name', '=', name).execute();
    return rows.map((r) => ({
      accountId: r.account_id,
      accessType: r.access_type as AccessType,
      nameServers: JSON.parse(r.name_servers) as string[],
    }));
  }

  async insert(site: Site, audit: AuditEvent): Promise<void> {
    try {
      await this.tx.insertInto('sites').values(toRow(site)).execute();
    } catch (err) {
      if (violates(err, ACCOUNT_NAME)) throw new SiteNameInUse('site name already used', { cause: err });
      if (violates(err, NAME_NS_PAIR)) throw new NameServersInUse('nameservers already held for this name', { cause: err });
      throw err;
    }
    await this.tx.insertInto('audit_events').values(auditRow(audit)).execute();
  }
}

class NotActivatable extends Error {}

/** Moves the name's other active site (if any), then activates this one; throws NotActivatable to roll back. */
async function activateIn(tx: Transaction<Schema>, site: Site, at: Date): Promise<Array<{ accountId: string; id: string }>> {
  const when = at.toISOString();
  const moved = await tx
    .updateTable('sites')
    .set({ status: 'moved', updated_at: when })
    .where('name', '=', site.name)
    .where('status', '=', 'active')
    .where('id', '<>', site.id)
    .returning(['account_id', 'id'])
    .execute();
  const activated = await tx
    .updateTable('sites')
    .set({ status: 'active', verified_at: when, updated_at: when })
    .where('account_id', '=', site.accountId)
    .where('id', '=', site.id)
    .where('status', 'in', [...ACTIVATABLE])
    .executeTakeFirst();
  if (Number(activated.numUpdatedRows) === 0) throw new NotActivatable();
  return moved.map((r) => ({ accountId: r.account_id, id: r.id }));
}

/** Whether `err` is a unique violation of that index, told apart on both engines. */
function violates(err: unknown, index: { name: string; columns: string[] }): boolean {
  if (!isUniqueViolation(err)) return false;
  const { constraint, message } = err as { constraint?: unknown; message?: unknown };
  if (typeof constraint === 'string') return constraint === index.name;
  // SQLite: "UNIQUE constraint failed: sites.account_id, sites.name"
  return typeof message === 'string' && message.endsWith(`: ${index.columns.map((c) => `sites.${c}`).join(', ')}`);
}

function toRow(site: Site): SitesTable {
  return {
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
    ns_pair: site.accessType === 'NS' ? nameServerKey(site.nameServers) : null,
    cname_zone: site.cnameZone,
    created_at: site.createdAt.toISOString(),
    updated_at: site.updatedAt.toISOString(),
    verified_at: site.verifiedAt?.toISOString() ?? null,
  };
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
