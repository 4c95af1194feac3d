/**
 * The worker role: claims due jobs with a lease, runs at most `concurrency` of them at once, renews
 * each lease while its handler runs, and records how each run ended. Idle, it polls with a growing
 * interval; a job finishing or one enqueued in this process wakes it at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PermanentJobFailure, RetryAfter, type Job, type JobLeases, type Lease } from '../core/jobs/ports.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';
import type { JobOutcome, JobRegistry } from './handler.js';

export interface WorkerOptions {
  leases: JobLeases;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  concurrency: number;
  /** Shown in `jobs.lease_owner` (default `host:pid:random`). */
  owner?: string;
  /** How long a claim holds without renewal (default 30 s); renewed every third of it. */
  leaseMs?: number;
  /** Idle polling: from `min` after work, doubling to `max` (default 100 ms to 2 s). */
  idlePollMs?: { min: number; max: number };
  /** Retry delays: `baseMs` doubling per attempt up to `maxMs`, with jitter (default 5 s to 10 min). */
  backoff?: Backoff;
  /** For the jitter (default Math.random). */
  random?: () => number;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * The delay before retrying after failed attempt number `attempt` (1, 2, …): `baseMs · 2^(attempt−1)`
 * up to `maxMs`, of which the second half is random, so jobs that failed together do not all come back together.
 */
export function retryDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const full = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** After a stop's grace period, how long aborted handlers get before their leases are released under them. */
const ABORT_SETTLE_MS = 1000;
const MAX_ERROR_CHARACTERS = 2000;

interface Run {
  job: Job;
  lease: Lease;
  controller: AbortController;
  /** The lease is gone (another worker may have the job): nothing about this run is recorded. */
  lost: boolean;
  /** The worker is stopping and stopped waiting: the lease is released rather than the outcome recorded. */
  givenUp: boolean;
  done: Promise<void>;
  renewal: NodeJS.Timeout | undefined;
}

type Ending = { ok: true; outcome: JobOutcome } | { ok: false; error: unknown; permanent: boolean };

export class JobWorker {
  readonly owner: string;
  private readonly runs = new Map<string, Run>();
  private readonly leaseMs: number;
  private readonly poll: { min: number; max: number };
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private woken = false;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: WorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.poll = options.idlePollMs ?? { min: 100, max: 2000 };
    this.backoff = options.backoff ?? { baseMs: 5000, maxMs: 600_000 };
    this.random = options.random ?? Math.random;
  }

  /** Jobs running now. */
  get active(): number {
    return this.runs.size;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Look for due jobs now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Claims what is due (up to the free capacity) and runs it to the end: the worker's one step, for
   * tests and for callers that drive it themselves. Returns how many jobs ran.
   */
  async runDue(): Promise<number> {
    const runs = await this.claimAndLaunch();
    await Promise.all(runs.map((run) => run.done));
    return runs.length;
  }

  /**
   * Stops claiming, lets running jobs finish for `graceMs`, then aborts the rest and releases their
   * leases (queued again at once, the attempt given back) so another worker takes them over.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    if (await settledWithin(this.pending(), graceMs)) return;
    for (const run of this.runs.values()) {
      run.givenUp = true;
      run.controller.abort(new Error('the worker is stopping'));
    }
    if (await settledWithin(this.pending(), ABORT_SETTLE_MS)) return;
    // Handlers that ignore their signal: release under them (their late outcome is then refused).
    await Promise.all(
      [...this.runs.values()].map((run) => {
        clearInterval(run.renewal);
        return this.release(run);
      }),
    );
  }

  private pending(): Promise<unknown> {
    return Promise.allSettled([...this.runs.values()].map((run) => run.done));
  }

  private async loop(): Promise<void> {
    let idle = this.poll.min;
    this.options.logger.info({ owner: this.owner, concurrency: this.options.concurrency, jobs: this.options.registry.names }, 'worker started');
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = (await this.claimAndLaunch()).length;
      } catch (err) {
        this.options.logger.error({ err }, 'cannot claim jobs');
      }
      // Full: a finishing job wakes the loop. Otherwise nothing more is due now: poll again later,
      // less often the longer nothing comes.
      const full = this.runs.size >= this.options.concurrency;
      if (claimed > 0) idle = this.poll.min;
      await this.sleep(full ? this.poll.max : idle);
      if (claimed === 0 && !full) idle = Math.min(idle * 2, this.poll.max);
    }
    this.options.logger.info({ owner: this.owner, running: this.runs.size }, 'worker stopping');
  }

  private async claimAndLaunch(): Promise<Run[]> {
    const free = this.options.concurrency - this.runs.size;
    if (free < 1 || this.stopping) return [];
    const now = this.options.clock.now();
    const jobs = await this.options.leases.claim({
      owner: this.owner,
      names: this.options.registry.names,
      limit: free,
      now,
      leaseUntil: new Date(now.getTime() + this.leaseMs),
    });
    return jobs.map((job) => this.launch(job));
  }

  private launch(job: Job): Run {
    const run: Run = {
      job,
      lease: { jobId: job.id, owner: this.owner, attempt: job.attempts },
      controller: new AbortController(),
      lost: false,
      givenUp: false,
      done: Promise.resolve(),
      renewal: undefined,
    };
    this.runs.set(job.id, run);
    run.renewal = setInterval(() => void this.renew(run), Math.max(1, Math.floor(this.leaseMs / 3)));
    run.done = this.execute(run).finally(() => {
      clearInterval(run.renewal);
      this.runs.delete(job.id);
      this.wake();
    });
    return run;
  }

  private async execute(run: Run): Promise<void> {
    const { job } = run;
    const logger = this.options.logger.child({ job: job.id, jobName: job.name, attempt: job.attempts });
    const handler = this.options.registry.get(job.name);
    let ending: Ending;
    try {
      if (!handler) throw new PermanentJobFailure(`no handler for ${job.name}`);
      let payload: unknown;
      try {
        payload = handler.parse(job.payload);
      } catch (err) {
        throw new PermanentJobFailure(`invalid payload: ${(err as Error).message}`, { cause: err });
      }
      const context = { jobId: job.id, attempt: job.attempts, maxAttempts: job.maxAttempts, signal: run.controller.signal, logger };
      ending = { ok: true, outcome: await handler.run(payload, context) };
    } catch (error) {
      ending = { ok: false, error, permanent: error instanceof PermanentJobFailure };
    }
    try {
      await this.record(run, ending, logger);
    } catch (err) {
      // The lease runs out and the job is claimed again: handlers are idempotent.
      logger.error({ err }, 'cannot record how the job ended');
    }
  }

  private async record(run: Run, ending: Ending, logger: Logger): Promise<void> {
    const { lease, job } = run;
    const now = this.options.clock.now();
    if (run.lost) return logger.warn({}, 'lease lost while the job ran; its outcome is not recorded');
    if (run.givenUp) return void (await this.release(run));
    let held: boolean;
    if (ending.ok) {
      const later = ending.outcome?.continueAt;
      held = later ? await this.options.leases.reschedule(lease, later, now, { countsAsAttempt: false }) : await this.options.leases.complete(lease, now);
      logger.debug({ continueAt: later }, later ? 'job continues later' : 'job done');
    } else {
      const error = describe(ending.error);
      if (ending.permanent || lease.attempt >= job.maxAttempts) {
        held = await this.options.leases.fail(lease, error, now);
        logger.warn({ err: ending.error }, 'job failed for good');
      } else {
        const at = ending.error instanceof RetryAfter ? ending.error.at : new Date(now.getTime() + retryDelay(lease.attempt, this.backoff, this.random));
        held = await this.options.leases.reschedule(lease, at, now, { error, countsAsAttempt: true });
        logger.warn({ err: ending.error, retryAt: at.toISOString() }, 'job failed; it will be retried');
      }
    }
    if (!held) logger.warn({}, 'lease lost before the outcome was recorded');
  }

  private async renew(run: Run): Promise<void> {
    try {
      const now = this.options.clock.now();
      const held = await this.options.leases.renew(run.lease, new Date(now.getTime() + this.leaseMs), now);
      if (!held && this.runs.has(run.job.id) && !run.givenUp) {
        run.lost = true;
        run.controller.abort(new Error('the job\'s lease was lost'));
      }
    } catch (err) {
      // Not fatal by itself: the next renewal may succeed before the lease runs out.
      this.options.logger.warn({ err, job: run.job.id }, 'cannot renew a job lease');
    }
  }

  private async release(run: Run): Promise<void> {
    try {
      await this.options.leases.release(run.lease, this.options.clock.now());
    } catch (err) {
      this.options.logger.warn({ err, job: run.job.id }, 'cannot release a job lease; it will be reclaimed when it expires');
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      // Not a resolved promise: on SQLite every query answers synchronously, so a backlog of quick
      // jobs would be claimed, run and recorded in one unbroken chain of microtasks, and the process
      // would accept no connection and answer no request until the backlog was gone. Between two
      // claims the event loop takes its turn.
      return new Promise<void>((resolve) => setImmediate(resolve));
    }
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = finish;
    });
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_CHARACTERS ? `${text.slice(0, MAX_ERROR_CHARACTERS)}…` : text;
}

function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
