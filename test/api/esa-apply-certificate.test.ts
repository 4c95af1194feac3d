import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { esaClient, sdkError } from '../support/alibaba.js';
import { refuseAuditOf } from '../support/audit.js';
import { ENGINES, createTestDatabase } from '../support/databases.js';
import {
  Esa,
  TEST_PLANS,
  TestZones,
  apply,
  certTenant,
  failForTest,
  issuanceOf,
  issueForTest,
  startCertService,
  storeCounts,
  type CertTenant,
} from '../support/site-certificates.js';
import type { TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`ESA ApplyCertificate through the official SDK on ${engine}`, () => {
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

    /** The call must fail with this status and code, and leave every table as it was. */
    async function refused(call: () => Promise<unknown>, status: number, code: string, message?: RegExp) {
      const before = await storeCounts(service);
      const err = await sdkError(call());
      assert.deepEqual([err.statusCode, err.code], [status, code], err.message);
      if (message) assert.match(String(err.data?.Message), message);
      assert.deepEqual(await storeCounts(service), before, 'nothing stored');
      return err;
    }

    it('answers Applying per domain at once, with a free certificate, an issuance and an acme.issue job for each', async () => {
      const { siteId, siteName } = await tenant.site({ accessType: 'NS' });
      const body = await apply(tenant.esa, siteId, `WWW.${siteName.toUpperCase()},*.${siteName},${siteName}.`);
      assert.equal(body.siteName, siteName);
      assert.equal(body.totalCount, 3);
      assert.ok(body.requestId);
      assert.deepEqual(body.result!.map((r) => [r.domain, r.status]), [
        [`www.${siteName}`, 'Applying'],
        [`*.${siteName}`, 'Applying'],
        [siteName, 'Applying'],
      ]);
      const db = service.app.database.db;
      for (const r of body.result!) {
        assert.match(r.id!, /^[0-9a-f]{32}$/);
        const row = await db.selectFrom('site_certificates').selectAll().where('id', '=', r.id!).executeTakeFirstOrThrow();
        assert.deepEqual([row.type, row.domain, row.name, row.applying, row.issuer_profile, row.site_id], ['free', r.domain, r.domain, 1, 'lets_encrypt', String(siteId)]);
        const issuance = await issuanceOf(service, r.id!);
        assert.deepEqual(
          [issuance.state, JSON.parse(issuance.identifiers), issuance.challenge_type, issuance.placement, issuance.profile, issuance.key_type, issuance.account_id],
          ['queued', [r.domain], 'dns-01', 'certplane', 'lets_encrypt', 'EC256', tenant.accountId],
        );
        const job = await db.selectFrom('jobs').selectAll().where('idempotency_key', '=', `acme.issue:${issuance.id}`).executeTakeFirstOrThrow();
        assert.deepEqual([job.name, JSON.parse(job.payload), job.state], ['acme.issue', { issuanceId: issuance.id }, 'queued']);
      }
      const audit = (await service.app.audit.list(tenant.accountId, 100)).filter((e) => e.requestId === body.requestId);
      assert.deepEqual(audit.map((e) => [e.action, e.resource, e.outcome]), [['esa:ApplyCertificate', `acs:esa:cn-hangzhou:${tenant.accountId}:site/${siteId}`, 'success']]);
    });

    it('proves control over http-01 on a CNAME-mode site; digicert_wildcard when its profile is configured', async () => {
      const { siteId, siteName } = await tenant.site();
      const body = await apply(tenant.esa, siteId, `shop.${siteName}`, 'digicert_wildcard');
      const issuance = await issuanceOf(service, body.result![0]!.id!);
      assert.deepEqual([issuance.challenge_type, issuance.profile], ['http-01', 'digicert_wildcard']);
    });

    it('MissingSiteId, SiteNotFound (also another account’s site), SiteNotActivated', async () => {
      const { siteId, siteName } = await tenant.site();
      await refused(() => tenant.esa.applyCertificate(new Esa.ApplyCertificateRequest({ domains: siteName })), 400, 'MissingSiteId', /^Required parameter SiteId missing/);
      await refused(() => apply(tenant.esa, 999_999_999_999, siteName), 400, 'SiteNotFound', /^The specified site is not found/);
      const intruder = await certTenant(service, zones, 'intruder');
      await refused(() => apply(intruder.esa, siteId, siteName), 400, 'SiteNotFound');
      const pending = await tenant.site({ pending: true });
      await refused(() => apply(tenant.esa, pending.siteId, pending.siteName), 400, 'SiteNotActivated', /^The site is not activated, the process is not allowed\.$/);
    });

    it('InvalidParameter.Type: an unknown type, and a known one whose issuer is not configured', async () => {
      const { siteId, siteName } = await tenant.site();
      await refused(() => apply(tenant.esa, siteId, siteName, 'letsencrypt'), 400, 'InvalidParameter.Type', /"letsencrypt" is not a certificate type; .*digicert_single, digicert_wildcard, lets_encrypt/);
      await refused(() => apply(tenant.esa, siteId, siteName, 'digicert_single'), 400, 'InvalidParameter.Type', /digicert_single is not configured/);
    });

    it('InvalidParameter.Domains: invalid names, not of the site, over the type’s limit, a wildcard on CNAME, duplicates', async () => {
      const cname = await tenant.site();
      const code = 'InvalidParameter.Domains';
      for (const bad of ['bad_name.' + cname.siteName, `a..${cname.siteName}`, `www.${cname.siteName},`, `*.*.${cname.siteName}`, '10.0.0.1']) {
        await refused(() => apply(tenant.esa, cname.siteId, bad), 400, code, /is not a valid domain name/);
      }
      await refused(() => apply(tenant.esa, cname.siteId, `www.other-${cname.siteName}`), 400, code, /do not belong to the current website.*neither/);
      await refused(() => apply(tenant.esa, cname.siteId, `x${cname.siteName}`), 400, code, /do not belong to the current website/);
      const fiftyOne = Array.from({ length: 51 }, (_, i) => `h${i}.${cname.siteName}`).join(',');
      await refused(() => apply(tenant.esa, cname.siteId, fiftyOne), 400, code, /maximum number of domain names.*51 domains given.*at most 50/);
      await refused(() => apply(tenant.esa, cname.siteId, `a.${cname.siteName},b.${cname.siteName}`, 'digicert_wildcard'), 400, code, /at most 1 in one/);
      await refused(() => apply(tenant.esa, cname.siteId, `*.${cname.siteName}`), 400, code, /CNAME mode does not support wildcard/);
      await refused(() => apply(tenant.esa, cname.siteId, `a.${cname.siteName},A.${cname.siteName}`), 400, code, /more than once.*a\..* is given twice/);
      // The 50 the type allows are accepted.
      const fifty = Array.from({ length: 50 }, (_, i) => `h${i}.${cname.siteName}`).join(',');
      assert.equal((await apply(tenant.esa, cname.siteId, fifty)).totalCount, 50);
    });

    it('InvalidParameter.Domains for a domain in progress; a failed or issued domain may be applied for again', async () => {
      const { siteId, siteName } = await tenant.site();
      const first = await apply(tenant.esa, siteId, `www.${siteName}`);
      await refused(() => apply(tenant.esa, siteId, `api.${siteName},www.${siteName}`), 400, 'InvalidParameter.Domains', /already submitted a certificate application.*www\./);
      await failForTest(service, first.result![0]!.id!, 'rejectedIdentifier', 'policy forbids issuing for name');
      const second = await apply(tenant.esa, siteId, `www.${siteName}`);
      const db = service.app.database.db;
      const settled = await db.selectFrom('site_certificates').select('applying').where('id', '=', first.result![0]!.id!).executeTakeFirstOrThrow();
      assert.equal(settled.applying, 0, 'the failed application freed its domain');
      await issueForTest(service, second.result![0]!.id!, [`www.${siteName}`]);
      assert.equal((await apply(tenant.esa, siteId, `www.${siteName}`)).totalCount, 1, 'renewing an issued domain is allowed');
    });

    it('QuotaExceeded (403) once the plan’s free certificates are applying or valid; failed ones give theirs back', async () => {
      const { siteId, siteName } = await tenant.site({ plan: 'three' });
      const applied = await apply(tenant.esa, siteId, `a.${siteName},b.${siteName}`);
      await refused(() => apply(tenant.esa, siteId, `c.${siteName},d.${siteName}`), 403, 'QuotaExceeded', /^The quota is exceeded: the plan allows 3 free certificates per site; 2 are applying or valid and 2 more/);
      const third = await apply(tenant.esa, siteId, `c.${siteName}`);
      await issueForTest(service, third.result![0]!.id!, [`c.${siteName}`]);
      await refused(() => apply(tenant.esa, siteId, `d.${siteName}`), 403, 'QuotaExceeded');
      const quota = (await tenant.esa.getCertificateQuota(new Esa.GetCertificateQuotaRequest({ siteId, type: 'free' }))).body!;
      assert.deepEqual([quota.quota, quota.quotaUsage], [3, 3]);
      await failForTest(service, applied.result![0]!.id!, 'unauthorized', 'no TXT record found');
      assert.equal((await tenant.esa.getCertificateQuota(new Esa.GetCertificateQuotaRequest({ siteId, type: 'free' }))).body!.quotaUsage, 2);
      assert.equal((await apply(tenant.esa, siteId, `d.${siteName}`)).totalCount, 1);
    });

    it('QuotaExceed.RecordCount: an NS-mode site’s applications in progress hold one TXT record each', async () => {
      const ns = await tenant.site({ accessType: 'NS', plan: 'tworecords' });
      const first = await apply(tenant.esa, ns.siteId, `a.${ns.siteName},*.${ns.siteName}`);
      await refused(() => apply(tenant.esa, ns.siteId, `b.${ns.siteName}`), 400, 'QuotaExceed.RecordCount', /^The maximum number of records has been reached.*2 DNS records per site; 2 validation records/);
      await issueForTest(service, first.result![0]!.id!, [`a.${ns.siteName}`]);
      assert.equal((await apply(tenant.esa, ns.siteId, `b.${ns.siteName}`)).totalCount, 1, 'an issued certificate’s record is gone');
      // A CNAME-mode site proves control over http-01 and holds no records.
      const cname = await tenant.site({ plan: 'tworecords' });
      assert.equal((await apply(tenant.esa, cname.siteId, `a.${cname.siteName},b.${cname.siteName},c.${cname.siteName}`)).totalCount, 3);
    });

    it('InternalException (400) when the change cannot be stored, and nothing of it is', async () => {
      const { siteId, siteName } = await tenant.site();
      const lift = await refuseAuditOf(service, 'esa:ApplyCertificate');
      try {
        await refused(() => apply(tenant.esa, siteId, `www.${siteName}`), 400, 'InternalException', /^Failed to call the service\. Try again later/);
      } finally {
        await lift();
      }
      assert.equal((await apply(tenant.esa, siteId, `www.${siteName}`)).totalCount, 1);
    });

    it('is exact under concurrency: 10 parallel applications against a quota of 3, and two for one domain', async () => {
      const { siteId, siteName } = await tenant.site({ plan: 'three' });
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => apply(tenant.esa, siteId, `p${i}.${siteName}`)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code: string; statusCode: number }] : []));
      assert.equal(won.length, 3);
      assert.deepEqual([...new Set(lost.map((e) => `${e.statusCode} ${e.code}`))], ['403 QuotaExceeded']);
      const rows = await service.app.database.db.selectFrom('site_certificates').select('id').where('site_id', '=', String(siteId)).execute();
      assert.equal(rows.length, 3);

      const other = await tenant.site();
      const pair = await Promise.allSettled([apply(tenant.esa, other.siteId, `www.${other.siteName}`), apply(tenant.esa, other.siteId, `www.${other.siteName}`)]);
      assert.equal(pair.filter((o) => o.status === 'fulfilled').length, 1);
      const loser = pair.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.deepEqual([loser.reason.statusCode, loser.reason.code], [400, 'InvalidParameter.Domains']);
    });
  });

  describe(`ESA ApplyCertificate when the site's plan left the catalogue, on ${engine}`, () => {
    it('QuotaCheckFailed: the quota cannot be read, and nothing is stored', async () => {
      const zones = new TestZones();
      const testDb = await createTestDatabase(engine);
      try {
        const legacy = { ...TEST_PLANS.roomy!, specName: 'legacy' };
        const first = await startCertService(engine, zones, { testDb, plans: { ...TEST_PLANS, legacy } });
        const tenant = await certTenant(first, zones);
        const { siteId, siteName } = await tenant.site({ plan: 'legacy' });
        await first.stop();
        // The operator dropped the plan from the catalogue; the site's instance still names it.
        const second = await startCertService(engine, zones, { testDb });
        try {
          const esa = (await certTenantFor(second, tenant)).esa;
          const before = await storeCounts(second);
          const err = await sdkError(apply(esa, siteId, `www.${siteName}`));
          assert.deepEqual([err.statusCode, err.code], [400, 'QuotaCheckFailed']);
          assert.match(String(err.data?.Message), /^Failed to check free certificate Quota.*plan legacy is not in the configured plan catalogue/);
          assert.deepEqual(await storeCounts(second), before);
        } finally {
          await second.stop();
        }
      } finally {
        await testDb.drop();
      }
    });
  });
}

/** The same account through a new key on another server of the same database. */
async function certTenantFor(service: TestService, tenant: CertTenant) {
  const { key, secret } = await service.app.accounts.createAccessKey(tenant.accountId);
  return { esa: esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret }) };
}
