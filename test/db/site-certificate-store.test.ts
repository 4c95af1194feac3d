import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlSiteCertificateStore } from '../../src/adapters/db/site-certificate-store.js';
import { ApplicationInProgress, type NewApplication } from '../../src/core/site-certificates/ports.js';
import { ENGINES } from '../support/databases.js';
import type { TestService } from '../support/service.js';
import { TestZones, apply, certTenant, startCertService, storeCounts, type CertTenant } from '../support/site-certificates.js';

for (const engine of ENGINES) {
  describe(`site certificate store on ${engine}`, () => {
    const zones = new TestZones();
    let service: TestService;
    let tenant: CertTenant;

    before(async () => {
      service = await startCertService(engine, zones);
      tenant = await certTenant(service, zones);
    });
    after(async () => {
      await service.stop();
    });

    it('the unique index refuses a second application in progress for one domain, even past every earlier check', async () => {
      const { siteId, siteName } = await tenant.site();
      await apply(tenant.esa, siteId, `www.${siteName}`);
      const store = new SqlSiteCertificateStore(service.app.database.db);
      const at = new Date();
      const application: NewApplication = {
        id: 'a'.repeat(32),
        name: `www.${siteName}`,
        domain: `www.${siteName}`,
        issuerProfile: 'lets_encrypt',
        issuance: { id: 'b'.repeat(32), accountId: tenant.accountId, profile: 'lets_encrypt', identifiers: [`www.${siteName}`], challengeType: 'http-01', placement: 'certplane' },
        jobId: 'c'.repeat(32),
        at,
      };
      const event = { at, accountId: tenant.accountId, actor: 'test', action: 'esa:ApplyCertificate', resource: 'test', outcome: 'success', requestId: 'test' };
      const before = await storeCounts(service);
      let told = 0;
      const announcing = new SqlSiteCertificateStore(service.app.database.db, () => told++);
      await assert.rejects(
        announcing.withSite(tenant.accountId, String(siteId), (locked) => locked.insertApplications([application], event)),
        ApplicationInProgress,
      );
      assert.deepEqual(await storeCounts(service), before, 'the issuance and job inserted before the refusal are rolled back');
      assert.equal(told, 0, 'no worker is woken for jobs that were rolled back');

      await store.withSite(tenant.accountId, String(siteId), (locked) => locked.insertApplications([{ ...application, domain: `api.${siteName}` }], event));
      const counts = await storeCounts(service);
      assert.deepEqual([counts.site_certificates! - before.site_certificates!, counts.jobs! - before.jobs!], [1, 1]);
    });
  });
}
