/**
 * Durable jobs: work that must happen even if the process that asked for it dies. A job is a row
 * with a name, a JSON payload, a lease and an attempt count; a worker claims due jobs with a lease
 * it keeps renewing while the handler runs, so two processes never work one job at once, and a
 * job whose worker died is claimed again once its lease runs out.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type JobState = 'queued' | 'running' | 'done' | 'failed';

/** Every job, or only those of one job name (`acme.issue`). */
export interface JobNameFilter {
  name?: string | undefined;
}

export interface NewJob {
  /** Which handler runs it (`dns01.remove-record`). */
  name: string;
  payload: JsonValue;
  /**
   * At most one job ever exists per key: enqueueing a key again returns the job that has it,
   * whatever its state. Make it name the work (`dns01.remove:{order}:{authorization}`).
   */
  idempotencyKey?: string | undefined;
  /** Not before this time (default: now). */
  runAt?: Date | undefined;
  /** Runs that may fail (or be cut short by a dead worker) before it fails for good (default 8). */
  maxAttempts?: number | undefined;
}

export interface Enqueued {
  id: string;
  /** False when a job with the same idempotency key existed already: `id` is that job's. */
  created: boolean;
}

/**
 * Where producers put jobs. To enqueue in the same transaction as another change (a job exists
 * exactly when the change does), a store port takes the `NewJob` along with its change, and its
 * SQL adapter inserts it in its transaction (`enqueueWith` in adapters/db/job-store.ts).
 */
export interface JobQueue {
  enqueue(job: NewJob): Promise<Enqueued>;
  find(id: string): Promise<Job | undefined>;
}

export interface Job {
  id: string;
  name: string;
  payload: JsonValue;
  state: JobState;
  runAt: Date;
  /** Runs claimed so far, the one in progress included. */
  attempts: number;
  maxAttempts: number;
  lastError: string | undefined;
  leaseOwner: string | undefined;
  leaseExpiresAt: Date | undefined;
  idempotencyKey: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One claim of one job. Every write a worker makes about the job is conditional on it, so a worker
 * whose lease was taken over (it stalled, the lease ran out, another worker claimed the job) can
 * no longer change the job.
 */
export interface Lease {
  jobId: string;
  owner: string;
  /** The job's attempt count when claimed: a later claim, even by the same owner, is another lease. */
  attempt: number;
}

export interface ClaimRequest {
  owner: string;
  /** Only jobs of these names (the handlers this worker has). */
  names: readonly string[];
  limit: number;
  now: Date;
  leaseUntil: Date;
}

/** What workers need of the job table. Each method but claim returns false when the lease is no longer held. */
export interface JobLeases {
  /**
   * Claims up to `limit` due jobs: queued ones whose time has come, and running ones whose lease
   * expired (their worker died). Counts an attempt for each. Jobs whose lease expired on their last
   * attempt are failed instead.
   */
  claim(request: ClaimRequest): Promise<Job[]>;
  renew(lease: Lease, until: Date, now: Date): Promise<boolean>;
  complete(lease: Lease, now: Date): Promise<boolean>;
  /** Queued again for `at`; `countsAsAttempt: false` gives the attempt back (the job is waiting, not failing). */
  reschedule(lease: Lease, at: Date, now: Date, options: { error?: string; countsAsAttempt: boolean }): Promise<boolean>;
  fail(lease: Lease, error: string, now: Date): Promise<boolean>;
  /** Queued again at once, the attempt given back: the worker is stopping, the job did nothing wrong. */
  release(lease: Lease, now: Date): Promise<boolean>;
}

/**
 * Thrown by a handler (or the core under it) to be retried no sooner than `at`, instead of after
 * the worker's backoff: an ACME server's Retry-After. It counts as a failed attempt.
 */
export class RetryAfter extends Error {
  override readonly name = 'RetryAfter';
  constructor(
    readonly at: Date,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown when trying again cannot help (an invalid payload, an order the CA rejected): the job fails at once. */
export class PermanentJobFailure extends Error {
  override readonly name = 'PermanentJobFailure';
}
