import type { Command } from 'commander';
import type { Job } from '../../core/jobs/ports.js';
import { errors } from '../../kernel/errors.js';
import { OperatorJobs, JOB_STATES, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../../jobs/operator.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';
import type { App } from '../../main.js';

/**
 * `certplane jobs list|show|retry|discard`: the durable job queue as an operator sees it. Failed
 * jobs stay until an operator retries or discards them (`certplane_jobs{state="failed"}` counts
 * them); a running server picks a retried job up within its idle poll (at most 2 s).
 */
export function registerJobCommands(program: Command, out: CliOutput): void {
  const jobs = program.command('jobs').description('look at the durable job queue; retry or discard failed jobs');
  jobs
    .command('list')
    .description('jobs, most recently changed first, without payloads; prints {"total","jobs":[{"jobId","name","state",...}]}')
    .option('--state <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`)
    .option('--name <name>', 'only jobs of this job name (acme.issue, webhook.deliver, deploy.run, ...)')
    .option('--limit <n>', `at most this many (1-${LIST_LIMIT_MAX}, default ${LIST_LIMIT_DEFAULT})`)
    .action(async (opts: { state?: string; name?: string; limit?: string }, command: Command) => {
      const listed = await withJobs(command, (jobs) => jobs.list(opts));
      out.json({ total: listed.total, jobs: listed.jobs.map(present) });
    });
  jobs
    .command('show')
    .description('one job with its payload; prints {"job":{"jobId","name","state","payload",...}}')
    .requiredOption('--job <id>', 'job id (from jobs list)')
    .action(async (opts: { job: string }, command: Command) => {
      const job = await withJobs(command, (jobs) => jobs.show(opts.job));
      out.json({ job: { ...present(job), payload: job.payload } });
    });
  jobs
    .command('retry')
    .description('queue a failed job again now, with as many attempts again as it had; prints {"job":{…}}, or {"retried":N,"jobIds":[…]} with --failed')
    .option('--job <id>', 'the failed job')
    .option('--failed', 'every failed job (with --name: of that job name)')
    .option('--name <name>', 'with --failed: only jobs of this job name')
    .action(async (opts: { job?: string; failed?: boolean; name?: string }, command: Command) => {
      const id = oneTarget(opts);
      if (id !== undefined) {
        out.json({ job: present(await withJobs(command, (jobs) => jobs.retry(id))) });
        return;
      }
      const ids = await withJobs(command, (jobs) => jobs.retryFailed(opts.name));
      out.json({ retried: ids.length, jobIds: ids });
    });
  jobs
    .command('discard')
    .description('delete a failed job; prints {"discarded":{…}}, or {"discarded":N,"jobIds":[…]} with --failed')
    .option('--job <id>', 'the failed job')
    .option('--failed', 'every failed job (with --name, --before: only those)')
    .option('--name <name>', 'with --failed: only jobs of this job name')
    .option('--before <time>', 'with --failed: only jobs that failed before this ISO 8601 date or time')
    .action(async (opts: { job?: string; failed?: boolean; name?: string; before?: string }, command: Command) => {
      const id = oneTarget(opts);
      if (id !== undefined) {
        out.json({ discarded: present(await withJobs(command, (jobs) => jobs.discard(id))) });
        return;
      }
      const ids = await withJobs(command, (jobs) => jobs.discardFailed(opts.name, opts.before));
      out.json({ discarded: ids.length, jobIds: ids });
    });
}

/** `--job ID` or `--failed`, exactly one; `--name` / `--before` only go with `--failed`. */
function oneTarget(opts: { job?: string; failed?: boolean; name?: string; before?: string }): string | undefined {
  if ((opts.job === undefined) === (opts.failed !== true)) throw errors.invalidParameter('job', 'give either --job ID or --failed');
  if (opts.job !== undefined && (opts.name !== undefined || opts.before !== undefined)) {
    throw errors.invalidParameter(opts.name !== undefined ? 'name' : 'before', '--name and --before go with --failed, not with --job');
  }
  return opts.job;
}

function withJobs<T>(command: Command, work: (jobs: OperatorJobs) => Promise<T>): Promise<T> {
  return withApp(command, (app: App) => work(new OperatorJobs({ store: app.jobs, clock: app.clock, names: app.jobHandlers.names })));
}

function present(job: Job) {
  return {
    jobId: job.id,
    name: job.name,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt.toISOString(),
    lastError: job.lastError ?? null,
    idempotencyKey: job.idempotencyKey ?? null,
    leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}
