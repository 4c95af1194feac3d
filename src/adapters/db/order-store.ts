import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/ports.js';
import { FINISHED_STATES, type IssuanceState } from '../../core/issuance/model.js';
import { AWAITING_PROOF_STATES, DEADLINE_ERROR_CODE, type Order, type OrderFilter, type OrderRecord, type PackageState, type Page, type Tag } from '../../core/orders/model.js';
import type { OrderStore, Submission, SubmitOutcome } from '../../core/orders/ports.js';
import { auditRow } from './audit-log.js';
import { isUniqueViolation, type Db } from './database.js';
import { insertIssuanceWith, toIssuance } from './issuance-rows.js';
import { enqueueWith } from './job-store.js';
import { likeMatch } from './like.js';
import type { CasOrdersTable, Schema } from './schema.js';

/** Issuance states whose order no longer holds a package unit. */
const RETURNED_STATES: IssuanceState[] = ['invalid', 'canceled'];

/** Ends a transaction without writing anything, carrying the answer out. */
class Rollback extends Error {
  constructor(readonly outcome: SubmitOutcome) {
    super(outcome);
  }
}

/** At most this many overdue orders are failed per read; the rest on the next one (or by their job). */
const OVERDUE_BATCH = 100;

export class SqlOrderStore implements OrderStore {
  constructor(private readonly db: Db) {}

  async submit(s: Submission): Promise<SubmitOutcome> {
    const { order, now } = s;
    try {
      return await this.db.transaction().execute(async (tx) => {
        // The package row first: PostgreSQL locks it until commit, SQLite takes its write lock,
        // so concurrent submissions for one package count one after the other.
        const locked = await tx
          .updateTable('cas_packages')
          .set({ updated_at: now.toISOString() })
          .where('account_id', '=', order.accountId)
          .where('product_code', '=', order.productCode)
          .returning('total_count')
          .executeTakeFirst();
        if (!locked) throw new Rollback('no_package');
        const used = await liveCount(tx, order.accountId, order.productCode);
        if (used >= locked.total_count) throw new Rollback('exhausted');
        await insertIssuanceWith(tx, s.issuance, now, s.issueJobId);
        await tx.insertInto('cas_orders').values(toRow(order)).execute();
        await enqueueWith(tx, s.deadlineJob, now, s.deadlineJob.id);
        await tx.insertInto('audit_events').values(auditRow(s.audit)).execute();
        return 'submitted' as const;
      });
    } catch (err) {
      if (err instanceof Rollback) return err.outcome;
      if (isUniqueViolation(err)) return 'id_taken';
      throw err;
    }
  }

  async find(accountId: string, id: string): Promise<OrderRecord | undefined> {
    const row = await this.db
      .selectFrom('cas_orders')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && (await this.withIssuances([row]))[0];
  }

  async findById(id: string): Promise<OrderRecord | undefined> {
    const row = await this.db.selectFrom('cas_orders').selectAll().where('id', '=', id).executeTakeFirst();
    return row && (await this.withIssuances([row]))[0];
  }

  async list(accountId: string, filter: OrderFilter, page: Page): Promise<{ total: number; items: OrderRecord[] }> {
    let query = this.db
      .selectFrom('cas_orders as o')
      .innerJoin('acme_issuances as i', 'i.id', 'o.issuance_id')
      .where('o.account_id', '=', accountId)
      .where('o.deleted_at', 'is', null);
    if (filter.states) query = query.where('i.state', 'in', filter.states.length > 0 ? [...filter.states] : ['']);
    if (filter.notAfterAfter) query = query.where('i.not_after', '>', filter.notAfterAfter.toISOString());
    if (filter.notAfterUntil) query = query.where('i.not_after', '<=', filter.notAfterUntil.toISOString());
    const keyword = filter.keyword;
    if (keyword) {
      query = query.where((eb) => eb.or([likeMatch('o.domain', keyword), likeMatch('o.id', keyword), likeMatch('i.identifiers', keyword)]));
    }
    const counted = await query.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    const rows = await query
      .selectAll('o')
      .orderBy('o.created_at', 'desc')
      .orderBy('o.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { total: Number(counted.n), items: await this.withIssuances(rows) };
  }

  async cancel(accountId: string, id: string, audit: AuditEvent, now: Date): Promise<'canceled' | 'missing' | 'finished'> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (tx) => {
      const order = await tx
        .selectFrom('cas_orders')
        .select('issuance_id')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!order) return 'missing';
      const changed = await tx
        .updateTable('acme_issuances')
        .set({ state: 'canceled', finished_at: at, updated_at: at })
        .where('id', '=', order.issuance_id)
        .where('state', 'not in', [...FINISHED_STATES])
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return 'finished';
      await tx.updateTable('cas_orders').set({ updated_at: at }).where('id', '=', id).execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return 'canceled';
    });
  }

  async delete(accountId: string, id: string, audit: AuditEvent, now: Date): Promise<'deleted' | 'missing' | 'not_deletable'> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (tx) => {
      const changed = await tx
        .updateTable('cas_orders')
        .set({ deleted_at: at, updated_at: at })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .where('issuance_id', 'in', (eb) => eb.selectFrom('acme_issuances').select('id').where('state', 'in', RETURNED_STATES))
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) {
        const exists = await tx
          .selectFrom('cas_orders')
          .select('id')
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        return exists ? 'not_deletable' : 'missing';
      }
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return 'deleted';
    });
  }

  async failOverdue(scope: { accountId: string } | { orderId: string }, now: Date, reason: string): Promise<number> {
    const at = now.toISOString();
    let candidates = this.db
      .selectFrom('cas_orders as o')
      .innerJoin('acme_issuances as i', 'i.id', 'o.issuance_id')
      .select('i.id')
      .where('o.deadline_at', '<=', at)
      .where('i.state', 'in', [...AWAITING_PROOF_STATES]);
    candidates = 'accountId' in scope ? candidates.where('o.account_id', '=', scope.accountId) : candidates.where('o.id', '=', scope.orderId);
    const ids = (await candidates.limit(OVERDUE_BATCH).execute()).map((r) => r.id);
    if (ids.length === 0) return 0;
    // Conditional on the state read: an issuance the engine moved on meanwhile keeps its new state.
    const changed = await this.db
      .updateTable('acme_issuances')
      .set({ state: 'invalid', error_code: DEADLINE_ERROR_CODE, error_detail: reason, finished_at: at, updated_at: at })
      .where('id', 'in', ids)
      .where('state', 'in', [...AWAITING_PROOF_STATES])
      .executeTakeFirst();
    return Number(changed.numUpdatedRows);
  }

  async grant(accountId: string, productCode: string, count: number, max: number, now: Date, audit: AuditEvent): Promise<number | undefined> {
    const at = now.toISOString();
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('cas_packages')
        .values({ account_id: accountId, product_code: productCode, total_count: count, created_at: at, updated_at: at })
        .onConflict((oc) =>
          oc
            .columns(['account_id', 'product_code'])
            .doUpdateSet({ total_count: sql<number>`cas_packages.total_count + excluded.total_count`, updated_at: at })
            // Past `max` the row is left as it is and nothing is returned.
            .where(sql<number>`cas_packages.total_count + excluded.total_count`, '<=', max),
        )
        .returning('total_count')
        .executeTakeFirst();
      if (!row) return undefined;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return row.total_count;
    });
  }

  async packageState(accountId: string, productCode: string): Promise<PackageState | undefined> {
    const pkg = await this.db
      .selectFrom('cas_packages')
      .select('total_count')
      .where('account_id', '=', accountId)
      .where('product_code', '=', productCode)
      .executeTakeFirst();
    if (!pkg) return undefined;
    const counts = await this.db
      .selectFrom('cas_orders as o')
      .innerJoin('acme_issuances as i', 'i.id', 'o.issuance_id')
      .where('o.account_id', '=', accountId)
      .where('o.product_code', '=', productCode)
      .select((eb) => [
        eb.fn.sum<string | number | null>(eb.case().when('i.state', 'not in', RETURNED_STATES).then(1).else(0).end()).as('used'),
        eb.fn.sum<string | number | null>(eb.case().when('i.state', '=', 'valid').then(1).else(0).end()).as('issued'),
      ])
      .executeTakeFirstOrThrow();
    return { productCode, total: pkg.total_count, used: Number(counts.used ?? 0), issued: Number(counts.issued ?? 0) };
  }

  async sealedKey(accountId: string, keyId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('private_keys')
      .select('sealed')
      .where('id', '=', keyId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row?.sealed;
  }

  private async withIssuances(rows: Array<Selectable<CasOrdersTable>>): Promise<OrderRecord[]> {
    if (rows.length === 0) return [];
    const issuances = await this.db
      .selectFrom('acme_issuances')
      .selectAll()
      .where('id', 'in', rows.map((r) => r.issuance_id))
      .execute();
    const byId = new Map(issuances.map((i) => [i.id, toIssuance(i)]));
    return rows.map((row) => {
      const issuance = byId.get(row.issuance_id);
      if (!issuance) throw new Error(`order ${row.id} has no issuance ${row.issuance_id}`);
      return { order: fromRow(row), issuance };
    });
  }
}

/** Orders of the product still holding a unit: their issuance neither failed nor cancelled. */
async function liveCount(db: Db | Transaction<Schema>, accountId: string, productCode: string): Promise<number> {
  const row = await db
    .selectFrom('cas_orders as o')
    .innerJoin('acme_issuances as i', 'i.id', 'o.issuance_id')
    .where('o.account_id', '=', accountId)
    .where('o.product_code', '=', productCode)
    .where('i.state', 'not in', RETURNED_STATES)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function toRow(o: Order): Insertable<CasOrdersTable> {
  return {
    id: o.id,
    account_id: o.accountId,
    product_code: o.productCode,
    issuance_id: o.issuanceId,
    validate_type: o.validation,
    domain: o.domain,
    key_source: o.keySource,
    algorithm: o.algorithm,
    username: o.contact.username ?? null,
    phone: o.contact.phone ?? null,
    email: o.contact.email ?? null,
    company_name: o.contact.companyName ?? null,
    tags: JSON.stringify(o.tags),
    deadline_at: o.deadlineAt.toISOString(),
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
    deleted_at: null,
  };
}

function fromRow(row: Selectable<CasOrdersTable>): Order {
  return {
    id: row.id,
    accountId: row.account_id,
    productCode: row.product_code,
    issuanceId: row.issuance_id,
    validation: row.validate_type as Order['validation'],
    domain: row.domain,
    keySource: row.key_source as Order['keySource'],
    algorithm: row.algorithm as Order['algorithm'],
    contact: {
      username: row.username ?? undefined,
      phone: row.phone ?? undefined,
      email: row.email ?? undefined,
      companyName: row.company_name ?? undefined,
    },
    tags: JSON.parse(row.tags) as Tag[],
    deadlineAt: new Date(row.deadline_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
