/**
 * The expiry scan's store on both engines: what each scan finds from its watermark, for an
 * inventory certificate that arrives already inside the window, an ACME issuance (an ESA free
 * certificate) that enters it later, and both ending; nothing found twice, and a clock set back
 * moves nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
