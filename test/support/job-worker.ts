/**
 * A worker process for tests (run as `node dist/test/support/job-worker.js`): the real JobWorker and
 * job store on DATABASE_URL, running one handler, named by PROBE_JOB, that records each run in the
 * `job_probe` table the test made (job_id, active, max_active, runs, workers): how many runs of the
 * job are active at once (at its start), in all, and by which workers. Prints `ready` once started;
 * SIGTERM stops it as `certplane serve` stops its workers.
 */
import { sql } from 'kysely';
import { pino } from 'pino';
import { openDatabase } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { JobRegistry, type JobHandler } from '../../src/jobs/handler.js';
import { JobWorker } from '../../src/jobs/worker.js';
import { systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL!;
  const name = process.env.WORKER_NAME ?? `pid-${process.pid}`;
  const database = openDatabase(url.startsWith('sqlite:') ? { kind: 'sqlite', file: url.slice('sqlite:'.length) } : { kind: 'postgres', url });
  const db = database.db;
  const probe: JobHandler<{ ms: number }> = {
    name: process.env.PROBE_JOB!,
    parse: (payload) => payload as { ms: number },
    run: async ({ ms }, { jobId }) => {
      await sql`update job_probe set active = active + 1, runs = runs + 1,
        max_active = case when active + 1 > max_active then active + 1 else max_active end,
        workers = workers || ${`${name} `} where job_id = ${jobId}`.execute(db);
      await new Promise((resolve) => setTimeout(resolve, ms));
      await sql`update job_probe set active = active - 1 where job_id = ${jobId}`.execute(db);
    },
  };
  const worker = new JobWorker({
    leases: new SqlJobStore(database, { clock: systemClock, ids: randomIds }),
    registry: new JobRegistry([probe]),
    clock: systemClock,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    concurrency: Number(process.env.CONCURRENCY ?? 4),
    owner: name,
    leaseMs: Number(process.env.LEASE_MS ?? 30_000),
    idlePollMs: { min: 10, max: 50 },
  });
  worker.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void worker
      .stop(2000)
      .then(() => database.close())
      .then(() => process.exit(0));
  });
}

await main();
