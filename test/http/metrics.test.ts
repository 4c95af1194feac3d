import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SqlMetricsSource } from '../../src/adapters/db/metrics-source.js';
import { PrometheusMetrics } from '../../src/adapters/metrics/prometheus.js';
import { acceptsGzip } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/main.js';
import { apigClient, certName } from '../support/apig.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { startIssuanceHarness, ZONE, type IssuanceHarness } from '../support/issuance.js';
import { inspectCert, makeChain } from '../support/openssl.js';
import { startPrometheus } from '../support/prometheus.js';
import { tenant, type TestService } from '../support/service.js';
import { testServerCertificate } from '../support/site-certificates.js';

/** One sample of the text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

/** `promtool check metrics` on the exposition: its lint findings, or a failure naming the missing tool. */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    assert.fail('promtool is not installed: install Debian\'s `prometheus` package (apt-get install prometheus), which provides it');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const TOKEN = 'scrape-token-0123456789abcdef';

describe('Accept-Encoding for /metrics', () => {
  it('accepts gzip when the header names gzip or x-gzip, or only *, with a q-value above 0', () => {
    const cases: Array<[string | string[] | undefined, boolean]> = [
      [undefined, false],
      ['', false],
      ['identity', false],
      ['gzip', true],
      ['GZIP', true],
      ['x-gzip', true],
      ['br, gzip;q=0.5', true],
      ['gzip;q=0', false],
      ['gzip; q=0.000', false],
      ['*', true],
      ['*;q=0', false],
      ['gzip;q=0, *', false],
      ['deflate, *;q=0.1', true],
      [['deflate', 'gzip'], true],
    ];
    for (const [header, expected] of cases) assert.equal(acceptsGzip(header), expected, JSON.stringify(header));
  });
});

for (const engine of ENGINES) {
  describe(`GET /metrics on ${engine}`, () => {
    let harness: IssuanceHarness;
    let server: FastifyInstance;
    let service: TestService;
    let mtls: Tenant;

    before(async () => {
      harness = await startIssuanceHarness({ engine });
      server = buildServer(harness.app);
      await server.listen({ port: 0, host: '127.0.0.1' });
      const address = server.server.address();
      if (!address || typeof address === 'string') throw new Error('no TCP address');
      // The API test clients only need the base URL and the app.
      service = { app: harness.app, baseUrl: `http://127.0.0.1:${address.port}` } as TestService;
      mtls = await tenantOf(service, 'metrics');
    });
    after(async () => {
      await server?.close();
      await harness?.stop();
    });

    async function scrape(headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
      const res = await fetch(`${service.baseUrl}/metrics`, { headers });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    }

    it('shows certificate expiry, issuance outcomes, the job queue and HTTP requests as they happened, and passes promtool', async () => {
      // An APIG upload (inventory) and an ESA client certificate, through the wire dialects.
      const owner = await tenant(service, 'apig-owner');
      const apig = apigClient(service, owner.projectId, owner.token);
      const chain = makeChain('p256');
      const uploaded = await apig.create({ name: certName('metrics'), cert_content: chain.chainPem, private_key: chain.key });
      assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
      assert.equal((await apig.show('0'.repeat(32))).status, 404);
      const { siteId, siteName } = await mtls.site();
      // An ESA site certificate uploaded with SetCertificate: kind site, named by the site certificate's id.
      const served = testServerCertificate([`www.${siteName}`], 45);
      const siteCertificate = await mtls.esa.setCertificate(
        new Esa.SetCertificateRequest({ siteId, type: 'upload', name: 'metrics-site-cert', certificate: served.chainPem, privateKey: served.leaf.keyPem }),
      );
      const siteCertificateId = siteCertificate.body!.id!;
      const client = await mtls.issue(siteId, 'ECC');
      assert.ok(client.id && client.certificate);

      // Issuances: one valid from pebble, one invalid (its issuer is not configured), one canceled before it ran.
      const valid = await harness.finished(await harness.issue([`a.${ZONE}`]));
      assert.equal(valid.state, 'valid', JSON.stringify(valid));
      // An issuance that replaces the valid one is a renewal.
      const renewed = await harness.finished(await harness.issue([`a.${ZONE}`], { replaces: valid.id }));
      assert.equal(renewed.state, 'valid', JSON.stringify(renewed));
      const invalid = await harness.finished(await harness.issue([`b.${ZONE}`], { profile: 'digicert_single' }));
      assert.equal(invalid.state, 'invalid');
      await harness.stopWorker();
      const canceled = await harness.app.issuances.cancel(await harness.issue([`c.${ZONE}`]));
      assert.equal(canceled?.state, 'canceled');

      // A job nobody handles, due for two minutes: the queue's depth and its oldest due job.
      const runAt = new Date(harness.app.clock.now().getTime() - 120_000);
      await harness.app.jobs.enqueue({ name: 'metrics.test-probe', payload: {}, runAt });

      const res = await scrape();
      assert.equal(res.status, 200, res.text);
      assert.match(res.type ?? '', /^text\/plain; version=0\.0\.4/);
      const samples = parseSamples(res.text);

      const inventory = inspectCert(chain.leaf.certPem);
      const uploadedId = String(uploaded.body.id);
      const inventorySample = samples.find((s) => s.name === 'certplane_certificate_expiration_timestamp_seconds' && s.labels.id === uploadedId);
      assert.ok(inventorySample, 'the uploaded certificate has its expiry sample');
      assert.deepEqual(
        inventorySample.labels,
        { kind: 'inventory', id: uploadedId, account: owner.accountId, common_name: 'p256.example.com', serial: inventory.serialHex.toLowerCase() },
      );
      assert.equal(inventorySample.value, Math.floor(inventory.notAfter.getTime() / 1000), 'the notAfter openssl reads');

      const onSite = inspectCert(served.leaf.certPem);
      const siteSample = samples.find((s) => s.name === 'certplane_certificate_expiration_timestamp_seconds' && s.labels.id === siteCertificateId);
      assert.ok(siteSample, 'the site certificate has its expiry sample');
      assert.deepEqual(siteSample.labels, {
        kind: 'site',
        id: siteCertificateId,
        account: mtls.accountId,
        common_name: `www.${siteName}`,
        serial: onSite.serialHex.toLowerCase(),
      });
      assert.equal(siteSample.value, Math.floor(onSite.notAfter.getTime() / 1000));
      // Its inventory row is the site's: not counted a second time as an inventory certificate.
      assert.equal(samples.filter((s) => s.name === 'certplane_certificate_expiration_timestamp_seconds' && s.labels.common_name === `www.${siteName}`).length, 1);

      const issued = inspectCert(client.certificate!);
      const clientSample = samples.find((s) => s.name === 'certplane_certificate_expiration_timestamp_seconds' && s.labels.id === client.id);
      assert.ok(clientSample, 'the client certificate has its expiry sample');
      assert.equal(clientSample.labels.kind, 'client');
      assert.equal(clientSample.labels.account, mtls.accountId);
      assert.equal(clientSample.labels.serial, issued.serialHex.toLowerCase());
      assert.equal(clientSample.value, Math.floor(issued.notAfter.getTime() / 1000));

      assert.equal(valueOf(samples, 'certplane_issuances_total', { kind: 'issue', outcome: 'valid' }), 1);
      assert.equal(valueOf(samples, 'certplane_issuances_total', { kind: 'issue', outcome: 'invalid' }), 1);
      assert.equal(valueOf(samples, 'certplane_issuances_total', { kind: 'issue', outcome: 'canceled' }), 1);
      assert.equal(valueOf(samples, 'certplane_issuances_total', { kind: 'renew', outcome: 'valid' }), 1);
      assert.equal(valueOf(samples, 'certplane_issuances_total', { kind: 'renew', outcome: 'invalid' }), undefined, 'no failed renewal happened');
      assert.equal(valueOf(samples, 'certplane_acme_order_duration_seconds_count', { kind: 'issue', outcome: 'valid' }), 1);
      assert.equal(valueOf(samples, 'certplane_acme_order_duration_seconds_count', { kind: 'renew', outcome: 'valid' }), 1);
      const took = valueOf(samples, 'certplane_acme_order_duration_seconds_sum', { kind: 'issue', outcome: 'valid' })!;
      assert.ok(took > 0 && took < 120, `the valid order took ${took} s`);

      assert.equal(valueOf(samples, 'certplane_jobs', { name: 'metrics.test-probe', state: 'queued' }), 1);
      const age = valueOf(samples, 'certplane_job_oldest_due_age_seconds')!;
      assert.ok(age >= 120 && age < 600, `oldest due job waited ${age} s`);

      const apigCreate = { dialect: 'huawei-rest', action: 'POST /v2/:project_id/apigw/certificates', code: '200' };
      assert.equal(valueOf(samples, 'certplane_http_requests_total', apigCreate), 1);
      assert.equal(valueOf(samples, 'certplane_http_requests_total', { dialect: 'huawei-rest', action: 'GET /v2/:project_id/apigw/certificates/:certificate_id', code: '404' }), 1);
      assert.equal(valueOf(samples, 'certplane_http_requests_total', { dialect: 'aliyun-rpc', action: 'CreateClientCertificate', code: '200' }), 1);
      assert.equal(valueOf(samples, 'certplane_http_requests_total', { dialect: 'aliyun-rpc', action: 'CreateSite', code: '200' }), 1);
      assert.equal(valueOf(samples, 'certplane_http_requests_total', { dialect: 'aliyun-rpc', action: 'SetCertificate', code: '200' }), 1);
      assert.equal(valueOf(samples, 'certplane_http_request_duration_seconds_count', { dialect: 'aliyun-rpc', action: 'CreateClientCertificate' }), 1);

      const check = promtoolCheck(res.text);
      assert.equal(check.status, 0, `promtool check metrics: ${check.output}`);
      assert.equal(check.output.trim(), '', 'promtool has no lint findings');

      // The scrape itself is counted by the next one.
      const again = parseSamples((await scrape()).text);
      assert.equal(valueOf(again, 'certplane_http_requests_total', { dialect: 'other', action: 'GET /metrics', code: '200' }), 1);
    });

    it('answers loopback callers only, unless a token is set; then only a caller presenting it', async () => {
      const remote = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.10' });
      assert.equal(remote.statusCode, 403);
      assert.deepEqual(remote.json(), {
        error: { code: 'auth.forbidden', message: 'metrics are served to loopback callers only unless metricsToken is set' },
      });
      const local = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      assert.equal(local.statusCode, 200);
      const mapped = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '::ffff:127.0.0.1' });
      assert.equal(mapped.statusCode, 200);

      const app: App = { ...harness.app, config: { ...harness.app.config, metricsToken: TOKEN } };
      const guarded = buildServer(app);
      try {
        for (const remoteAddress of ['127.0.0.1', '192.0.2.10']) {
          const missing = await guarded.inject({ method: 'GET', url: '/metrics', remoteAddress });
          assert.equal(missing.statusCode, 401, 'no token, from anywhere');
          assert.equal(missing.headers['www-authenticate'], 'Bearer realm="certplane metrics"');
          assert.equal((missing.json() as { error: { code: string } }).error.code, 'auth.credentials_missing');
          const wrong = await guarded.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: { authorization: `Bearer ${TOKEN}x` } });
          assert.equal(wrong.statusCode, 401);
          assert.equal((wrong.json() as { error: { code: string } }).error.code, 'auth.credentials_invalid');
          const basic = await guarded.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: { authorization: `Basic ${TOKEN}` } });
          assert.equal(basic.statusCode, 401);
          const right = await guarded.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: { authorization: `Bearer ${TOKEN}` } });
          assert.equal(right.statusCode, 200, right.body);
          assert.match(right.body, /^# HELP certplane_/m);
        }
      } finally {
        await guarded.close();
      }
    });

    it('gzips the text for a scraper that accepts gzip, and sends it as it is otherwise', async () => {
      const plain = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      assert.equal(plain.statusCode, 200);
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.headers.vary, 'accept-encoding', 'a cache keeps the two forms apart');
      assert.match(plain.body, /^# HELP certplane_/m);

      const zipped = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'accept-encoding': 'gzip' } });
      assert.equal(zipped.statusCode, 200);
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.equal(zipped.headers.vary, 'accept-encoding');
      assert.match(String(zipped.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const text = gunzipSync(zipped.rawPayload).toString('utf8');
      assert.ok(zipped.rawPayload.length < Buffer.byteLength(text), `gzip made ${zipped.rawPayload.length} bytes of ${Buffer.byteLength(text)}`);
      // The same exposition: the same series, apart from the counts of this very test's scrapes.
      const names = (body: string) => new Set(parseSamples(body).filter((s) => s.name !== 'certplane_http_requests_total' && !s.name.startsWith('certplane_http_request_duration')).map((s) => `${s.name}${JSON.stringify(s.labels)}`));
      assert.deepEqual(names(text), names(plain.body));
      assert.equal(promtoolCheck(text).status, 0);

      const refused = await server.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'accept-encoding': 'gzip;q=0, br' } });
      assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0: not acceptable');
      assert.match(refused.body, /^# HELP certplane_/m);
    });

    it('is scraped by a real Prometheus with the bearer token of docs/metrics.md, gzipped as Prometheus asks', async () => {
      const { siteId } = await mtls.site();
      const client = await mtls.issue(siteId, 'ECC', { validityDays: 12 });
      const notAfter = inspectCert(client.certificate!).notAfter;

      const scrapes: Array<{ status: number; accept: string | undefined; encoding: unknown }> = [];
      const guarded = buildServer({ ...harness.app, config: { ...harness.app.config, metricsToken: TOKEN } });
      guarded.addHook('onSend', async (request, reply, payload) => {
        if (request.url === '/metrics') {
          scrapes.push({ status: reply.statusCode, accept: request.headers['accept-encoding'], encoding: reply.getHeader('content-encoding') });
        }
        return payload;
      });
      await guarded.listen({ port: 0, host: '127.0.0.1' });
      const address = guarded.server.address();
      if (!address || typeof address === 'string') throw new Error('no TCP address');
      const prometheus = await startPrometheus({ target: `127.0.0.1:${address.port}`, token: TOKEN });
      try {
        const expiry = `certplane_certificate_expiration_timestamp_seconds{kind="client",id="${client.id}"}`;
        let result: Awaited<ReturnType<typeof prometheus.query>> = [];
        for (const deadline = Date.now() + 20_000; result.length === 0 && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          result = await prometheus.query(expiry);
        }
        assert.equal(result.length, 1, `Prometheus has the client certificate's expiry: ${JSON.stringify(await prometheus.targets())} ${prometheus.log()}`);
        assert.equal(Number(result[0]!.value[1]), Math.floor(notAfter.getTime() / 1000));
        assert.equal(result[0]!.metric.account, mtls.accountId);
        assert.equal(result[0]!.metric.job, 'certplane');

        const [target] = await prometheus.targets();
        assert.equal(target?.health, 'up');
        assert.equal(target?.lastError, '');
        const up = await prometheus.query('up{job="certplane"}');
        assert.equal(up[0]?.value[1], '1');

        assert.ok(scrapes.length >= 1);
        for (const scrape of scrapes) {
          assert.equal(scrape.status, 200, 'Prometheus presented the token');
          assert.match(scrape.accept ?? '', /gzip/, 'Prometheus asks for gzip');
          assert.equal(scrape.encoding, 'gzip');
        }
      } finally {
        await prometheus.stop();
        await guarded.close();
      }
    });

    it('fails a scrape with 503 when the counts of every process cannot be gathered, rather than show a part of them', async () => {
      const metrics = new PrometheusMetrics(new SqlMetricsSource(harness.app.database.db), harness.app.clock);
      metrics.countAcross(() => Promise.reject(new Error('the primary did not answer within 6000 ms')));
      const failing = buildServer({ ...harness.app, metrics });
      try {
        const res = await failing.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
        assert.equal(res.statusCode, 503);
        assert.deepEqual(res.json(), { error: { code: 'metrics.unavailable', message: 'the metrics could not be gathered; scrape again' } });
        assert.equal((await failing.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the server keeps serving');
      } finally {
        await failing.close();
      }
    });
  });
}
