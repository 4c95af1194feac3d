/**
 * Two worker processes on one database work through many jobs at once, some of them longer than a
 * lease (kept only by renewal): every job runs exactly once, never two runs of one job at the same
 * time, and both processes take part. Each run records itself in the database, so overlap is
 * counted by the database, not inferred from clocks.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrate, openDatabase, type Database } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

const CHILD = fileURLToPath(new URL('../support/job-worker.js', import.meta.url));
const PROBE_JOB = 'test.probe';
const SHORT_JOBS = 150;
const LONG_JOBS = 4;
// Long enough that a process starved of CPU for a moment (a loaded machine) still renews in time.
const LEASE_MS = 2500;

for (const engine of ENGINES) {
  describe(`two worker processes on ${engine}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    const children: ChildProcess[] = [];

    before(async () => {
      testDb = await createTestDatabase(engine);
      database = openDatabase(testDb.database);
      await migrate(database.db);
      await sql`create table job_probe (
        job_id text primary key,
        active integer not null default 0,
        max_active integer not null default 0,
        runs integer not null default 0,
        workers text not null default '')`.execute(database.db);
    });
    after(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await database.close();
      await testDb.drop();
    });

    it('never run one job twice or at the same time, long jobs kept by lease renewal included', async () => {
      const jobs = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
      const durations = [...Array.from({ length: SHORT_JOBS }, (_, i) => i % 7), ...Array.from({ length: LONG_JOBS }, () => 3 * LEASE_MS)];
      for (const ms of durations) {
        const { id } = await jobs.enqueue({ name: PROBE_JOB, payload: { ms } });
        await sql`insert into job_probe (job_id) values (${id})`.execute(database.db);
      }
      const exits = ['worker-a', 'worker-b'].map((name) => startWorker(name, testDb.url, children));
      await Promise.all(children.map(untilReady));

      const deadline = Date.now() + 90_000;
      while ((await remaining(database)) > 0) {
        assert.ok(Date.now() < deadline, 'the jobs were not all done in time');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const child of children) child.kill('SIGTERM');
      assert.deepEqual(await Promise.all(exits), [0, 0]);

      const probes = await sql<{ runs: number; max_active: number; workers: string }>`select runs, max_active, workers from job_probe`.execute(database.db);
      assert.equal(probes.rows.length, durations.length);
      assert.deepEqual(probes.rows.filter((p) => Number(p.runs) !== 1 || Number(p.max_active) !== 1), [], 'each job ran once, alone');
      const workers = new Set(probes.rows.map((p) => p.workers.trim()));
      assert.deepEqual([...workers].sort(), ['worker-a', 'worker-b'], 'both processes worked');
      const states = await sql<{ state: string; attempts: number }>`select distinct state, attempts from jobs`.execute(database.db);
      assert.deepEqual(states.rows.map((r) => [r.state, Number(r.attempts)]), [['done', 1]]);
    });
  });
}

function startWorker(name: string, url: string, children: ChildProcess[]): Promise<number | null> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, DATABASE_URL: url, WORKER_NAME: name, PROBE_JOB, LEASE_MS: String(LEASE_MS), CONCURRENCY: '4' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      if (text.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
}

async function remaining(database: Database): Promise<number> {
  const row = await sql<{ n: number | string }>`select count(*) as n from jobs where state <> 'done'`.execute(database.db);
  return Number(row.rows[0]!.n);
}
