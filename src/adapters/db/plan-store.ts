import type { PlanInstance } from '../../core/plans/model.js';
import type { PlanStore } from '../../core/plans/ports.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { auditRow } from './audit-log.js';
import type { Db } from './database.js';

export class SqlPlanStore implements PlanStore {
  constructor(private readonly db: Db) {}

  async insertInstance(instance: PlanInstance, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('plan_instances')
        .values({
          id: instance.id,
          account_id: instance.accountId,
          plan: instance.plan,
          created_at: instance.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async findInstance(accountId: string, id: string): Promise<PlanInstance | undefined> {
    const row = await this.db
      .selectFrom('plan_instances')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { id: row.id, accountId: row.account_id, plan: row.plan, createdAt: new Date(row.created_at) };
  }
}
