/**
 * `certplane serve --role all|api|worker` as the real binary: the worker role runs queued jobs (a
 * `dns01.remove-record` through RFC 2136 to a real BIND) without serving HTTP, the api role serves
 * HTTP and runs no jobs, `all` does both, and SIGTERM lets a short job finish and hands a long one
 * back to the queue, killing the command it was running.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrate, openDatabase, type Database } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { NodeDnsResolver } from '../../src/adapters/dns/resolver.js';
import { Rfc2136Provider } from '../../src/adapters/dns/rfc2136.js';
import { ISSUE_JOB } from '../../src/core/issuance/model.js';
import type { Job } from '../../src/core/jobs/ports.js';
import { REMOVE_DNS_RECORD, removeDnsRecordJob } from '../../src/jobs/remove-dns-record.js';
import { EVENT_PUBLISH_JOB } from '../../src/core/events/model.js';
import { WEBHOOK_DELIVER_JOB } from '../../src/jobs/webhooks.js';
import { EXPIRY_SCAN_JOB } from '../../src/jobs/expiry-scan.js';
import { ORDER_DEADLINE_JOB } from '../../src/core/orders/model.js';
import { RENEWAL_SCAN_JOB } from '../../src/core/renewal/service.js';
import { DEPLOY_CRL_JOB, DEPLOY_CRL_SCAN_JOB, DEPLOY_JOB } from '../../src/core/deploy/model.js';
import { JOBS_PURGE_JOB } from '../../src/jobs/purge-jobs.js';
import { systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { startBind, type BindServer } from '../support/bind.js';
import { cli, freePort, killServes, spawnServe, until, type ServeChild } from '../support/cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

/** Starts `certplane serve` with `args` and resolves once it logged `serving`. */
async function serve(args: string[], env: Record<string, string>): Promise<ServeChild> {
  const child = spawnServe(args, env, await freePort());
  await until(() => child.records.some((l) => l.msg === 'serving') || child.exitCode() !== null, () => `serve ${args.join(' ')} did not start: ${child.stderr()}`);
  assert.equal(child.exitCode(), null, child.stderr());
  return child;
}

for (const engine of ENGINES) {
  describe(`certplane serve --role on ${engine}`, () => {
    let bind: BindServer;
    let testDb: TestDatabase;
    let database: Database;
    let jobs: SqlJobStore;
    let dns01: Rfc2136Provider;
    let env: Record<string, string>;
    const txt = (name: string) => new NodeDnsResolver({ address: bind.address }).resolveTxt(name);
    const state = async (id: string): Promise<Job> => (await jobs.find(id))!;

    before(async () => {
      bind = await startBind();
      await bind.addZone('roles.test', []);
      testDb = await createTestDatabase(engine);
      database = openDatabase(testDb.database);
      await migrate(database.db);
      jobs = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
      const settings = { server: bind.address, tsigKeyName: bind.tsig.name, tsigAlgorithm: 'hmac-sha256' as const, tsigSecret: bind.tsig.secret };
      dns01 = new Rfc2136Provider(settings);
      const config = join(testDb.dataDir, 'config.json');
      writeFileSync(config, JSON.stringify({ dns01: { provider: 'rfc2136', ...settings } }));
      env = { CERTPLANE_DATA_DIR: testDb.dataDir, DATABASE_URL: testDb.url, CERTPLANE_CONFIG: config };
    });
    after(async () => {
      killServes();
      await database.close();
      await testDb.drop();
      await bind.stop();
    });

    const removal = async (name: string) => {
      const handle = await dns01.create({ name, type: 'TXT', value: `value-${name}`, ttl: 60 });
      assert.deepEqual(await txt(name), [`value-${name}`]);
      return (await jobs.enqueue(removeDnsRecordJob(handle))).id;
    };

    it('worker: runs queued jobs, here removing a dns-01 record through RFC 2136, and serves no HTTP', async () => {
      const id = await removal('_acme-challenge.worker.roles.test');
      const worker = await serve(['--role', 'worker'], env);
      await until(async () => (await state(id)).state === 'done', 'the job was not run');
      assert.deepEqual(await txt('_acme-challenge.worker.roles.test'), []);
      const serving = worker.records.find((l) => l.msg === 'serving')!;
      assert.deepEqual([serving.role, serving.listen], ['worker', 'none (worker role)']);
      assert.deepEqual(worker.records.find((l) => l.msg === 'worker started')!.jobs, [REMOVE_DNS_RECORD, ISSUE_JOB, ORDER_DEADLINE_JOB, RENEWAL_SCAN_JOB, DEPLOY_JOB, DEPLOY_CRL_JOB, DEPLOY_CRL_SCAN_JOB, EVENT_PUBLISH_JOB, WEBHOOK_DELIVER_JOB, EXPIRY_SCAN_JOB, JOBS_PURGE_JOB]);
      await assert.rejects(fetch(`http://127.0.0.1:${worker.port}/healthz`));
      worker.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
    });

    it('api: serves HTTP and runs no jobs; all (the default): both', async () => {
      const id = await removal('_acme-challenge.api.roles.test');
      const api = await serve(['--role', 'api'], env);
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/healthz`)).status, 200);
      assert.equal(api.records.some((l) => l.msg === 'worker started'), false);
      api.kill('SIGTERM');
      assert.equal(await api.exited, 0);
      assert.equal((await state(id)).state, 'queued');

      const all = await serve([], env);
      assert.equal((await fetch(`http://127.0.0.1:${all.port}/healthz`)).status, 200);
      await until(async () => (await state(id)).state === 'done', 'the job was not run');
      assert.deepEqual(await txt('_acme-challenge.api.roles.test'), []);
      assert.equal(all.records.find((l) => l.msg === 'serving')!.role, 'all');
      all.kill('SIGTERM');
      assert.equal(await all.exited, 0);
    });

    it('SIGTERM: a job that ends within the grace period finishes; one that does not goes back to the queue', async () => {
      const dir = testDb.dataDir;
      // The hook writes `start VALUE PID` when it begins and `end VALUE` when it ends; `slow` takes 60 s.
      const script = `echo "start $3 $$" >> '${dir}/hook.log'; if [ "$3" = slow ]; then sleep 60; else sleep 1; fi; echo "end $3" >> '${dir}/hook.log'`;
      const config = join(dir, 'hook.json');
      writeFileSync(config, JSON.stringify({ dns01: { provider: 'hook', command: ['/bin/sh', '-c', script, 'hook'] }, shutdownGraceMs: 2000 }));
      const record = (value: string) => ({ provider: 'hook', record: { name: 'x.roles.test', type: 'TXT', value, ttl: 60 }, detail: {} });
      const quick = await jobs.enqueue({ name: REMOVE_DNS_RECORD, payload: record('quick') });
      const slow = await jobs.enqueue({ name: REMOVE_DNS_RECORD, payload: record('slow') });
      const log = () => {
        try {
          return readFileSync(join(dir, 'hook.log'), 'utf8');
        } catch {
          return '';
        }
      };
      const worker = await serve(['--role', 'worker'], { ...env, CERTPLANE_CONFIG: config });
      await until(() => /start quick/.test(log()) && /start slow/.test(log()), 'the hooks did not start');
      worker.kill('SIGTERM');
      assert.equal(await worker.exited, 0);

      assert.equal((await state(quick.id)).state, 'done');
      assert.match(log(), /end quick/);
      const handedBack = await state(slow.id);
      assert.deepEqual([handedBack.state, handedBack.attempts, handedBack.leaseOwner], ['queued', 0, undefined]);
      assert.doesNotMatch(log(), /end slow/);
      const pid = Number(/start slow (\d+)/.exec(log())![1]);
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 'the slow hook was not killed', 5000);
    });

    it('refuses a role it does not know', () => {
      const result = cli(['serve', '--role', 'scheduler'], env);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /--role.*scheduler.*Allowed choices are all, api, worker/s);
    });
  });
}
