/**
 * The worker over the real job table on both engines, with an injected clock and jitter: how each
 * run's ending is recorded (done, later, retried with backoff or at Retry-After, failed), bounded
 * concurrency, leases renewed while a handler runs and given up when lost, and a clean stop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Database } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { PermanentJobFailure, RetryAfter, type Job, type JsonValue } from '../../src/core/jobs/ports.js';
import { JobRegistry, type JobContext, type JobHandler, type JobOutcome } from '../../src/jobs/handler.js';
import { JobWorker, retryDelay, type WorkerOptions } from '../../src/jobs/worker.js';
import { fixedClock, systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { ENGINES, openJobStoreDatabase, type JobStoreDatabase } from '../support/databases.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const logger = pino({ level: 'silent' });
const BACKOFF = { baseMs: 1000, maxMs: 8000 };

type Run = (payload: JsonValue, context: JobContext) => Promise<JobOutcome>;
let handlerCount = 0;
/** A handler of a name no other test uses, so each test claims only its own jobs. */
function handler(run: Run, parse: (payload: JsonValue) => JsonValue = (p) => p): JobHandler<JsonValue> {
  return { name: `test.job-${++handlerCount}`, parse, run };
}

for (const engine of ENGINES) {
  describe(`job worker on ${engine}`, () => {
    let opened: JobStoreDatabase;
    let database: Database;
    const clock = fixedClock(T0);
    let jobs: SqlJobStore;
    const worker = (handlers: Array<JobHandler<JsonValue>>, options: Partial<WorkerOptions> = {}) =>
      new JobWorker({ leases: jobs, registry: new JobRegistry(handlers), clock, logger, concurrency: 4, backoff: BACKOFF, random: () => 0.5, ...options });
    const find = async (id: string): Promise<Job> => (await jobs.find(id))!;

    before(async () => {
      opened = await openJobStoreDatabase(engine, clock);
      ({ database, jobs } = opened);
    });
    after(() => opened?.close());

    it('runs a job with its payload and marks it done', async () => {
      clock.set(T0);
      const seen: unknown[] = [];
      const h = handler(async (payload, context) => {
        seen.push([payload, context.jobId, context.attempt, context.maxAttempts, context.signal.aborted]);
      });
      const { id } = await jobs.enqueue({ name: h.name, payload: { zone: 'example.test' }, maxAttempts: 5 });
      assert.equal(await worker([h]).runDue(), 1);
      assert.deepEqual(seen, [[{ zone: 'example.test' }, id, 1, 5, false]]);
      assert.equal((await find(id)).state, 'done');
    });

    it('retries a failing job after a growing, jittered delay, and fails it after its last attempt', async () => {
      clock.set(T0);
      const h = handler(async () => {
        throw new Error('the DNS server is down');
      });
      const { id } = await jobs.enqueue({ name: h.name, payload: null, maxAttempts: 3 });
      const w = worker([h]);
      await w.runDue();
      let job = await find(id);
      const first = retryDelay(1, BACKOFF, () => 0.5);
      assert.equal(first, 750, 'half of 1 s, plus half of the other half');
      assert.deepEqual([job.state, job.attempts, job.runAt, job.lastError], ['queued', 1, at(first), 'Error: the DNS server is down']);

      clock.set(at(first - 1));
      assert.equal(await w.runDue(), 0, 'not due yet');
      clock.set(at(first));
      await w.runDue();
      job = await find(id);
      const second = retryDelay(2, BACKOFF, () => 0.5);
      assert.equal(second, 1500);
      assert.deepEqual([job.state, job.attempts, job.runAt], ['queued', 2, at(first + second)]);

      clock.set(at(first + second));
      await w.runDue();
      job = await find(id);
      assert.deepEqual([job.state, job.attempts, job.lastError], ['failed', 3, 'Error: the DNS server is down']);
      assert.equal(await w.runDue(), 0);
    });

    it('keeps the delay within its bounds whatever the jitter', () => {
      assert.deepEqual([0, 0.999].map((r) => retryDelay(1, BACKOFF, () => r)), [500, 1000]);
      assert.deepEqual([0, 0.999].map((r) => retryDelay(10, BACKOFF, () => r)), [4000, 7996]);
    });

    it('retries at the time a RetryAfter names', async () => {
      clock.set(T0);
      const h = handler(async () => {
        throw new RetryAfter(at(120_000), 'rate limited by the CA');
      });
      const { id } = await jobs.enqueue({ name: h.name, payload: null });
      await worker([h]).runDue();
      const job = await find(id);
      assert.deepEqual([job.state, job.attempts, job.runAt, job.lastError], ['queued', 1, at(120_000), 'RetryAfter: rate limited by the CA']);
    });

    it('runs a job again at continueAt without using up an attempt', async () => {
      clock.set(T0);
      let runs = 0;
      const h = handler(async () => (++runs === 1 ? { continueAt: at(5000) } : undefined));
      const { id } = await jobs.enqueue({ name: h.name, payload: null, maxAttempts: 1 });
      const w = worker([h]);
      await w.runDue();
      assert.deepEqual([(await find(id)).state, (await find(id)).attempts, (await find(id)).runAt], ['queued', 0, at(5000)]);
      clock.set(at(5000));
      await w.runDue();
      assert.deepEqual([(await find(id)).state, runs], ['done', 2]);
    });

    it('fails a job at once on PermanentJobFailure or a payload its handler rejects', async () => {
      clock.set(T0);
      const permanent = handler(async () => {
        throw new PermanentJobFailure('the CA rejected the order');
      });
      const picky = handler(
        async () => undefined,
        (payload) => {
          if (typeof payload !== 'string') throw new Error('expected a string');
          return payload;
        },
      );
      const a = await jobs.enqueue({ name: permanent.name, payload: null });
      const b = await jobs.enqueue({ name: picky.name, payload: 42 });
      await worker([permanent, picky]).runDue();
      assert.deepEqual([(await find(a.id)).state, (await find(a.id)).lastError], ['failed', 'PermanentJobFailure: the CA rejected the order']);
      assert.deepEqual([(await find(b.id)).state, (await find(b.id)).lastError], ['failed', 'PermanentJobFailure: invalid payload: expected a string']);
    });

    it('runs a job whose worker died once its lease has expired', async () => {
      clock.set(T0);
      const h = handler(async () => undefined);
      const { id } = await jobs.enqueue({ name: h.name, payload: null });
      await jobs.claim({ owner: 'crashed', names: [h.name], limit: 1, now: T0, leaseUntil: at(30_000) });
      const w = worker([h]);
      assert.equal(await w.runDue(), 0);
      clock.set(at(30_000));
      assert.equal(await w.runDue(), 1);
      const job = await find(id);
      assert.deepEqual([job.state, job.attempts], ['done', 2]);
    });

    it('runs at most `concurrency` jobs at once', async () => {
      clock.set(T0);
      let active = 0;
      let most = 0;
      const h = handler(async () => {
        most = Math.max(most, ++active);
        await new Promise((resolve) => setTimeout(resolve, 20));
        active--;
      });
      const ids = await Promise.all(Array.from({ length: 9 }, () => jobs.enqueue({ name: h.name, payload: null })));
      const w = worker([h], { concurrency: 3, idlePollMs: { min: 5, max: 20 } });
      w.start();
      while ((await Promise.all(ids.map((j) => find(j.id)))).some((job) => job.state !== 'done')) await new Promise((r) => setTimeout(r, 10));
      await w.stop(1000);
      assert.equal(most, 3);
    });

    it('renews the lease of a long job, so another worker never takes it', async () => {
      const real = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
      let runs = 0;
      const h = handler(async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      });
      const { id } = await real.enqueue({ name: h.name, payload: null });
      // The job outlives its lease several times over; renewals (every third of the lease) keep it.
      // The lease is generous against event-loop stalls of a loaded machine, not against the job.
      const options = { leases: real, registry: new JobRegistry([h]), clock: systemClock, logger, concurrency: 1, leaseMs: 600 };
      const first = new JobWorker(options).runDue();
      // The first worker must hold the job before the other starts asking, or the other simply claims it first.
      for (let waited = 0; runs === 0 && waited < 10_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(runs, 1, 'the first worker never started the job');
      const other = new JobWorker(options);
      let stolen = 0;
      for (let i = 0; i < 45; i++) {
        stolen += await other.runDue();
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      await first;
      const job = await find(id);
      assert.deepEqual([stolen, runs, job.state, job.attempts], [0, 1, 'done', 1]);
    });

    it('aborts a run whose lease was lost, and records nothing of it', async () => {
      clock.set(T0);
      let aborted: unknown;
      const h = handler(async (_payload, { signal }) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        aborted = signal.reason;
      });
      const { id } = await jobs.enqueue({ name: h.name, payload: null });
      const running = worker([h], { leaseMs: 90 }).runDue();
      while ((await find(id)).state !== 'running') await new Promise((r) => setTimeout(r, 5));
      // Another worker, whose clock is past the lease, takes the job over.
      const [taken] = await jobs.claim({ owner: 'thief', names: [h.name], limit: 1, now: at(100), leaseUntil: at(60_000) });
      assert.equal(taken?.id, id);
      await running;
      assert.match(String(aborted), /lease was lost/);
      const job = await find(id);
      assert.deepEqual([job.state, job.leaseOwner, job.attempts], ['running', 'thief', 2]);
    });

    it('on stop, lets a short job finish and hands a long one back to the queue', async () => {
      clock.set(T0);
      let release: () => void = () => undefined;
      let sawAbort = false;
      const quick = handler(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
      const slow = handler(async (_payload, { signal }) => {
        await new Promise<void>((resolve) => {
          release = resolve;
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        });
        throw new Error('interrupted');
      });
      const stubborn = handler(() => new Promise<void>(() => undefined)); // ignores its signal
      const a = await jobs.enqueue({ name: quick.name, payload: null });
      const b = await jobs.enqueue({ name: slow.name, payload: null });
      const c = await jobs.enqueue({ name: stubborn.name, payload: null });
      const w = worker([quick, slow, stubborn], { idlePollMs: { min: 5, max: 20 } });
      w.start();
      while (w.active < 3) await new Promise((r) => setTimeout(r, 5));
      await w.stop(300);
      release();
      assert.equal((await find(a.id)).state, 'done');
      assert.equal(sawAbort, true);
      for (const id of [b.id, c.id]) {
        const job = await find(id);
        assert.deepEqual([job.state, job.attempts, job.leaseOwner, job.runAt, job.lastError], ['queued', 0, undefined, T0, undefined]);
      }
    });
  });
}
