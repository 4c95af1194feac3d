import { sql, type Kysely } from 'kysely';

/**
 * Finished jobs are deleted once `jobRetentionDays` old (`jobs.purge`): it finds them by the time
 * they finished, through a partial index that holds the finished ones only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`CREATE INDEX jobs_done_at ON jobs (updated_at) WHERE state = 'done'`).execute(db);
}
