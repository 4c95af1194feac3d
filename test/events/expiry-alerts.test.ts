/**
 * Certificate events reach an account's webhooks: a real HTTP receiver (node:http) in the test
 * checks each delivery's signature and payload, answers 500 once and sees the same delivery again;
 * the expiry scan reports `certificate.expiring` and `certificate.expired` exactly once per
 * certificate however often it runs while the clock moves on; RevokeClientCertificate reports
 * `certificate.revoked`. The service's job workers run in the test process, on a clock that
 * follows real time and can be moved on.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../../src/core/jobs/ports.js';
import { verifySignature } from '../../src/core/webhooks/model.js';
import { scheduleExpiryScan } from '../../src/jobs/expiry-scan.js';
import { apigClient, certName } from '../support/apig.js';
import { movableClock } from '../support/cas-pebble.js';
import { Esa, tenantOf } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { startService, tenant, type TestService } from '../support/service.js';
import { testServerCertificate } from '../support/site-certificates.js';

const DAY = 86_400_000;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

/** An HTTP endpoint that records every POST and answers with what `answer` says (200 by default; 0: no answer at all). */
async function startReceiver(answer: (n: number, req: http.IncomingMessage) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(received.length, req);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      if (status !== 0) res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/certplane`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const engine of ENGINES) {
  describe(`webhooks and expiry alerts on ${engine}`, () => {
    const clock = movableClock();
    let service: TestService;

    before(async () => {
      service = await startService(engine, {
        clock,
        // Requests are signed with the real time while the service's clock moves on by days.
        // The clock moves on by months and the tests count the finished jobs: keep them.
        config: { signatureMaxSkewMs: 200 * DAY, webhookTimeoutSeconds: 1, jobRetentionDays: 3650 },
        worker: { backoff: { baseMs: 200, maxMs: 400 }, idlePollMs: { min: 20, max: 100 } },
      });
    });
    after(async () => {
      await service.stop();
    });

    const jobsNamed = async (name: string): Promise<Array<{ id: string; payload: string; state: string; attempts: number }>> =>
      service.app.database.db.selectFrom('jobs').select(['id', 'payload', 'state', 'attempts']).where('name', '=', name).execute();

    it('a revocation is delivered signed, with its payload, and delivered again after the receiver answered 500', async () => {
      const receiver = await startReceiver((n) => (n === 0 ? 500 : 200));
      try {
        const user = await tenantOf(service, 'revokes');
        const { secret } = await service.app.webhooks.add(user.accountId, { url: receiver.url, events: ['certificate.revoked'] });
        // Another webhook of the account wants expiry events only, and one of another account everything: neither hears of it.
        const elsewhere = await startReceiver();
        await service.app.webhooks.add(user.accountId, { url: elsewhere.url, events: ['certificate.expiring'] });
        await service.app.webhooks.add((await tenantOf(service, 'bystander')).accountId, { url: elsewhere.url });
        const { siteId } = await user.site();
        const created = (await user.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 90, pkeyType: 'ECC' }))).body!;
        const revokedAt = clock.now();
        await user.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: created.id! }));

        await until(() => receiver.received.length >= 2 || undefined, 'the delivery was not retried');
        const [first, second] = receiver.received as [Received, Received];
        assert.deepEqual([first.status, second.status], [500, 200]);
        // The same delivery, the same event, the same bytes.
        assert.equal(first.headers['x-certplane-delivery'], second.headers['x-certplane-delivery']);
        assert.equal(first.body, second.body);
        for (const r of [first, second]) {
          assert.equal(r.headers['content-type'], 'application/json');
          assert.equal(r.headers['x-certplane-event'], 'certificate.revoked');
          const header = String(r.headers['x-certplane-signature']);
          const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
          assert.ok(match, header);
          // What a receiver computes: HMAC-SHA256 of "<t>.<raw body>" under the secret.
          assert.equal(match[2], createHmac('sha256', secret).update(`${match[1]}.${r.body}`).digest('hex'));
          assert.ok(verifySignature(secret, header, r.body, Number(match[1])));
          assert.ok(!verifySignature('another-secret-entirely', header, r.body, Number(match[1])));
          assert.ok(!verifySignature(secret, header, r.body.replace('revoked', 'REVOKED'), Number(match[1])));
        }
        const payload = JSON.parse(first.body) as Record<string, unknown>;
        assert.deepEqual(Object.keys(payload).sort(), ['accountId', 'data', 'id', 'occurredAt', 'subject', 'type']);
        assert.equal(payload.type, 'certificate.revoked');
        assert.equal(payload.accountId, user.accountId);
        assert.deepEqual(payload.subject, { kind: 'client', id: created.id });
        assert.ok(Math.abs(Date.parse(String(payload.occurredAt)) - revokedAt.getTime()) < 5000);
        const data = payload.data as Record<string, unknown>;
        assert.equal(data.serialNumber, created.serialNumber);
        assert.equal(data.siteId, String(siteId));

        const delivery = (await jobsNamed('webhook.deliver')).find((j) => j.id === first.headers['x-certplane-delivery']);
        await until(async () => ((await service.app.jobs.find(delivery!.id))?.state === 'done' ? true : undefined), 'delivery job not done');
        const job = (await service.app.jobs.find(delivery!.id)) as Job;
        assert.deepEqual([job.state, job.attempts, job.maxAttempts], ['done', 2, service.app.config.webhookMaxAttempts]);
        assert.match(job.lastError ?? '', /answered HTTP 500/);

        // Revoking again changes nothing and reports nothing.
        await user.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: created.id! }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(receiver.received.length, 2);
        assert.equal(elsewhere.received.length, 0);
        await elsewhere.close();
        const revokedEvents = (await jobsNamed('event.publish')).filter((j) => JSON.parse(j.payload).type === 'certificate.revoked');
        assert.equal(revokedEvents.filter((j) => JSON.parse(j.payload).subject.id === created.id).length, 1);
      } finally {
        await receiver.close();
      }
    });

    it('a receiver that does not answer within webhookTimeoutSeconds is tried again; a webhook removed before its delivery gets nothing', async () => {
      const receiver = await startReceiver((n) => (n === 0 ? 0 : 200));
      try {
        const user = await tenantOf(service, 'slow-receiver');
        const { webhook } = await service.app.webhooks.add(user.accountId, { url: receiver.url, events: ['certificate.revoked'] });
        const { siteId } = await user.site();
        const created = (await user.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 90, pkeyType: 'ECC' }))).body!;
        await user.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: created.id! }));
        await until(() => receiver.received.length >= 2 || undefined, 'the unanswered delivery was not tried again');
        const deliveryId = String(receiver.received[0]!.headers['x-certplane-delivery']);
        assert.equal(receiver.received[1]!.headers['x-certplane-delivery'], deliveryId, 'the same delivery again');
        await until(async () => ((await service.app.jobs.find(deliveryId))?.state === 'done' ? true : undefined), 'delivery job not done');
        const job = (await service.app.jobs.find(deliveryId)) as Job;
        assert.equal(job.attempts, 2);
        assert.match(job.lastError ?? '', /could not be reached: .*(timeout|aborted)/i);

        // Removed after the event was published, before its delivery ran: the delivery ends, sending nothing.
        await service.app.webhooks.remove(user.accountId, webhook.id);
        const late = await service.app.jobs.enqueue({
          name: 'webhook.deliver',
          payload: { webhookId: webhook.id, event: JSON.parse(receiver.received[1]!.body) },
          maxAttempts: 3,
        });
        await until(async () => ((await service.app.jobs.find(late.id))?.state === 'done' ? true : undefined), 'delivery to a removed webhook not done');
        assert.deepEqual([(await service.app.jobs.find(late.id))!.attempts, receiver.received.length], [1, 2]);
      } finally {
        await receiver.close();
      }
    });

    it('the expiry scan reports expiring and expired once per certificate across repeated scans as the clock moves', async () => {
      const receiver = await startReceiver();
      try {
        // An inventory certificate (APIG) ending in 40 days and a client certificate ending in 10.
        const apig = await tenant(service, 'expiring');
        const token = (await service.app.accounts.createToken(apig.accountId, 200 * DAY)).token;
        await service.app.webhooks.add(apig.accountId, { url: receiver.url, events: ['certificate.expiring', 'certificate.expired'] });
        const { leaf, chainPem } = testServerCertificate(['soon.example.com'], 40);
        const uploaded = await apigClient(service, apig.projectId, token).create({ name: certName('soon'), cert_content: chainPem, private_key: leaf.keyPem });
        assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
        const inventoryId = String(uploaded.body.id);

        const esaUser = await tenantOf(service, 'clientexpiry');
        await service.app.webhooks.add(esaUser.accountId, { url: receiver.url });
        const { siteId } = await esaUser.site();
        const client = (await esaUser.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 10, pkeyType: 'ECC' }))).body!;

        const scan = async () => {
          const { id } = await scheduleExpiryScan(service.app.expiryScans, clock.now());
          service.app.jobs.announce();
          await until(async () => ((await service.app.jobs.find(id))?.state === 'done' ? true : undefined), 'scan not done');
        };
        const events = () =>
          receiver.received.map((r) => {
            const p = JSON.parse(r.body) as { type: string; subject: { id: string }; data: { notAfter: string } };
            return `${p.type} ${p.subject.id}`;
          });
        const settle = async (count: number) => {
          await until(() => receiver.received.length >= count || undefined, `${count} deliveries`);
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.equal(receiver.received.length, count, events().join('\n'));
        };

        await scan();
        await settle(1);
        assert.deepEqual(events(), [`certificate.expiring ${client.id}`]);
        // Scanning again in this period and the next reports nothing more.
        await scan();
        clock.advance(61 * 60_000);
        await scan();
        await settle(1);

        // 11 days on: the inventory certificate (29 days left) enters the window, the client certificate ended.
        clock.advance(11 * DAY);
        await scan();
        await settle(3);
        assert.deepEqual(events().slice(1).sort(), [`certificate.expired ${client.id}`, `certificate.expiring ${inventoryId}`].sort());
        await scan();
        clock.advance(2 * DAY);
        await scan();
        await settle(3);

        // 30 days on: the inventory certificate ended too.
        clock.advance(30 * DAY);
        await scan();
        await settle(4);
        assert.equal(events()[3], `certificate.expired ${inventoryId}`);
        clock.advance(3 * 3_600_000);
        await scan();
        await settle(4);

        // Each delivery went to the account that owns the certificate, and each event was published once.
        for (const r of receiver.received) {
          const p = JSON.parse(r.body) as { accountId: string; subject: { id: string }; data: { notAfter: string; serialNumber: string } };
          assert.equal(p.accountId, p.subject.id === inventoryId ? apig.accountId : esaUser.accountId);
          assert.ok(p.data.serialNumber.length > 0 && !Number.isNaN(Date.parse(p.data.notAfter)));
        }
        const published = (await jobsNamed('event.publish'))
          .map((j) => JSON.parse(j.payload) as { type: string; subject: { id: string } })
          .filter((p) => p.type === 'certificate.expiring' || p.type === 'certificate.expired')
          .filter((p) => p.subject.id === inventoryId || p.subject.id === client.id);
        assert.equal(published.length, 4);
      } finally {
        await receiver.close();
      }
    });
  });
}
