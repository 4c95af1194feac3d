import type { Selectable } from 'kysely';
import type { EventType } from '../../core/events/model.js';
import { wants, type Webhook } from '../../core/webhooks/model.js';
import type { WebhookStore } from '../../core/webhooks/ports.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { auditRow } from './audit-log.js';
import type { Db } from './database.js';
import type { WebhooksTable } from './schema.js';

/** `webhooks` (migration 017): an account has few, so the subscription filter runs on its rows. */
export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async insert(webhook: Webhook, secretSealed: string, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('webhooks')
        .values({
          id: webhook.id,
          account_id: webhook.accountId,
          url: webhook.url,
          events: JSON.stringify(webhook.events),
          secret_sealed: secretSealed,
          created_at: webhook.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async list(accountId: string): Promise<Webhook[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    return rows.map(fromRow);
  }

  async findWithSecret(id: string): Promise<{ webhook: Webhook; secretSealed: string } | undefined> {
    const row = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { webhook: fromRow(row), secretSealed: row.secret_sealed };
  }

  async remove(accountId: string, id: string, audit: AuditEvent): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx.deleteFrom('webhooks').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
  }

  async subscribers(accountId: string, type: EventType): Promise<Webhook[]> {
    return (await this.list(accountId)).filter((w) => wants(w, type));
  }
}

function fromRow(row: Selectable<WebhooksTable>): Webhook {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    createdAt: new Date(row.created_at),
  };
}
