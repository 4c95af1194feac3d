/**
 * `jobs.purge`: deletes the jobs that finished (`done`) more than `jobRetentionDays` ago, a batch at
 * a time, then runs again an hour later (one recurring job row across every process, kept by
 * `SqlJobStore.ensureRecurring` at worker start). Failed jobs stay for the operator to look at, and
 * queued or running ones are work still to do. A finished job's idempotency key goes with it: every
 * key certplane uses names one piece of work that is not asked for again once it has been done
 * (an event, a delivery, a scan period, an issuance), so nothing runs twice because of it.
 */
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';

export const JOBS_PURGE_JOB = 'jobs.purge';
const DAY_MS = 86_400_000;
/** How often the purge runs. */
export const PURGE_EVERY_MS = 3_600_000;
/** Rows per delete statement: short transactions that leave the write lock (and the event loop) to the others in between. */
const PURGE_BATCH = 1000;

export interface FinishedJobs {
  /** Deletes up to `limit` jobs that finished before `before`; how many it deleted. */
  purgeDone(before: Date, limit: number): Promise<number>;
}

/** The one `jobs.purge` job. */
export const jobsPurgeJob = { name: JOBS_PURGE_JOB, payload: {}, idempotencyKey: JOBS_PURGE_JOB, maxAttempts: 1000 };

export function purgeJobsHandler(deps: { jobs: FinishedJobs; clock: Clock; retentionDays: number }) {
  return {
    name: JOBS_PURGE_JOB,
    parse: (): Record<string, never> => ({}),
    async run(_payload: Record<string, never>, context: { signal: AbortSignal; logger: Logger }): Promise<{ continueAt: Date }> {
      const now = deps.clock.now();
      const before = new Date(now.getTime() - deps.retentionDays * DAY_MS);
      let deleted = 0;
      for (;;) {
        context.signal.throwIfAborted();
        const batch = await deps.jobs.purgeDone(before, PURGE_BATCH);
        deleted += batch;
        if (batch < PURGE_BATCH) break;
        // Between two batches the event loop takes its turn too: on SQLite a delete answers
        // synchronously, and this process's requests would otherwise wait for the whole purge.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (deleted > 0) context.logger.info({ deleted, finishedBefore: before.toISOString() }, 'finished jobs purged');
      return { continueAt: new Date(now.getTime() + PURGE_EVERY_MS) };
    },
  };
}
