import type { AuditEvent, AuditLog } from '../../core/audit/ports.js';
import { randomIds, type IdGenerator } from '../../kernel/ids.js';
import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

/**
 * An audit event as a row. Stores that make a change insert this row in the same transaction (or
 * the same statement list) as the change itself.
 */
export function auditRow(event: AuditEvent, ids: IdGenerator = randomIds): AuditEventsTable {
  return {
    id: ids.ordered32(),
    at: event.at.toISOString(),
    account_id: event.accountId,
    actor: event.actor,
    action: event.action,
    resource: event.resource,
    outcome: event.outcome,
    request_id: event.requestId,
  };
}

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly db: Db,
    private readonly ids: IdGenerator,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    await this.db.insertInto('audit_events').values(auditRow(event, this.ids)).execute();
  }

  async list(accountId: string, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db
      .selectFrom('audit_events')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      at: new Date(r.at),
      accountId: r.account_id,
      actor: r.actor,
      action: r.action,
      resource: r.resource,
      outcome: r.outcome,
      requestId: r.request_id,
    }));
  }
}
