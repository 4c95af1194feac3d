import { sql, type Kysely } from 'kysely';

/**
 * A worker claims the due jobs in (run_at, id) order. Over (state, run_at) alone, every claim
 * sorted all the jobs due at the same moment by id (an expiry scan enqueues thousands at once), so
 * draining such a backlog took time that grew with the square of its size. With id in the index
 * the claim reads the first due jobs in order and stops at its limit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('CREATE INDEX jobs_due_order ON jobs (state, run_at, id)').execute(db);
  await sql.raw('DROP INDEX jobs_due').execute(db);
}
