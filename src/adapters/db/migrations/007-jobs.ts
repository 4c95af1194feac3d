import { sql, type Kysely } from 'kysely';

/**
 * Durable jobs: one row per job, claimed by workers with a lease (`lease_owner` until
 * `lease_expires_at`), attempts counted, retried at `run_at`. `idempotency_key` is unique (NULLs
 * apart), so the same work is never queued twice. Workers look for due jobs by (state, run_at) and
 * for expired leases by (state, lease_expires_at).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('jobs_state', sql`state in ('queued', 'running', 'done', 'failed')`)
    .addCheckConstraint('jobs_attempts', sql`attempts >= 0 and max_attempts >= 1`)
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema.createIndex('jobs_lease').on('jobs').columns(['state', 'lease_expires_at']).execute();
}
