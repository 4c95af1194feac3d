/**
 * The job table behind JobQueue and JobLeases. Claiming is one atomic statement per engine, so two
 * workers (in any processes) never claim the same job: on PostgreSQL the due rows are locked with
 * `FOR UPDATE SKIP LOCKED` (a row another claimer holds is passed over, not waited for) and updated
 * in the same statement; on SQLite, where writes are serialized, a conditional UPDATE … RETURNING
 * does it. Every later write is conditional on the lease (owner and attempt).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  ClaimRequest,
  Enqueued,
  Job,
  JobLeases,
  JobNameFilter,
  JobQueue,
  JobState,
  JsonValue,
  Lease,
  NewJob,
} from '../../core/jobs/ports.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Database } from './database.js';
import type { JobsTable, Schema } from './schema.js';

export const DEFAULT_MAX_ATTEMPTS = 8;

/** What a job whose lease ran out on its last attempt is failed with. */
export const LEASE_EXPIRED_ERROR = 'its worker stopped without finishing its last attempt (the lease expired)';

/**
 * Inserts `job` through `db`, which may be a caller's transaction: the job then exists exactly when
 * the caller's change does. A job with the same idempotency key is returned instead of a new one.
 */
export async function enqueueWith(db: Kysely<Schema> | Transaction<Schema>, job: NewJob, now: Date, id: string): Promise<Enqueued> {
  const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (job.name === '' || !Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('a job needs a name and maxAttempts ≥ 1');
  const at = now.toISOString();
  const inserted = await db
    .insertInto('jobs')
    .values({
      id,
      name: job.name,
      payload: JSON.stringify(job.payload),
      state: 'queued',
      run_at: (job.runAt ?? now).toISOString(),
      lease_owner: null,
      lease_expires_at: null,
      attempts: 0,
      max_attempts: maxAttempts,
      last_error: null,
      idempotency_key: job.idempotencyKey ?? null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const existing = await db.selectFrom('jobs').select('id').where('idempotency_key', '=', job.idempotencyKey ?? '').executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}

/**
 * Inserts many jobs through `db` (a caller's transaction) in multi-row statements, each job with an
 * idempotency key; a key that exists already keeps its job. Returns the keys of the jobs it created.
 */
export async function enqueueManyWith(
  db: Kysely<Schema> | Transaction<Schema>,
  jobs: readonly NewJob[],
  now: Date,
  newId: () => string,
): Promise<Set<string>> {
  const created = new Set<string>();
  const at = now.toISOString();
  for (let start = 0; start < jobs.length; start += ENQUEUE_BATCH) {
    const rows = jobs.slice(start, start + ENQUEUE_BATCH).map((job) => {
      const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (job.name === '' || !Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('a job needs a name and maxAttempts ≥ 1');
      if (!job.idempotencyKey) throw new RangeError('jobs enqueued together each need an idempotency key');
      return {
        id: newId(),
        name: job.name,
        payload: JSON.stringify(job.payload),
        state: 'queued' as const,
        run_at: (job.runAt ?? now).toISOString(),
        lease_owner: null,
        lease_expires_at: null,
        attempts: 0,
        max_attempts: maxAttempts,
        last_error: null,
        idempotency_key: job.idempotencyKey,
        created_at: at,
        updated_at: at,
      };
    });
    const inserted = await db
      .insertInto('jobs')
      .values(rows)
      .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
      .returning('idempotency_key')
      .execute();
    for (const row of inserted) if (row.idempotency_key !== null) created.add(row.idempotency_key);
  }
  return created;
}

/** Rows per multi-row insert: 13 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ENQUEUE_BATCH = 500;

export class SqlJobStore implements JobQueue, JobLeases {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly database: Pick<Database, 'db' | 'kind'>,
    private readonly deps: { clock: Clock; ids: IdGenerator },
  ) {}

  /** Calls `listener` after each job this store enqueues (a worker in this process wakes up at once). */
  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wakes this process's workers for jobs a caller enqueued in its own transaction (`enqueueWith`), once committed. */
  announce(): void {
    for (const listener of this.listeners) listener();
  }

  async enqueue(job: NewJob): Promise<Enqueued> {
    const enqueued = await enqueueWith(this.database.db, job, this.deps.clock.now(), this.deps.ids.hex32());
    if (enqueued.created) for (const listener of this.listeners) listener();
    return enqueued;
  }

  /**
   * Makes sure the one job of a recurring task exists and will run: enqueued once under its
   * idempotency key (the unique key decides between processes), and queued again now if an
   * earlier one ended (failed for good, or finished). Its handler keeps it alive by returning
   * `{ continueAt }` for the next run.
   */
  async ensureRecurring(job: NewJob & { idempotencyKey: string }): Promise<Enqueued> {
    const enqueued = await this.enqueue(job);
    if (enqueued.created) return enqueued;
    const now = this.deps.clock.now().toISOString();
    const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const revived = await this.database.db
      .updateTable('jobs')
      // As in requeueFailed, attempts keep counting: a worker still holding a lease of the ended run
      // must not find its attempt number current again. The revived run gets its full allowance.
      .set({ state: 'queued', run_at: now, max_attempts: sql<number>`attempts + ${maxAttempts}`, last_error: null, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('idempotency_key', '=', job.idempotencyKey)
      .where('state', 'in', ['done', 'failed'])
      .executeTakeFirst();
    if (revived.numUpdatedRows > 0n) this.announce();
    return enqueued;
  }

  /** Deletes up to `limit` jobs that finished (`done`) before `before`, oldest first; how many. */
  async purgeDone(before: Date, limit: number): Promise<number> {
    const finished = this.database.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'done')
      .where('updated_at', '<', before.toISOString())
      .orderBy('updated_at')
      .limit(limit);
    const result = await this.database.db.deleteFrom('jobs').where('id', 'in', finished).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Jobs in `state` (any state without), of `name` if given: the `limit` most recently changed, and how many there are. */
  async list(query: JobNameFilter & { state?: JobState; limit: number }): Promise<{ total: number; jobs: Job[] }> {
    let selected = this.database.db.selectFrom('jobs');
    if (query.state !== undefined) selected = selected.where('state', '=', query.state);
    if (query.name !== undefined) selected = selected.where('name', '=', query.name);
    const counted = await selected.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
    const rows = await selected.selectAll().orderBy('updated_at', 'desc').orderBy('id').limit(query.limit).execute();
    return { total: Number(counted.n), jobs: rows.map(toJob) };
  }

  /**
   * Queues failed jobs again, now, with as many attempts again as they had (`last_error` stays
   * until the next run ends): the one with `id`, or every failed job (of `name`). Returns them as requeued.
   */
  async requeueFailed(which: { id: string } | JobNameFilter, now: Date): Promise<Job[]> {
    const at = now.toISOString();
    let update = this.database.db
      .updateTable('jobs')
      // Attempts keep counting (each run's number stays unique: leases and per-attempt records rest on
      // it); the job gets as many more as it had in all.
      .set({ state: 'queued', run_at: at, max_attempts: sql<number>`attempts + max_attempts`, lease_owner: null, lease_expires_at: null, updated_at: at })
      .where('state', '=', 'failed');
    update = 'id' in which ? update.where('id', '=', which.id) : which.name === undefined ? update : update.where('name', '=', which.name);
    const rows = await update.returningAll().execute();
    if (rows.length > 0) this.announce();
    return rows.map(toJob);
  }

  /** Deletes failed jobs: the one with `id`, or every failed job (of `name`, last changed before `before`). Returns the ids deleted. */
  async deleteFailed(which: { id: string } | (JobNameFilter & { before?: Date })): Promise<string[]> {
    let deletion = this.database.db.deleteFrom('jobs').where('state', '=', 'failed');
    if ('id' in which) deletion = deletion.where('id', '=', which.id);
    else {
      if (which.name !== undefined) deletion = deletion.where('name', '=', which.name);
      if (which.before !== undefined) deletion = deletion.where('updated_at', '<', which.before.toISOString());
    }
    const rows = await deletion.returning('id').execute();
    return rows.map((row) => row.id);
  }

  async find(id: string): Promise<Job | undefined> {
    const row = await this.database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async claim(request: ClaimRequest): Promise<Job[]> {
    if (request.names.length === 0 || request.limit < 1) return [];
    const now = request.now.toISOString();
    await this.failExhausted(request.names, now);
    const expired = await this.claimDue('expired', request, request.limit);
    const queued = expired.length < request.limit ? await this.claimDue('queued', request, request.limit - expired.length) : [];
    return [...expired, ...queued].map(toJob);
  }

  async renew(lease: Lease, until: Date, now: Date): Promise<boolean> {
    return this.whileLeased(lease, { lease_expires_at: until.toISOString(), updated_at: now.toISOString() });
  }

  async complete(lease: Lease, now: Date): Promise<boolean> {
    return this.whileLeased(lease, { state: 'done', ...unleased(now) });
  }

  async reschedule(lease: Lease, at: Date, now: Date, options: { error?: string; countsAsAttempt: boolean }): Promise<boolean> {
    return this.whileLeased(lease, {
      state: 'queued',
      run_at: at.toISOString(),
      ...(options.error === undefined ? {} : { last_error: options.error }),
      ...(options.countsAsAttempt ? {} : { attempts: lease.attempt - 1 }),
      ...unleased(now),
    });
  }

  async fail(lease: Lease, error: string, now: Date): Promise<boolean> {
    return this.whileLeased(lease, { state: 'failed', last_error: error, ...unleased(now) });
  }

  async release(lease: Lease, now: Date): Promise<boolean> {
    return this.whileLeased(lease, { state: 'queued', run_at: now.toISOString(), attempts: lease.attempt - 1, ...unleased(now) });
  }

  /** Jobs whose worker died on their last attempt are not run again: they fail. */
  private async failExhausted(names: readonly string[], now: string): Promise<void> {
    await this.database.db
      .updateTable('jobs')
      .set({ state: 'failed', last_error: LEASE_EXPIRED_ERROR, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('state', '=', 'running')
      .where('lease_expires_at', '<=', now)
      .whereRef('attempts', '>=', 'max_attempts')
      .where('name', 'in', names)
      .execute();
  }

  private async claimDue(kind: 'queued' | 'expired', request: ClaimRequest, limit: number): Promise<JobsTable[]> {
    const now = request.now.toISOString();
    const db = this.database.db;
    const due = db
      .selectFrom('jobs')
      .select('id')
      .where('name', 'in', request.names)
      .$if(kind === 'queued', (q) => q.where('state', '=', 'queued').where('run_at', '<=', now).orderBy('run_at'))
      .$if(kind === 'expired', (q) =>
        q.where('state', '=', 'running').where('lease_expires_at', '<=', now).whereRef('attempts', '<', 'max_attempts').orderBy('lease_expires_at'),
      )
      .orderBy('id')
      .limit(limit)
      .$if(this.database.kind === 'postgres', (q) => q.forUpdate().skipLocked());
    return db
      .updateTable('jobs')
      .set({
        state: 'running',
        lease_owner: request.owner,
        lease_expires_at: request.leaseUntil.toISOString(),
        attempts: sql`attempts + 1`,
        updated_at: now,
      })
      .where('id', 'in', due)
      .returningAll()
      .execute();
  }

  private async whileLeased(lease: Lease, changes: Partial<JobsTable>): Promise<boolean> {
    const result = await this.database.db
      .updateTable('jobs')
      .set(changes)
      .where('id', '=', lease.jobId)
      .where('state', '=', 'running')
      .where('lease_owner', '=', lease.owner)
      .where('attempts', '=', lease.attempt)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function unleased(now: Date): Pick<JobsTable, 'lease_owner' | 'lease_expires_at' | 'updated_at'> {
  return { lease_owner: null, lease_expires_at: null, updated_at: now.toISOString() };
}

/** Rows are not domain objects: times become Dates, the payload its JSON value, NULLs undefined. */
function toJob(row: JobsTable): Job {
  return {
    id: row.id,
    name: row.name,
    payload: JSON.parse(row.payload) as JsonValue,
    state: row.state as JobState,
    runAt: new Date(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lastError: row.last_error ?? undefined,
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at ? new Date(row.lease_expires_at) : undefined,
    idempotencyKey: row.idempotency_key ?? undefined,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
