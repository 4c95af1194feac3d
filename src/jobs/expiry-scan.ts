/**
 * `expiry.scan`, every `expiryScanMinutes`: one job per period across all processes, named by
 * the period's start (idempotency key `expiry.scan:{start}`). Each run first enqueues the next
 * period's job, then scans (core/events/expiry-scan.ts), so the chain survives a failed scan; a
 * worker process ensures the current period's job exists when it starts.
 */
import { crossingJob, type ExpiryScanStore } from '../core/events/expiry-scan.js';
import type { JobQueue, JsonValue } from '../core/jobs/ports.js';
import type { Clock } from '../kernel/clock.js';
import type { JobHandler } from './handler.js';

export const EXPIRY_SCAN_JOB = 'expiry.scan';
/** A scan that keeps failing is retried for a long while; the next period's job exists regardless. */
const SCAN_ATTEMPTS = 50;

export interface ExpiryScanDeps {
  store: ExpiryScanStore;
  jobs: JobQueue;
  clock: Clock;
  expiringDays: number;
  periodMinutes: number;
  /** Wakes this process's workers for the events a scan enqueued in its transaction. */
  announce?: () => void;
}

function periodStart(at: Date, periodMinutes: number): Date {
  const ms = periodMinutes * 60_000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

/** Enqueues the scan of the period `at` falls in (nothing when it exists, whatever its state). */
export async function scheduleExpiryScan(deps: Pick<ExpiryScanDeps, 'jobs' | 'periodMinutes'>, at: Date): Promise<{ id: string; created: boolean }> {
  const start = periodStart(at, deps.periodMinutes);
  return deps.jobs.enqueue({
    name: EXPIRY_SCAN_JOB,
    payload: { period: start.toISOString() },
    idempotencyKey: `expiry.scan:${start.toISOString()}`,
    runAt: start,
    maxAttempts: SCAN_ATTEMPTS,
  });
}

export function expiryScan(deps: ExpiryScanDeps): JobHandler<{ period: string }> {
  return {
    name: EXPIRY_SCAN_JOB,
    parse(payload: JsonValue) {
      const period = (payload as { period?: unknown } | null)?.period;
      if (typeof period !== 'string' || Number.isNaN(Date.parse(period))) throw new Error('not an expiry scan payload');
      return { period };
    },
    async run(_payload, { logger }) {
      const now = deps.clock.now();
      await scheduleExpiryScan(deps, new Date(periodStart(now, deps.periodMinutes).getTime() + deps.periodMinutes * 60_000));
      const result = await deps.store.scan(now, deps.expiringDays, (crossing) => crossingJob(crossing, now));
      if (result.expiring + result.expired > 0) deps.announce?.();
      if (result.expiring + result.expired > 0) logger.info({ expiring: result.expiring, expired: result.expired }, 'expiry scan reported certificates');
    },
  };
}
