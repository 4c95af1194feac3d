import type { PlanInstance } from '../../core/plans/model.js';
import type { PlanStore } from '../../core/plans/ports.js';
import type { Db } from './database.js';

export class SqlPlanStore implements PlanStore {
  constructor(private readonly db: Db) {}

  async insertInstance(instance: PlanInstance): Promise<void> {
    await this.db
      .insertInto('plan_instances')
      .values({
        id: instance.id,
        account_id: instance.accountId,
        plan: instance.plan,
        created_at: instance.createdAt.toISOString(),
      })
      .execute();
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
