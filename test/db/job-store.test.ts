/**
 * The job table on both engines, driven through its ports with times given explicitly: enqueue
 * (alone and in a caller's transaction), idempotency keys, claiming, leases that hold and leases
 * that expire, and every way a run can end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/adapters/db/database.js';
import { enqueueManyWith, enqueueWith, LEASE_EXPIRED_ERROR, SqlJobStore } from '../../src/adapters/db/job-store.js';
import type { ClaimRequest, Job, Lease } from '../../src/core/jobs/ports.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { ENGINES, openJobStoreDatabase, type JobStoreDatabase } from '../support/databases.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const leaseOf = (job: Job): Lease => ({ jobId: job.id, owner: job.leaseOwner!, attempt: job.attempts });

for (const engine of ENGINES) {
  describe(`job store on ${engine}`, () => {
    let opened: JobStoreDatabase;
    let database: Database;
    let jobs: SqlJobStore;
    const clock = fixedClock(T0);
    let prefix = 0;
    /** Each test works on job names of its own, so earlier tests' jobs never answer its claims. */
    const names = () => {
      prefix++;
      return { a: `t${prefix}.a`, b: `t${prefix}.b` };
    };
    const claim = (request: Partial<ClaimRequest> & Pick<ClaimRequest, 'names'>) =>
      jobs.claim({ owner: 'worker-1', limit: 10, now: clock.now(), leaseUntil: new Date(clock.now().getTime() + 30_000), ...request });

    before(async () => {
      opened = await openJobStoreDatabase(engine, clock);
      ({ database, jobs } = opened);
    });
    after(() => opened?.close());

    it('enqueues a job that a worker claims with a lease and completes', async () => {
      clock.set(T0);
      const { a } = names();
      const { id, created } = await jobs.enqueue({ name: a, payload: { record: { name: 'x', values: [1, true, null] } } });
      assert.equal(created, true);
      const queued = await jobs.find(id);
      assert.deepEqual(
        { state: queued!.state, attempts: queued!.attempts, maxAttempts: queued!.maxAttempts, runAt: queued!.runAt, leaseOwner: queued!.leaseOwner },
        { state: 'queued', attempts: 0, maxAttempts: 8, runAt: T0, leaseOwner: undefined },
      );

      const [claimed, ...more] = await claim({ names: [a] });
      assert.deepEqual(more, []);
      assert.equal(claimed!.id, id);
      assert.deepEqual(claimed!.payload, { record: { name: 'x', values: [1, true, null] } });
      assert.deepEqual([claimed!.state, claimed!.attempts, claimed!.leaseOwner, claimed!.leaseExpiresAt], ['running', 1, 'worker-1', at(30)]);
      assert.deepEqual(await claim({ names: [a], owner: 'worker-2' }), [], 'a leased job is nobody else\'s');

      assert.equal(await jobs.complete(leaseOf(claimed!), at(1)), true);
      const done = await jobs.find(id);
      assert.deepEqual([done!.state, done!.leaseOwner, done!.leaseExpiresAt, done!.updatedAt], ['done', undefined, undefined, at(1)]);
      assert.deepEqual(await claim({ names: [a] }), []);
    });

    it('claims only due jobs of the names asked for, the oldest first, up to the limit', async () => {
      clock.set(T0);
      const { a, b } = names();
      const later = await jobs.enqueue({ name: a, payload: 'later', runAt: at(60) });
      const second = await jobs.enqueue({ name: a, payload: 'second', runAt: at(-5) });
      const first = await jobs.enqueue({ name: a, payload: 'first', runAt: at(-10) });
      await jobs.enqueue({ name: b, payload: 'other name' });
      const one = await claim({ names: [a], limit: 1 });
      assert.deepEqual(one.map((j) => j.id), [first.id]);
      const rest = await claim({ names: [a], limit: 5 });
      assert.deepEqual(rest.map((j) => j.id), [second.id]);
      for (const job of [...one, ...rest]) await jobs.complete(leaseOf(job), T0);
      clock.set(at(60));
      assert.deepEqual((await claim({ names: [a] })).map((j) => j.id), [later.id]);
    });

    it('queues one job per idempotency key, however often and however concurrently it is enqueued', async () => {
      clock.set(T0);
      const { a } = names();
      const key = `remove:${a}`;
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => jobs.enqueue({ name: a, payload: i, idempotencyKey: key })));
      const ids = new Set(results.map((r) => r.id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      const claimed = await claim({ names: [a] });
      assert.equal(claimed.length, 1);
      await jobs.complete(leaseOf(claimed[0]!), at(1));
      // Even once done, the key still names that job: the same work is not queued again.
      assert.deepEqual(await jobs.enqueue({ name: a, payload: 'again', idempotencyKey: key }), { id: [...ids][0], created: false });
      assert.deepEqual(await claim({ names: [a] }), []);
    });

    it('enqueues in a caller\'s transaction: the job exists exactly when the transaction commits', async () => {
      clock.set(T0);
      const { a } = names();
      await assert.rejects(
        database.db.transaction().execute(async (tx) => {
          await enqueueWith(tx, { name: a, payload: 'rolled back' }, T0, randomIds.hex32());
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      assert.deepEqual(await claim({ names: [a] }), []);
      const committed = await database.db.transaction().execute((tx) => enqueueWith(tx, { name: a, payload: 'committed' }, T0, randomIds.hex32()));
      assert.deepEqual((await claim({ names: [a] })).map((j) => j.id), [committed.id]);
    });

    it('enqueues many jobs in batches: each key once, the existing ones kept, every new one claimable', async () => {
      clock.set(T0);
      const { a } = names();
      const existing = await jobs.enqueue({ name: a, payload: 'first', idempotencyKey: `${a}:7` });
      const many = Array.from({ length: 1_203 }, (_, i) => ({ name: a, payload: i, idempotencyKey: `${a}:${i}` }));
      const created = await database.db.transaction().execute((tx) => enqueueManyWith(tx, many, T0, () => randomIds.hex32()));
      assert.equal(created.size, 1_202, 'all but the key that had a job already');
      assert.equal(created.has(`${a}:7`), false);
      const again = await database.db.transaction().execute((tx) => enqueueManyWith(tx, many.slice(0, 600), T0, () => randomIds.hex32()));
      assert.equal(again.size, 0, 'a second run queues nothing');
      const claimed = await claim({ names: [a], limit: 2_000 });
      assert.equal(claimed.length, 1_203);
      assert.equal(claimed.find((j) => j.idempotencyKey === `${a}:7`)?.id, existing.id);
      assert.equal(claimed.find((j) => j.idempotencyKey === `${a}:7`)?.payload, 'first');
    });

    it('reclaims a job whose worker died once its lease expires, and refuses the dead worker\'s late writes', async () => {
      clock.set(T0);
      const { a } = names();
      const { id } = await jobs.enqueue({ name: a, payload: null });
      const [dead] = await claim({ names: [a], owner: 'dead-worker' });
      clock.set(at(29));
      assert.deepEqual(await claim({ names: [a], owner: 'worker-2' }), [], 'the lease still holds');
      clock.set(at(30));
      const [again] = await claim({ names: [a], owner: 'worker-2' });
      assert.deepEqual([again!.id, again!.attempts, again!.leaseOwner], [id, 2, 'worker-2']);

      assert.equal(await jobs.renew(leaseOf(dead!), at(60), at(30)), false);
      assert.equal(await jobs.complete(leaseOf(dead!), at(30)), false);
      assert.equal(await jobs.fail(leaseOf(dead!), 'late', at(30)), false);
      assert.equal((await jobs.find(id))!.leaseOwner, 'worker-2');
      // A lease the same owner held before is not the current one either.
      const stale: Lease = { ...leaseOf(again!), attempt: 1 };
      assert.equal(await jobs.complete(stale, at(30)), false);
      assert.equal(await jobs.complete(leaseOf(again!), at(31)), true);
    });

    it('keeps a renewed lease past its first expiry', async () => {
      clock.set(T0);
      const { a } = names();
      await jobs.enqueue({ name: a, payload: null });
      const [job] = await claim({ names: [a] });
      assert.equal(await jobs.renew(leaseOf(job!), at(50), at(20)), true);
      clock.set(at(40));
      assert.deepEqual(await claim({ names: [a], owner: 'worker-2' }), []);
      clock.set(at(50));
      assert.equal((await claim({ names: [a], owner: 'worker-2' })).length, 1);
    });

    it('fails a job whose lease expired on its last attempt instead of running it again', async () => {
      clock.set(T0);
      const { a } = names();
      const { id } = await jobs.enqueue({ name: a, payload: null, maxAttempts: 2 });
      await claim({ names: [a], owner: 'crashes-1' });
      clock.set(at(30));
      await claim({ names: [a], owner: 'crashes-2' });
      clock.set(at(60));
      assert.deepEqual(await claim({ names: [a] }), []);
      const failed = await jobs.find(id);
      assert.deepEqual([failed!.state, failed!.attempts, failed!.lastError, failed!.leaseOwner], ['failed', 2, LEASE_EXPIRED_ERROR, undefined]);
    });

    it('queues an ended recurring job again with its attempts still counting, so a lease of the ended run stays stale', async () => {
      clock.set(T0);
      const { a } = names();
      const recurring = { name: a, payload: null, maxAttempts: 2, idempotencyKey: `${a}:recurring` };
      const { id } = await jobs.ensureRecurring(recurring);
      const [first] = await claim({ names: [a], owner: 'stalls' });
      clock.set(at(30));
      const [second] = await claim({ names: [a], owner: 'stalls' });
      clock.set(at(60));
      assert.deepEqual(await claim({ names: [a] }), []);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'failed', attempts: 2, runAt: T0, lastError: LEASE_EXPIRED_ERROR });

      assert.equal((await jobs.ensureRecurring(recurring)).id, id);
      const revived = await jobs.find(id);
      assert.deepEqual([revived!.state, revived!.attempts, revived!.maxAttempts, revived!.lastError], ['queued', 2, 4, undefined]);
      const [third] = await claim({ names: [a], owner: 'stalls' });
      assert.equal(third!.attempts, 3);
      // The stalled worker's earlier leases, same owner, find nothing to write.
      assert.equal(await jobs.complete(leaseOf(first!), at(61)), false);
      assert.equal(await jobs.complete(leaseOf(second!), at(61)), false);
      assert.equal(await jobs.complete(leaseOf(third!), at(61)), true);

      // A revived run may crash as often as a new one before it fails for good.
      assert.equal((await jobs.ensureRecurring(recurring)).id, id);
      clock.set(at(62));
      await claim({ names: [a], owner: 'crashes-1' });
      clock.set(at(92));
      await claim({ names: [a], owner: 'crashes-2' });
      clock.set(at(122));
      assert.deepEqual(await claim({ names: [a] }), []);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'failed', attempts: 5, runAt: at(60), lastError: LEASE_EXPIRED_ERROR });
    });

    it('reschedules (counting the attempt or giving it back), fails, and releases', async () => {
      clock.set(T0);
      const { a } = names();
      const { id } = await jobs.enqueue({ name: a, payload: null, maxAttempts: 3 });
      let [job] = await claim({ names: [a] });
      assert.equal(await jobs.reschedule(leaseOf(job!), at(10), at(1), { error: 'Error: boom', countsAsAttempt: true }), true);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'queued', attempts: 1, runAt: at(10), lastError: 'Error: boom' });

      clock.set(at(10));
      [job] = await claim({ names: [a] });
      assert.equal(await jobs.reschedule(leaseOf(job!), at(20), at(11), { countsAsAttempt: false }), true);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'queued', attempts: 1, runAt: at(20), lastError: 'Error: boom' });

      clock.set(at(20));
      [job] = await claim({ names: [a] });
      assert.equal(await jobs.release(leaseOf(job!), at(21)), true);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'queued', attempts: 1, runAt: at(21), lastError: 'Error: boom' });

      clock.set(at(21));
      [job] = await claim({ names: [a] });
      assert.equal(await jobs.fail(leaseOf(job!), 'PermanentJobFailure: no', at(22)), true);
      assert.deepEqual(pick(await jobs.find(id)), { state: 'failed', attempts: 2, runAt: at(21), lastError: 'PermanentJobFailure: no' });
    });

    it('refuses a job without a name or with no attempts allowed', async () => {
      await assert.rejects(jobs.enqueue({ name: '', payload: null }), RangeError);
      await assert.rejects(jobs.enqueue({ name: 'x', payload: null, maxAttempts: 0 }), RangeError);
    });
  });
}

function pick(job: Job | undefined) {
  return { state: job?.state, attempts: job?.attempts, runAt: job?.runAt, lastError: job?.lastError };
}
