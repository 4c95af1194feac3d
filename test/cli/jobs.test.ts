/**
 * `certplane jobs list|show|retry|discard` against a running `certplane serve`: webhook deliveries
 * fail for good while the receiver is down, the operator finds them, retries them once it is back
 * (the server delivers them), and discards one it no longer wants delivered.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { migrate, openDatabase } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import { REMOVE_DNS_RECORD } from '../../src/jobs/remove-dns-record.js';
import { WEBHOOK_DELIVER_JOB } from '../../src/jobs/webhooks.js';
import { systemClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { cli, freePort, killServes, spawnServe, until, type CliResult } from '../support/cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

interface Receiver {
  url: string;
  /** What it answers: 503 while "down". */
  status: number;
  /** The event ids of the deliveries it accepted. */
  accepted: string[];
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { status: 503, accepted: [] as string[] } as Receiver;
  receiver.server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (receiver.status < 300) receiver.accepted.push(String((JSON.parse(body) as { id: unknown }).id));
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
  return receiver;
}

function ok(result: CliResult): Record<string, unknown> {
  assert.equal(result.status, 0, result.stderr);
  return result.json!;
}

/** The `{"error":{"code","message"}}` a refused command prints, exit 1. */
function refused(result: CliResult): { code: string; message: string } {
  assert.equal(result.status, 1, `expected a refusal, got ${result.status}: ${result.stdout}`);
  return (JSON.parse(result.stderr) as { error: { code: string; message: string } }).error;
}

type Listed = { total: number; jobs: Array<Record<string, unknown>> };

for (const engine of ENGINES) {
  describe(`certplane jobs list|show|retry|discard on ${engine}`, () => {
    let db: TestDatabase;
    let env: Record<string, string>;
    let receiver: Receiver;
    let webhookId: string;
    let accountId: string;
    const eventIds = ['evt-a', 'evt-b', 'evt-c'];
    const jobIds: string[] = [];

    before(async () => {
      db = await createTestDatabase(engine);
      env = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url };
      receiver = await startReceiver();
      accountId = String(ok(cli(['account', 'create', '--name', 'jobs'], env)).accountId);
      webhookId = String(ok(cli(['webhook', 'add', '--account', accountId, '--url', receiver.url], env)).webhookId);
      // Three deliveries as event.publish enqueues them, one attempt each.
      const database = openDatabase(db.database);
      try {
        await migrate(database.db);
        const jobs = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
        for (const id of eventIds) {
          const event = { id, type: 'certificate.expiring', occurredAt: new Date().toISOString(), accountId, subject: { kind: 'certificate', id: 'c1' }, data: {} };
          const enqueued = await jobs.enqueue({ name: WEBHOOK_DELIVER_JOB, payload: { webhookId, event }, idempotencyKey: `test:${id}`, maxAttempts: 1 });
          jobIds.push(enqueued.id);
        }
      } finally {
        await database.close();
      }
    });
    after(async () => {
      killServes();
      await new Promise((resolve) => receiver.server.close(resolve));
      await db.drop();
    });

    const list = (...args: string[]): Listed => ok(cli(['jobs', 'list', ...args], env)) as unknown as Listed;
    const show = (id: string): Record<string, unknown> => ok(cli(['jobs', 'show', '--job', id], env)).job as Record<string, unknown>;

    it('finds the deliveries that failed while the receiver was down, retries them once it is back, and discards one', async () => {
      const server = spawnServe(['--role', 'worker'], env, await freePort());
      await until(() => list('--state', 'failed').total === 3, () => `the deliveries did not fail: ${JSON.stringify(list())}\n${server.stderr()}`);

      const failed = list('--state', 'failed', '--name', WEBHOOK_DELIVER_JOB);
      assert.deepEqual(failed.jobs.map((j) => j.jobId).sort(), [...jobIds].sort());
      for (const job of failed.jobs) {
        assert.equal(job.name, WEBHOOK_DELIVER_JOB);
        assert.equal(job.state, 'failed');
        assert.equal(job.attempts, 1);
        assert.equal(job.maxAttempts, 1);
        assert.match(String(job.lastError), /503/);
        assert.ok(!('payload' in job), 'lists carry no payload');
      }
      assert.equal(list('--state', 'failed', '--limit', '2').jobs.length, 2);
      assert.equal(list('--state', 'failed', '--limit', '2').total, 3);
      assert.equal(list('--state', 'queued', '--name', WEBHOOK_DELIVER_JOB).total, 0);
      const [a, b, c] = jobIds as [string, string, string];
      assert.deepEqual((show(a).payload as { event: { id: string } }).event.id, 'evt-a');

      // The receiver is back: one job retried alone is delivered by the running server.
      receiver.status = 204;
      const retried = ok(cli(['jobs', 'retry', '--job', a], env)).job as Record<string, unknown>;
      assert.equal(retried.jobId, a);
      assert.equal(retried.state, 'queued');
      assert.equal(retried.attempts, 1, 'attempts keep counting');
      assert.equal(retried.maxAttempts, 2, 'as many attempts again as it had');
      await until(() => receiver.accepted.includes('evt-a') && show(a).state === 'done', () => `evt-a was not delivered: ${JSON.stringify(show(a))}`);
      assert.equal(show(a).attempts, 2);

      // One the operator no longer wants delivered goes for good.
      const discarded = ok(cli(['jobs', 'discard', '--job', b], env)).discarded as Record<string, unknown>;
      assert.equal(discarded.jobId, b);
      assert.equal(discarded.state, 'failed');
      assert.equal(refused(cli(['jobs', 'show', '--job', b], env)).code, 'job.not_found');

      // The rest, all at once.
      assert.deepEqual(ok(cli(['jobs', 'retry', '--failed', '--name', WEBHOOK_DELIVER_JOB], env)), { retried: 1, jobIds: [c] });
      await until(() => receiver.accepted.includes('evt-c') && show(c).state === 'done', () => `evt-c was not delivered: ${JSON.stringify(show(c))}`);
      assert.deepEqual([...receiver.accepted].sort(), ['evt-a', 'evt-c'], 'the discarded delivery never went out');
      assert.equal(list('--state', 'failed').total, 0);
      assert.deepEqual(ok(cli(['jobs', 'retry', '--failed'], env)), { retried: 0, jobIds: [] });

      // Only failed jobs are retried or discarded.
      const done = refused(cli(['jobs', 'retry', '--job', a], env));
      assert.equal(done.code, 'job.state_conflict');
      assert.match(done.message, /is done; only a failed job can be retried/);
      assert.equal(refused(cli(['jobs', 'discard', '--job', a], env)).code, 'job.state_conflict');
      assert.equal(show(a).state, 'done');
      assert.equal(refused(cli(['jobs', 'retry', '--job', b], env)).code, 'job.not_found');
      server.kill('SIGTERM');
      assert.equal(await server.exited, 0, server.stderr());
    });

    it('discards failed jobs in bulk, by name and by age', async () => {
      const database = openDatabase(db.database);
      const jobs = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
      const ids: string[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const runAt = new Date(Date.now() + 3_600_000);
          const { id } = await jobs.enqueue({ name: WEBHOOK_DELIVER_JOB, payload: { webhookId: 'gone', event: { id: `old-${i}` } }, runAt });
          ids.push(id);
        }
        // Failed at different times, as the worker leaves them.
        await database.db.updateTable('jobs').set({ state: 'failed', last_error: 'x', updated_at: '2026-01-10T00:00:00.000Z' }).where('id', '=', ids[0]!).execute();
        await database.db.updateTable('jobs').set({ state: 'failed', last_error: 'x', updated_at: '2026-03-10T00:00:00.000Z' }).where('id', 'in', ids.slice(1)).execute();
      } finally {
        await database.close();
      }
      assert.deepEqual(ok(cli(['jobs', 'discard', '--failed', '--before', '2026-01-01'], env)), { discarded: 0, jobIds: [] });
      assert.deepEqual(ok(cli(['jobs', 'discard', '--failed', '--name', WEBHOOK_DELIVER_JOB, '--before', '2026-02-01T00:00:00Z'], env)), { discarded: 1, jobIds: [ids[0]] });
      const rest = ok(cli(['jobs', 'discard', '--failed'], env));
      assert.equal(rest.discarded, 2);
      assert.deepEqual((rest.jobIds as string[]).sort(), ids.slice(1).sort());
      assert.equal(list('--state', 'failed').total, 0);
    });

    it('takes the name of a job whose handler is not configured now, as long as such a job exists', async () => {
      // dns01 is not configured here: no process runs dns01.remove-record, yet one failed earlier.
      const database = openDatabase(db.database);
      try {
        const jobs = new SqlJobStore(database, { clock: systemClock, ids: randomIds });
        const { id } = await jobs.enqueue({ name: REMOVE_DNS_RECORD, payload: {}, runAt: new Date(Date.now() + 3_600_000) });
        await database.db.updateTable('jobs').set({ state: 'failed', last_error: 'dns01 is not configured' }).where('id', '=', id).execute();
        assert.deepEqual(list('--state', 'failed', '--name', REMOVE_DNS_RECORD).jobs.map((j) => j.jobId), [id]);
        assert.deepEqual(ok(cli(['jobs', 'discard', '--failed', '--name', REMOVE_DNS_RECORD], env)), { discarded: 1, jobIds: [id] });
      } finally {
        await database.close();
      }
      // Gone from the table and not run here: a typo again.
      assert.equal(refused(cli(['jobs', 'list', '--name', REMOVE_DNS_RECORD], env)).code, 'request.invalid_parameter');
    });

    // The same checks whatever the engine: on SQLite only.
    if (engine === 'sqlite') it('refuses what it cannot do with a message that says why', () => {
      const cases: Array<[string[], string, RegExp]> = [
        [['list', '--state', 'broken'], 'request.invalid_parameter', /--state must be one of queued, running, done, failed/],
        [['list', '--limit', '0'], 'request.invalid_parameter', /--limit must be a whole number from 1 to 1000/],
        [['list', '--limit', 'ten'], 'request.invalid_parameter', /--limit/],
        [['list', '--name', 'webhook.delivr'], 'request.invalid_parameter', /--name must be one of the job names .*webhook\.deliver/],
        [['retry'], 'request.invalid_parameter', /either --job ID or --failed/],
        [['retry', '--job', 'x', '--failed'], 'request.invalid_parameter', /either --job ID or --failed/],
        [['retry', '--job', 'x', '--name', WEBHOOK_DELIVER_JOB], 'request.invalid_parameter', /go with --failed/],
        [['discard', '--failed', '--before', 'last week'], 'request.invalid_parameter', /--before must be an ISO 8601 date/],
        [['discard', '--failed', '--before', '2026-13-45'], 'request.invalid_parameter', /--before must be an ISO 8601 date/],
        [['show', '--job', 'nothing-here'], 'job.not_found', /job nothing-here does not exist/],
        [['discard', '--job', 'nothing-here'], 'job.not_found', /job nothing-here does not exist/],
      ];
      for (const [args, code, message] of cases) {
        const error = refused(cli(['jobs', ...args], env));
        assert.equal(error.code, code, args.join(' '));
        assert.match(error.message, message, args.join(' '));
      }
    });
  });
}
