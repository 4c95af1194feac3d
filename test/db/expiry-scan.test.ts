/**
 * The expiry scan's store on both engines: what each scan finds from its watermark, for an
 * inventory certificate that arrives already inside the window, an ACME issuance (an ESA free
 * certificate) that enters it later, and both ending; nothing found twice, and a clock set back
 * moves nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { crossingJob, type Crossing } from '../../src/core/events/expiry-scan.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { apigClient, certName } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { startService, tenant, type TestService } from '../support/service.js';
import { TEST_ISSUERS, TEST_PLANS, TestZones, apply, certTenant, issuanceOf, issueForTest, testServerCertificate } from '../support/site-certificates.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`expiry scan store on ${engine}`, () => {
    const start = new Date();
    const clock = fixedClock(start);
    const zones = new TestZones();
    let service: TestService;
    before(async () => {
      service = await startService(engine, { clock, dns: zones, config: { plans: TEST_PLANS, issuers: TEST_ISSUERS, signatureMaxSkewMs: 100 * DAY } });
    });
    after(() => service.stop());

    async function scanAt(offsetMs: number): Promise<string[]> {
      const now = new Date(start.getTime() + offsetMs);
      const found: Crossing[] = [];
      await service.app.expiryScans.store.scan(now, 30, (c) => {
        found.push(c);
        return crossingJob(c, now);
      });
      return found.map((c) => `${c.kind} ${c.subject.kind} ${c.subject.id}`).sort();
    }

    it('finds each crossing once, from the watermark on', async () => {
      assert.deepEqual(await scanAt(0), [], 'nothing stored yet');

      // An upload already inside the window, stored after the first scan: found by the next one.
      clock.set(new Date(start.getTime() + HOUR / 2));
      const apig = await tenant(service, 'scanstore');
      const { leaf, chainPem } = testServerCertificate(['inside.example.com'], 20);
      const uploaded = await apigClient(service, apig.projectId, apig.token).create({ name: certName('inside'), cert_content: chainPem, private_key: leaf.keyPem });
      assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
      const inventoryId = String(uploaded.body.id);

      // A free site certificate issued for 45 days.
      const esa = await certTenant(service, zones, 'scanstore-esa');
      const { siteId, siteName } = await esa.site();
      const [applied] = (await apply(esa.esa, siteId, `www.${siteName}`)).result!;
      await issueForTest(service, applied!.id!, [`www.${siteName}`], 45);
      const siteCertificateId = applied!.id!;
      assert.equal((await issuanceOf(service, siteCertificateId)).state, 'valid');

      assert.deepEqual(await scanAt(2 * HOUR), [`expiring inventory ${inventoryId}`]);
      assert.deepEqual(await scanAt(3 * HOUR), []);
      assert.deepEqual(await scanAt(14 * DAY), []);
      assert.deepEqual(await scanAt(16 * DAY), [`expiring site ${siteCertificateId}`]);
      assert.deepEqual(await scanAt(17 * DAY), []);
      assert.deepEqual(await scanAt(21 * DAY), [`expired inventory ${inventoryId}`]);
      // A clock set back finds nothing and leaves the watermark where it was.
      assert.deepEqual(await scanAt(5 * DAY), []);
      const watermark = await service.app.database.db.selectFrom('service_facts').select('value').where('name', '=', 'expiry_scan_watermark').executeTakeFirstOrThrow();
      assert.equal(watermark.value, new Date(start.getTime() + 21 * DAY).toISOString());
      assert.deepEqual(await scanAt(46 * DAY), [`expired site ${siteCertificateId}`]);
      assert.deepEqual(await scanAt(400 * DAY), []);

      const events = await service.app.database.db.selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute();
      const types = events.map((e) => JSON.parse(e.payload) as { type: string; subject: { id: string } }).map((p) => `${p.type} ${p.subject.id}`).sort();
      assert.deepEqual(types, [
        `certificate.expired ${inventoryId}`,
        `certificate.expired ${siteCertificateId}`,
        `certificate.expiring ${inventoryId}`,
        `certificate.expiring ${siteCertificateId}`,
      ].sort());
    });
  });
}

for (const engine of ENGINES) {
  describe(`expiry scan of many certificates on ${engine}`, () => {
    const start = new Date();
    const clock = fixedClock(start);
    let service: TestService;
    before(async () => {
      service = await startService(engine, { clock });
    });
    after(() => service.stop());

    it('queues one event for each of more than a page of crossings, also when a scan stops half way', async () => {
      const app = service.app;
      const stamp = (accountId: string, action: string) => new AuditStamp(accountId, 'key:test', action, (id) => `x/${id}`, `req-${Math.random()}`);
      const account = await app.accounts.createAccount('scan-many');
      const instance = await app.plans.grant(account.id, 'enterprise');
      const site = await app.sites.create(account.id, { name: `scanmany${process.pid}.com`, accessType: 'CNAME', coverage: 'global', instanceId: instance.id }, stamp(account.id, 'esa:CreateSite'));
      assert.deepEqual(await app.expiryScans.store.scan(start, 30, (c) => crossingJob(c, start)), { expiring: 0, expired: 0, from: undefined, to: start });

      // 1,100 client certificates valid for 20 days: each inside the 30-day window from its start.
      const COUNT = 1100;
      clock.set(new Date(start.getTime() + HOUR));
      const ids: string[] = [];
      for (let i = 0; i < COUNT; i += 50) {
        const batch = Array.from({ length: Math.min(50, COUNT - i) }, () =>
          app.privateCa.issue(account.id, site.id, { pkeyType: 'ECC', validityDays: 20 }, stamp(account.id, 'esa:CreateClientCertificate')),
        );
        for (const issued of await Promise.all(batch)) ids.push(issued.certificate.id);
      }

      // A scan that fails after its first page of events leaves the watermark where it was.
      const now = new Date(start.getTime() + 2 * HOUR);
      let made = 0;
      await assert.rejects(
        app.expiryScans.store.scan(now, 30, (c) => {
          if (++made > 700) throw new Error('stopped half way');
          return crossingJob(c, now);
        }),
        /stopped half way/,
      );
      const watermark = () => app.database.db.selectFrom('service_facts').select('value').where('name', '=', 'expiry_scan_watermark').executeTakeFirstOrThrow();
      assert.equal((await watermark()).value, start.toISOString());

      // The next scan finds them all again and queues only those the stopped one did not.
      const again = await app.expiryScans.store.scan(now, 30, (c) => crossingJob(c, now));
      assert.deepEqual([again.expiring, again.expired, again.to], [COUNT - 500, 0, now]);
      assert.equal((await watermark()).value, now.toISOString());
      assert.deepEqual(await app.expiryScans.store.scan(new Date(now.getTime() + HOUR), 30, (c) => crossingJob(c, now)), {
        expiring: 0,
        expired: 0,
        from: now,
        to: new Date(now.getTime() + HOUR),
      });

      const events = await app.database.db.selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute();
      const subjects = events.map((e) => (JSON.parse(e.payload) as { type: string; subject: { id: string } })).filter((p) => p.type === 'certificate.expiring').map((p) => p.subject.id);
      assert.equal(subjects.length, COUNT, 'one event per certificate');
      assert.deepEqual(new Set(subjects), new Set(ids));
    });
  });
}
