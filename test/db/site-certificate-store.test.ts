import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlSiteCertificateStore } from '../../src/adapters/db/site-certificate-store.js';
import type { AuthorizationProgress } from '../../src/core/issuance/model.js';
import { ApplicationInProgress, type NewApplication } from '../../src/core/site-certificates/ports.js';
import { randomIds } from '../../src/kernel/ids.js';
import { removeDnsRecordJob } from '../../src/jobs/remove-dns-record.js';
import { ENGINES } from '../support/databases.js';
import type { TestService } from '../support/service.js';
import { TestZones, apply, certTenant, issuanceOf, issueForTest, orderedForTest, startCertService, storeCounts, type CertTenant } from '../support/site-certificates.js';

const WITHDRAWAL = { removalJob: removeDnsRecordJob, ids: randomIds };

/** An authorization whose proof certplane put in place: a dns-01 record with its provider handle, or an http-01 token. */
function placed(domain: string, kind: 'dns' | 'http'): AuthorizationProgress {
  const url = `https://ca.test/authz/${domain}`;
  const base = { url, domain, status: 'pending' as const, challengeUrl: `${url}/chall`, token: `tok-${domain.replace(/\W/g, '')}`, answered: true };
  if (kind === 'http') return { ...base, challengeType: 'http-01', path: `/.well-known/acme-challenge/${base.token}`, keyAuthorization: `${base.token}.thumb` };
  const record = { name: `_acme-challenge.${domain}`, type: 'TXT', value: `value-${domain}`, ttl: 60 };
  return { ...base, challengeType: 'dns-01', recordName: record.name, txtValue: record.value, dnsHandle: { provider: 'rfc2136', record, detail: {} } };
}

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
      const store = new SqlSiteCertificateStore(service.app.database.db, WITHDRAWAL);
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
      const announcing = new SqlSiteCertificateStore(service.app.database.db, WITHDRAWAL, () => told++);
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

    it('a free certificate leaving the site withdraws its unfinished issuance with its dns-01 records and http-01 tokens', async () => {
      const db = service.app.database.db;
      const { siteId, siteName } = await tenant.site({ accessType: 'NS' });
      const [deleted, issued] = (await apply(tenant.esa, siteId, `a.${siteName},c.${siteName}`)).result!.map((r) => r.id!);
      await orderedForTest(service, deleted!, [placed(`a.${siteName}`, 'dns'), placed(`b.${siteName}`, 'http')]);
      await issueForTest(service, issued!, [`c.${siteName}`]);
      const deletedIssuance = await issuanceOf(service, deleted!);
      const tokens = async () => (await db.selectFrom('http01_challenges').select('token').where('issuance_id', '=', deletedIssuance.id).execute()).length;
      const at = new Date();
      await db.insertInto('http01_challenges').values({ token: `tok-b${siteName.replace(/\W/g, '')}`, key_authorization: 'k', issuance_id: deletedIssuance.id, domain: `b.${siteName}`, expires_at: new Date(at.getTime() + 3_600_000).toISOString(), created_at: at.toISOString() }).execute();
      assert.equal(await tokens(), 1);

      let told = 0;
      const store = new SqlSiteCertificateStore(db, WITHDRAWAL, () => told++);
      const event = (action: string) => ({ at, accountId: tenant.accountId, actor: 'test', action, resource: 'test', outcome: 'success', requestId: 'test' });
      await store.delete(tenant.accountId, String(siteId), deleted!, event('esa:DeleteCertificate'));
      const removals = async (issuanceId: string) =>
        (await db.selectFrom('jobs').select(['payload', 'idempotency_key', 'state']).where('name', '=', 'dns01.remove-record').where('idempotency_key', 'like', `dns01.remove:${issuanceId}:%`).execute()).map((job) => [
          (JSON.parse(job.payload) as { record: { name: string } }).record.name,
          job.idempotency_key,
          job.state,
        ]);
      assert.equal((await db.selectFrom('acme_issuances').select('state').where('id', '=', deletedIssuance.id).executeTakeFirstOrThrow()).state, 'canceled');
      assert.deepEqual(await removals(deletedIssuance.id), [[`_acme-challenge.a.${siteName}`, `dns01.remove:${deletedIssuance.id}:https://ca.test/authz/a.${siteName}`, 'queued']]);
      assert.equal(await tokens(), 0, 'the tokens are no longer served');
      assert.equal(told, 1, 'the workers are told of the removal');

      // One that finished meanwhile keeps its state: it cleaned up as it finished.
      const issuedIssuance = await issuanceOf(service, issued!);
      await store.delete(tenant.accountId, String(siteId), issued!, event('esa:DeleteCertificate'));
      assert.equal((await db.selectFrom('acme_issuances').select('state').where('id', '=', issuedIssuance.id).executeTakeFirstOrThrow()).state, 'valid');
      assert.deepEqual(await removals(issuedIssuance.id), []);
      assert.equal(told, 1);
    });
  });
}
