/**
 * `jobs.purge` over the real job table on both engines: the worker runs it, it deletes the jobs that
 * finished more than jobRetentionDays ago, in batches, and nothing else (younger finished jobs,
 * failed, queued and running ones stay), then asks to run again an hour later.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Database } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { JobRegistry, type JobHandler } from '../../src/jobs/handler.js';
import { JOBS_PURGE_JOB, PURGE_EVERY_MS, jobsPurgeJob, purgeJobsHandler } from '../../src/jobs/purge-jobs.js';
import { JobWorker } from '../../src/jobs/worker.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { ENGINES, openJobStoreDatabase, type JobStoreDatabase } from '../support/databases.js';

const T0 = new Date('2030-06-01T00:00:00.000Z');
const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

for (const engine of ENGINES) {
  describe(`jobs.purge on ${engine}`, () => {
    let opened: JobStoreDatabase;
    let database: Database;
    const clock = fixedClock(T0);
    let jobs: SqlJobStore;

    before(async () => {
      opened = await openJobStoreDatabase(engine, clock);
      ({ database, jobs } = opened);
    });
    after(() => opened?.close());

    /** A job of `state` whose last change was `daysAgo` days before T0. */
    const jobIn = async (state: 'queued' | 'running' | 'done' | 'failed', daysAgo: number, key?: string): Promise<string> => {
      const { id } = await jobs.enqueue({ name: 'test.kept-or-purged', payload: { state, daysAgo }, idempotencyKey: key });
      const when = new Date(T0.getTime() - daysAgo * DAY).toISOString();
      await database.db.updateTable('jobs').set({ state, updated_at: when, run_at: when }).where('id', '=', id).execute();
      return id;
    };
    const remaining = async (ids: string[]) =>
      (await database.db.selectFrom('jobs').select('id').where('id', 'in', ids).execute()).map((r) => r.id).sort();

    it('deletes only the jobs finished more than jobRetentionDays ago, in batches, and runs again an hour later', async () => {
      const old = [await jobIn('done', 31, 'event:certificate.revoked:client:1:x'), await jobIn('done', 400)];
      const kept = [await jobIn('done', 29), await jobIn('done', 0), await jobIn('failed', 400), await jobIn('queued', 400), await jobIn('running', 400)];
      // More finished jobs than one batch holds.
      const many = Array.from({ length: 2500 }, (_, i) => ({ id: `bulk-${engine}-${i}`, when: new Date(T0.getTime() - 60 * DAY - i).toISOString() }));
      for (let i = 0; i < many.length; i += 500) {
        await database.db
          .insertInto('jobs')
          .values(many.slice(i, i + 500).map(({ id, when }) => ({ id, name: 'test.bulk', payload: '{}', state: 'done', run_at: when, attempts: 1, max_attempts: 1, created_at: when, updated_at: when })))
          .execute();
      }

      const { id } = await jobs.ensureRecurring(jobsPurgeJob);
      const worker = new JobWorker({
        leases: jobs,
        registry: new JobRegistry([purgeJobsHandler({ jobs, clock, retentionDays: 30 }) as JobHandler<unknown>]),
        clock,
        logger,
        concurrency: 1,
      });
      assert.equal(await worker.runDue(), 1);

      assert.deepEqual(await remaining([...old, ...kept]), [...kept].sort());
      assert.equal((await remaining(many.map((m) => m.id))).length, 0, 'every batch');
      const purge = (await jobs.find(id))!;
      assert.deepEqual([purge.name, purge.state, purge.runAt.getTime()], [JOBS_PURGE_JOB, 'queued', T0.getTime() + PURGE_EVERY_MS]);
      assert.equal(await worker.runDue(), 0, 'not due again before the hour is over');

      // A key that went with its finished job names new work again.
      const again = await jobs.enqueue({ name: 'test.kept-or-purged', payload: {}, idempotencyKey: 'event:certificate.revoked:client:1:x' });
      assert.equal(again.created, true);
    });
  });
}
