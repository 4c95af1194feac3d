/**
 * What an operator does with the job queue (`certplane jobs …`): look at jobs, and deal with the
 * failed ones, which nothing else removes. A failed job is queued again with as many attempts again
 * as it had (handlers are idempotent and advance a state machine, so a run of work that is no longer
 * needed ends at once) or deleted. Only failed jobs are touched: queued and running ones belong to the
 * workers, done ones to `jobs.purge`.
 */
import type { Job, JobNameFilter, JobState } from '../core/jobs/ports.js';
import type { Clock } from '../kernel/clock.js';
import { errors } from '../kernel/errors.js';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
/** Most jobs one `jobs list` prints. */
export const LIST_LIMIT_MAX = 1000;
export const LIST_LIMIT_DEFAULT = 50;

export interface OperatorJobStore {
  find(id: string): Promise<Job | undefined>;
  list(query: JobNameFilter & { state?: JobState; limit: number }): Promise<{ total: number; jobs: Job[] }>;
  requeueFailed(which: { id: string } | JobNameFilter, now: Date): Promise<Job[]>;
  deleteFailed(which: { id: string } | (JobNameFilter & { before?: Date })): Promise<string[]>;
}

export interface ListInput {
  state?: string | undefined;
  name?: string | undefined;
  limit?: string | undefined;
}

export class OperatorJobs {
  constructor(
    private readonly deps: {
      store: OperatorJobStore;
      clock: Clock;
      /** The job names this build runs: a `--name` outside them is a typo, said so. */
      names: readonly string[];
    },
  ) {}

  async list(input: ListInput): Promise<{ total: number; jobs: Job[] }> {
    const state = input.state === undefined ? undefined : this.state(input.state);
    const limit = input.limit === undefined ? LIST_LIMIT_DEFAULT : Number(input.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
      throw errors.invalidParameter('limit', `--limit must be a whole number from 1 to ${LIST_LIMIT_MAX}, not ${JSON.stringify(input.limit)}`);
    }
    return this.deps.store.list({ state, name: await this.name(input.name), limit });
  }

  async show(id: string): Promise<Job> {
    const job = await this.deps.store.find(id);
    if (!job) throw errors.jobNotFound(id);
    return job;
  }

  /** Queues the failed job `id` again now, with as many attempts again as it had. */
  async retry(id: string): Promise<Job> {
    const [requeued] = await this.deps.store.requeueFailed({ id }, this.deps.clock.now());
    if (requeued === undefined) throw await this.notFailed(id, 'retried');
    return requeued;
  }

  /** Queues every failed job (of `name`) again; their ids. */
  async retryFailed(name: string | undefined): Promise<string[]> {
    const requeued = await this.deps.store.requeueFailed({ name: await this.name(name) }, this.deps.clock.now());
    return requeued.map((job) => job.id);
  }

  /** Deletes the failed job `id`; the job as it was. */
  async discard(id: string): Promise<Job> {
    const job = await this.show(id);
    const [deleted] = await this.deps.store.deleteFailed({ id });
    if (deleted === undefined) throw await this.notFailed(id, 'discarded');
    return job;
  }

  /** Deletes every failed job (of `name`, last changed before `before`, an ISO 8601 time); their ids. */
  async discardFailed(name: string | undefined, before: string | undefined): Promise<string[]> {
    let at: Date | undefined;
    if (before !== undefined) {
      at = new Date(before);
      if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(before) || Number.isNaN(at.getTime())) {
        throw errors.invalidParameter('before', `--before must be an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z), not ${JSON.stringify(before)}`);
      }
    }
    return this.deps.store.deleteFailed({ name: await this.name(name), before: at });
  }

  /** Why `id` could not be retried or discarded: it does not exist, or it is not failed (any more). */
  private async notFailed(id: string, what: string) {
    const job = await this.deps.store.find(id);
    if (!job) return errors.jobNotFound(id);
    return errors.jobStateConflict(id, `is ${job.state}; only a failed job can be ${what}`);
  }

  private state(state: string): JobState {
    if (!(JOB_STATES as readonly string[]).includes(state)) {
      throw errors.invalidParameter('state', `--state must be one of ${JOB_STATES.join(', ')}, not ${JSON.stringify(state)}`);
    }
    return state as JobState;
  }

  /** A job name this build runs, or one some job in the table has (a handler not configured now: `dns01` unset). */
  private async name(name: string | undefined): Promise<string | undefined> {
    if (name === undefined || this.deps.names.includes(name)) return name;
    if ((await this.deps.store.list({ name, limit: 1 })).total > 0) return name;
    throw errors.invalidParameter('name', `--name must be one of the job names ${[...this.deps.names].sort().join(', ')}, not ${JSON.stringify(name)}`);
  }
}
