/**
 * A backlog of quick jobs, or a purge of many finished ones, does not stop the API, on both engines. An expiry scan over thousands of
 * short-lived client certificates queues as many events at once; the server runs them in its own
 * process (`certplane serve`, role all). On SQLite every query answers synchronously, so a worker
 * that never gave the event loop a turn ran the whole backlog before accepting a connection: the
 * API stood still for seconds (tens of seconds for tens of thousands of events).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueueManyWith } from '../../src/adapters/db/job-store.js';
import { EVENT_PUBLISH_JOB, eventJob } from '../../src/core/events/model.js';
import { purgeJobsHandler } from '../../src/jobs/purge-jobs.js';
import { systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const BACKLOG = 3000;
const FINISHED = 30_000;

for (const engine of ENGINES) {
  describe(`a backlog of jobs on ${engine}`, () => {
    let service: TestService;
    before(async () => {
      service = await startService(engine, { worker: {} });
    });
    after(() => service?.stop());

    const queued = async (): Promise<number> => {
      const row = await service.app.database.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('name', '=', EVENT_PUBLISH_JOB)
        .where('state', '!=', 'done')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };

    it('leaves the API answering while the worker runs it', async () => {
      const account = await service.app.accounts.createAccount('backlog');
      const now = new Date();
      const events = Array.from({ length: BACKLOG }, (_, i) =>
        eventJob({ accountId: account.id, type: 'certificate.expiring', subject: { kind: 'client', id: `c${i}` }, occurredAt: now, data: { serialNumber: `${i}` } }, `${i}`),
      );
      // Queued in one go, as an expiry scan does, and the worker woken as the scan wakes it.
      await enqueueManyWith(service.app.database.db, events, now, () => randomIds.hex32());
      service.app.jobs.announce();

      const asked = Date.now();
      const res = await fetch(`${service.baseUrl}/healthz`);
      const answeredAfterMs = Date.now() - asked;
      const left = await queued();
      assert.equal(res.status, 200);
      assert.ok(left > 0, `the API answered only once all ${BACKLOG} events had run (after ${answeredAfterMs} ms)`);

      // And the backlog does run to the end meanwhile.
      const deadline = Date.now() + 60_000;
      while ((await queued()) > 0) {
        assert.ok(Date.now() < deadline, `${await queued()} of ${BACKLOG} events still not run after 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    it('leaves the API answering while finished jobs are purged', async () => {
      const now = new Date();
      const old = new Date(now.getTime() - 40 * 86_400_000).toISOString();
      const jobs = Array.from({ length: FINISHED }, (_, i) => ({ name: 'test.finished', payload: null, idempotencyKey: `finished:${i}` }));
      await enqueueManyWith(service.app.database.db, jobs, now, () => randomIds.hex32());
      await service.app.database.db.updateTable('jobs').set({ state: 'done', updated_at: old }).where('name', '=', 'test.finished').execute();
      const finished = async (): Promise<number> => {
        const row = await service.app.database.db
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('name', '=', 'test.finished')
          .executeTakeFirstOrThrow();
        return Number(row.n);
      };

      const purge = purgeJobsHandler({ jobs: service.app.jobs, clock: systemClock, retentionDays: 30 });
      const purging = purge.run({}, { signal: new AbortController().signal, logger: service.app.logger });
      const res = await fetch(`${service.baseUrl}/healthz`);
      const left = await finished();
      assert.equal(res.status, 200);
      assert.ok(left > 0, `the API answered only once all ${FINISHED} finished jobs were purged`);
      await purging;
      assert.equal(await finished(), 0, 'every finished job older than the retention is gone');
    });
  });
}
