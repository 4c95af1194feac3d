/**
 * `certplane serve --workers N` as the real binary, on SQLite and PostgreSQL: N processes share the
 * port and the database, and every guarantee that rests on the database holds across them (a nonce
 * used on one is refused on another, a disabled key is refused by all at once, concurrent issuances
 * all land); a worker that dies is replaced; SIGTERM stops them all; a port in use stops the start.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signAcs3 } from '../support/acs3.js';
import { Esa, esaClient } from '../support/alibaba.js';
import { cli, freePort, killServes, spawnServe, until, type ServeChild } from '../support/cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { makeCsr, testKey } from '../support/pki.js';

/** `serve [args]` logging at info (the worker processes' start and replacement are read from its log). */
const spawnCluster = (args: string[], env: Record<string, string>, port: number): ServeChild =>
  spawnServe(args, { CERTPLANE_LOG_LEVEL: 'info', ...env }, port);

/** The pids of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** One request on a connection of its own (the primary hands each new connection to the next worker). */
function send(port: number, signed: ReturnType<typeof signAcs3>): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = { ...signed.headers, 'content-length': signed.body.length, connection: 'close' };
    const req = request({ host: '127.0.0.1', port, method: signed.method, path: signed.url, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.end(signed.body);
  });
}

/** GET /metrics on a connection of its own (loopback callers need no token). */
function scrape(port: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'GET', path: '/metrics', headers: { connection: 'close' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.end();
  });
}

for (const engine of ENGINES) {
  describe(`certplane serve --workers on ${engine}`, () => {
    let testDb: TestDatabase;
    let env: Record<string, string>;
    let served: ServeChild;
    let key: { accessKeyId: string; accessKeySecret: string };
    let siteId: number;
    const csrPem = makeCsr(testKey('p256'), { subject: '/CN=workers.example' });

    const issueRequest = (nonce?: string) =>
      signAcs3(
        {
          method: 'POST',
          host: `127.0.0.1:${served.port}`,
          action: 'CreateClientCertificate',
          version: '2024-09-10',
          query: { SiteId: String(siteId) },
          form: { CSR: csrPem, ValidityDays: '30' },
          ...(nonce ? { nonce } : {}),
        },
        key,
      );

    before(async () => {
      testDb = await createTestDatabase(engine);
      env = { CERTPLANE_DATA_DIR: testDb.dataDir, DATABASE_URL: testDb.url };
      const account = cli(['account', 'create', '--name', 'workers'], env).json!;
      const made = cli(['key', 'create', '--account', String(account.accountId)], env).json!;
      key = { accessKeyId: String(made.accessKeyId), accessKeySecret: String(made.accessKeySecret) };
      const plan = cli(['plan', 'grant', '--account', String(account.accountId), '--plan', 'enterprise'], env).json!;
      served = spawnCluster(['--workers', '2'], env, await freePort());
      await until(() => served.records.some((l) => l.msg === 'serving'), () => `serve --workers 2 did not start: ${served.stderr()}`);
      const esa = esaClient(`127.0.0.1:${served.port}`, key);
      const site = await esa.createSite(new Esa.CreateSiteRequest({ siteName: 'workers.example', accessType: 'CNAME', coverage: 'global', instanceId: String(plan.instanceId) }));
      siteId = site.body!.siteId!;
    });
    after(async () => {
      if (served) {
        // Its worker processes are read before it dies: afterwards they are no longer its children.
        const workers = childrenOf(served.pid);
        served.kill('SIGKILL');
        for (const pid of workers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      killServes();
      await testDb?.drop();
    });

    it('says serving once, naming the two processes it runs, each a child of its own', async () => {
      const serving = served.records.filter((l) => l.msg === 'serving');
      assert.equal(serving.length, 1);
      assert.equal(serving[0]!.workers, 2);
      const pids = serving[0]!.pids as number[];
      assert.deepEqual([...pids].sort(), [...childrenOf(served.pid)].sort());
      // Each worker writes its own line to the shared output: it may be read after the supervisor's.
      const listening = () => served.records.filter((l) => l.msg === 'worker listening');
      await until(() => listening().length >= 2, () => `worker listening lines: ${listening().length}`);
      assert.equal(listening().length, 2);
      assert.equal(new Set(listening().map((l) => l.worker)).size, 2, 'two different workers');
    });

    it('issues concurrently from both processes into one database, every certificate recorded once', async () => {
      const answers = await Promise.all(Array.from({ length: 24 }, () => send(served.port, issueRequest())));
      assert.deepEqual(answers.map((a) => a.status), Array(24).fill(200), JSON.stringify(answers.find((a) => a.status !== 200)?.body));
      const serials = new Set(answers.map((a) => a.body.SerialNumber));
      assert.equal(serials.size, 24);
      const esa = esaClient(`127.0.0.1:${served.port}`, key);
      const listed = await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId, pageSize: 100 }));
      const stored = new Set((listed.body?.result ?? []).map((c) => c.serialNumber));
      for (const serial of serials) assert.ok(stored.has(serial as string), `serial ${String(serial)} is in the inventory`);
    });

    it('refuses a signature nonce a second time whichever process sees it', async () => {
      const nonce = `workers-${engine}-${Date.now()}`;
      const signed = issueRequest(nonce);
      // The same signed request on four connections of their own: the primary spreads them over both workers.
      const answers = await Promise.all(Array.from({ length: 4 }, () => send(served.port, signed)));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400, 400]);
      for (const refused of answers.filter((a) => a.status === 400)) assert.equal(refused.body.Code, 'SignatureNonceUsed');
    });

    it('refuses a disabled key on every process at once, and serves it again once enabled', async () => {
      assert.equal(cli(['key', 'disable', '--id', key.accessKeyId], env).status, 0);
      try {
        const refused = await Promise.all(Array.from({ length: 6 }, () => send(served.port, issueRequest())));
        assert.deepEqual(refused.map((a) => a.status), Array(6).fill(403));
      } finally {
        assert.equal(cli(['key', 'enable', '--id', key.accessKeyId], env).status, 0);
      }
      const again = await Promise.all(Array.from({ length: 4 }, () => send(served.port, issueRequest())));
      assert.deepEqual(again.map((a) => a.status), Array(4).fill(200));
    });

    it('shows the counts of both processes in one scrape, whichever process takes it', async () => {
      const issued = async (): Promise<{ count: number; text: string }> => {
        const { status, text } = await scrape(served.port);
        assert.equal(status, 200, text);
        const line = text.split('\n').find((l) => l.startsWith('certplane_http_requests_total{dialect="aliyun-rpc",action="CreateClientCertificate",code="200"}'));
        return { count: Number(line?.split(' ').pop() ?? 0), text };
      };
      const before = (await issued()).count;
      const answers = await Promise.all(Array.from({ length: 10 }, () => send(served.port, issueRequest())));
      assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
      // Four scrapes on connections of their own reach both processes: each shows all ten.
      for (let i = 0; i < 4; i++) {
        const { count, text } = await issued();
        assert.equal(count, before + 10, `scrape ${i}`);
        for (const family of ['certplane_http_requests_total counter', 'certplane_jobs gauge', 'certplane_certificate_expiration_timestamp_seconds gauge']) {
          assert.equal(text.split('\n').filter((l) => l === `# TYPE ${family}`).length, 1, `${family} once in scrape ${i}`);
        }
      }
    });

    it('replaces a process that dies, serving meanwhile', async () => {
      const [victim, survivor] = childrenOf(served.pid);
      process.kill(victim!, 'SIGKILL');
      // Connections the primary handed to the victim before it noticed the death die with it.
      await until(
        () => served.records.some((l) => l.msg === 'a serving process died; starting another' && l.pid === victim),
        () => `the primary did not notice ${victim} died`,
      );
      assert.equal((await send(served.port, issueRequest())).status, 200);
      await until(
        () => childrenOf(served.pid).filter((pid) => pid !== victim && alive(pid)).length === 2,
        () => `no replacement for ${victim}: children ${childrenOf(served.pid).join(',')}`,
      );
      assert.ok(childrenOf(served.pid).includes(survivor!));
      await until(() => served.records.filter((l) => l.msg === 'worker listening').length === 3, () => 'the replacement never listened');
      const answers = await Promise.all(Array.from({ length: 6 }, () => send(served.port, issueRequest())));
      assert.deepEqual(answers.map((a) => a.status), Array(6).fill(200));
    });

    it('stops every process on SIGTERM and exits 0, leaving no record of serving', async () => {
      const workers = childrenOf(served.pid);
      served.kill('SIGTERM');
      assert.equal(await served.exited, 0, served.stderr());
      for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
      assert.deepEqual(readdirSync(testDb.dataDir).filter((f) => f.startsWith('serve-')), []);
    });

    it('fails the start, naming the setting, when the port is taken, and leaves no process behind', async () => {
      const blocker = spawnCluster([], env, await freePort());
      await until(() => blocker.records.some((l) => l.msg === 'serving'), () => `blocker did not start: ${blocker.stderr()}`);
      try {
        const second = spawnCluster(['--workers', '2'], env, blocker.port);
        const workers = new Set<number>();
        const watch = setInterval(() => childrenOf(second.pid).forEach((pid) => workers.add(pid)), 5);
        const code = await second.exited;
        clearInterval(watch);
        assert.equal(code, 2);
        assert.match(second.stderr(), /CERTPLANE_PORT: .* is already in use/);
        assert.match(second.stderr(), /--workers: a serving process .* exited with 2 before listening/);
        for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} is gone`);
      } finally {
        blocker.kill('SIGTERM');
        await blocker.exited;
      }
    });
  });
}
