import type { JsonValue } from '../core/jobs/ports.js';
import type { Logger } from '../kernel/logger.js';

/** What a handler gets besides its payload. */
export interface JobContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /**
   * Aborted when the worker gives up on this run: its lease was lost (another worker may be running
   * the job by now), or the worker is stopping and the grace period is over. Pass it to every wait.
   */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * How a run ends when it does not throw: done (nothing returned), or not finished yet, to be run
 * again at `continueAt` without using up an attempt (an order the CA is still processing).
 */
export type JobOutcome = void | { continueAt: Date };

/**
 * One handler per job name. It must be idempotent: a run cut short (a crash, a lost lease, a stop)
 * is run again from the start, so each step checks what is done already. Throwing retries it after
 * the worker's backoff; RetryAfter retries it at a given time; PermanentJobFailure fails it at once.
 */
export interface JobHandler<P> {
  readonly name: string;
  /** Checks the stored payload; a payload it rejects fails the job for good. */
  parse(payload: JsonValue): P;
  run(payload: P, context: JobContext): Promise<JobOutcome>;
}

/** The handlers one worker runs, by job name. */
export class JobRegistry {
  private readonly handlers = new Map<string, JobHandler<unknown>>();

  constructor(handlers: ReadonlyArray<JobHandler<unknown>>) {
    for (const handler of handlers) {
      if (this.handlers.has(handler.name)) throw new Error(`two job handlers are named ${handler.name}`);
      this.handlers.set(handler.name, handler);
    }
  }

  get names(): string[] {
    return [...this.handlers.keys()];
  }

  get(name: string): JobHandler<unknown> | undefined {
    return this.handlers.get(name);
  }
}
