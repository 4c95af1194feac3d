import { sql } from 'kysely';
import type { TestService } from './service.js';

/**
 * Makes the database refuse audit rows of one action (a CHECK constraint on PostgreSQL, a trigger on
 * SQLite), so a test can show that the change those rows record does not happen without them.
 * Returns the function that lifts the refusal.
 */
export async function refuseAuditOf(service: TestService, action: string): Promise<() => Promise<void>> {
  const db = service.app.database.db;
  const name = `refuse_${action.replace(/[^a-z0-9]/gi, '_')}`;
  const literal = `'${action.replace(/'/g, "''")}'`;
  if (service.engine === 'postgres') {
    await sql.raw(`alter table audit_events add constraint ${name} check (action <> ${literal}) not valid`).execute(db);
    return async () => {
      await sql.raw(`alter table audit_events drop constraint ${name}`).execute(db);
    };
  }
  await sql
    .raw(`create trigger ${name} before insert on audit_events when new.action = ${literal} begin select raise(abort, 'audit refused'); end`)
    .execute(db);
  return async () => {
    await sql.raw(`drop trigger ${name}`).execute(db);
  };
}

/** The audit events of an account for one request, oldest first. */
export async function auditOfRequest(service: TestService, accountId: string, requestId: string) {
  const events = await service.app.audit.list(accountId, 1000);
  return events.filter((e) => e.requestId === requestId).reverse();
}
