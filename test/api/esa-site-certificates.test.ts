import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { sdkError } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { inspectCert, makeChain } from '../support/openssl.js';
import type { TestService } from '../support/service.js';
import {
  Esa,
  TestZones,
  apply,
  certTenant,
  failForTest,
  issuanceOf,
  issueForTest,
  orderedForTest,
  startCertService,
  storeCounts,
  testServerCertificate,
  type CertTenant,
} from '../support/site-certificates.js';

/** `2024-03-31 02:08:00`, the Get/List time format. */
const listTime = (at: Date) => at.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

for (const engine of ENGINES) {
  describe(`ESA site certificates (Get, List, Delete, Set, ListCertificatesByRecord) on ${engine}`, () => {
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

    const get = async (siteId: number, id: string) => (await tenant.esa.getCertificate(new Esa.GetCertificateRequest({ siteId, id }))).body!;
    const list = async (siteId: number, extra: Record<string, unknown> = {}) =>
      (await tenant.esa.listCertificates(new Esa.ListCertificatesRequest({ siteId, ...extra }))).body!;

    it('GetCertificate tells the truth at each step: Applying with its DCV, OK with the chain, ApplyFailed with the CA’s reason', async () => {
      const { siteId, siteName } = await tenant.site({ accessType: 'NS' });
      const [www, api] = (await apply(tenant.esa, siteId, `www.${siteName},api.${siteName}`)).result!;
      const applying = await get(siteId, www!.id!);
      assert.deepEqual([applying.status, applying.certificate, applying.siteId, applying.siteName], ['Applying', '', siteId, siteName]);
      const r0 = applying.result!;
      assert.deepEqual([r0.id, r0.name, r0.type, r0.status, r0.commonName, r0.notAfter, r0.DCV], [www!.id, `www.${siteName}`, 'free', 'Applying', undefined, undefined, []]);
      assert.match(r0.createTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      const authorization = {
        url: 'https://acme.certplane.test/authz/1', domain: `www.${siteName}`, status: 'pending' as const, challengeType: 'dns-01' as const,
        challengeUrl: 'https://acme.certplane.test/chall/1', token: 'tok1', recordName: `_acme-challenge.www.${siteName}`, txtValue: 'txt-value-1',
      };
      await orderedForTest(service, www!.id!, [authorization]);
      const dcv = (await get(siteId, www!.id!)).result!.DCV!;
      assert.equal(dcv.length, 1);
      assert.deepEqual([dcv[0]!.key, dcv[0]!.value, dcv[0]!.type, dcv[0]!.status], [authorization.recordName, 'txt-value-1', 'DNS', 'pending']);
      assert.match(dcv[0]!.id!, /^[0-9a-f]{32}$/);

      const { chainPem, view } = await issueForTest(service, www!.id!, [`www.${siteName}`, `*.${siteName}`]);
      const issued = await get(siteId, www!.id!);
      assert.deepEqual([issued.status, issued.certificate], ['OK', chainPem]);
      const r = issued.result!;
      assert.deepEqual(
        [r.status, r.commonName, r.SAN, r.serialNumber, r.fingerprintSha256, r.issuer, r.issuerCN, r.pubAlg, r.sigAlg, r.notBefore, r.notAfter],
        ['OK', `www.${siteName}`, `www.${siteName},*.${siteName}`, view.serialHex.toLowerCase(), view.fingerprintSha256, 'Certplane Test CA', 'Certplane Test Issuing CA', 'ECDSA', 'ECDSA-SHA256', listTime(view.notBefore), listTime(view.notAfter)],
      );
      assert.equal(inspectCert(issued.certificate!).fingerprintSha256, r.fingerprintSha256, 'the chain starts with the leaf it describes');

      await failForTest(service, api!.id!, 'rejectedIdentifier', 'Error creating new order :: policy forbids issuing for name');
      const failed = await get(siteId, api!.id!);
      assert.deepEqual([failed.status, failed.result!.applyCode, failed.result!.applyMessage], ['ApplyFailed', 1, 'rejectedIdentifier: Error creating new order :: policy forbids issuing for name']);
    });

    it('Expiring within 30 days of NotAfter, Expired after it; http-01 DCV on a CNAME-mode site', async () => {
      const { siteId, siteName } = await tenant.site();
      const [soon, gone, fresh] = (await apply(tenant.esa, siteId, `soon.${siteName},gone.${siteName},fresh.${siteName}`)).result!;
      await issueForTest(service, soon!.id!, [`soon.${siteName}`], 29);
      await issueForTest(service, gone!.id!, [`gone.${siteName}`], -1);
      assert.equal((await get(siteId, soon!.id!)).status, 'Expiring');
      assert.equal((await get(siteId, gone!.id!)).status, 'Expired');
      await orderedForTest(service, fresh!.id!, [
        {
          url: 'https://acme.certplane.test/authz/2', domain: `fresh.${siteName}`, status: 'valid', challengeType: 'http-01',
          challengeUrl: 'https://acme.certplane.test/chall/2', token: 'tok2', path: '/.well-known/acme-challenge/tok2', keyAuthorization: 'tok2.thumbprint',
        },
      ]);
      const dcv = (await get(siteId, fresh!.id!)).result!.DCV![0]!;
      assert.deepEqual([dcv.key, dcv.value, dcv.type, dcv.status], ['/.well-known/acme-challenge/tok2', 'tok2.thumbprint', 'HTTP', 'valid']);
    });

    it('ListCertificates: newest first, paging within 1–100, Keyword over name, domain and SAN, ValidOnly', async () => {
      const { siteId, siteName } = await tenant.site();
      const ids = (await apply(tenant.esa, siteId, `a.${siteName},b.${siteName},c.${siteName}`)).result!.map((r) => r.id!);
      await issueForTest(service, ids[1]!, [`b.${siteName}`, `alias-zeta.${siteName}`]);
      const all = await list(siteId);
      assert.deepEqual([all.totalCount, all.pageNumber, all.pageSize, all.siteId, all.siteName], [3, 1, 20, siteId, siteName]);
      assert.deepEqual(new Set(all.result!.map((c) => c.id)), new Set(ids));
      const page2 = await list(siteId, { pageNumber: 2, pageSize: 2 });
      assert.deepEqual([page2.totalCount, page2.result!.length], [3, 1]);
      const firstPage = await list(siteId, { pageNumber: 1, pageSize: 2 });
      assert.equal(new Set([...firstPage.result!, ...page2.result!].map((c) => c.id)).size, 3, 'pages do not overlap');
      assert.deepEqual((await list(siteId, { keyword: 'ZETA' })).result!.map((c) => c.id), [ids[1]]);
      assert.deepEqual((await list(siteId, { keyword: `c.${siteName}` })).result!.map((c) => c.id), [ids[2]]);
      const valid = await list(siteId, { validOnly: true });
      assert.deepEqual([valid.totalCount, valid.result!.map((c) => [c.id, c.status])], [1, [[ids[1], 'OK']]]);
      const newest = (await apply(tenant.esa, siteId, `d.${siteName}`)).result![0]!.id!;
      assert.equal((await list(siteId, { pageSize: 1 })).result![0]!.id, newest, 'newest first');
      for (const pageSize of [0, 101]) {
        const err = await sdkError(list(siteId, { pageSize }));
        assert.deepEqual([err.statusCode, err.code], [400, 'InvalidParameter.PageSize']);
      }
    });

    it('DeleteCertificate: an application in progress is withdrawn (its issuance canceled), an issued one simply goes', async () => {
      const { siteId, siteName } = await tenant.site();
      const [inProgress, issued] = (await apply(tenant.esa, siteId, `a.${siteName},b.${siteName}`)).result!;
      await issueForTest(service, issued!.id!, [`b.${siteName}`]);
      const issuance = await issuanceOf(service, inProgress!.id!);
      const deleted = (await tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId, id: inProgress!.id! }))).body!;
      assert.deepEqual([deleted.id, deleted.siteId, deleted.siteName], [inProgress!.id, siteId, siteName]);
      const after = await service.app.database.db.selectFrom('acme_issuances').select(['state', 'finished_at']).where('id', '=', issuance.id).executeTakeFirstOrThrow();
      assert.equal(after.state, 'canceled');
      assert.ok(after.finished_at);
      const issuedIssuance = await issuanceOf(service, issued!.id!);
      await tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId, id: issued!.id! }));
      const kept = await service.app.database.db.selectFrom('acme_issuances').select('state').where('id', '=', issuedIssuance.id).executeTakeFirstOrThrow();
      assert.equal(kept.state, 'valid', 'a finished issuance keeps its state');
      assert.equal((await list(siteId)).totalCount, 0);
      // The domain is free again.
      assert.equal((await apply(tenant.esa, siteId, `a.${siteName}`)).totalCount, 1);
      for (const id of [inProgress!.id!, 'nonsense']) {
        const err = await sdkError(tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId, id })));
        assert.deepEqual([err.statusCode, err.code], [404, 'NotFoundCertificate']);
      }
      const audit = (await service.app.audit.list(tenant.accountId, 200)).filter((e) => e.action === 'esa:DeleteCertificate');
      assert.deepEqual(audit.map((e) => e.outcome).sort(), ['certificate.not_found', 'certificate.not_found', 'success', 'success']);
    });

    it('SetCertificate upload: the inventory’s checks, stored with its site; Id replaces it; Delete removes it from the inventory', async () => {
      const { siteId, siteName } = await tenant.site();
      const { leaf, chainPem } = testServerCertificate([`shop.${siteName}`, `*.shop.${siteName}`]);
      const set = (extra: Record<string, unknown>) => tenant.esa.setCertificate(new Esa.SetCertificateRequest({ siteId, type: 'upload', ...extra }));
      const id = (await set({ certificate: chainPem, privateKey: leaf.keyPem, name: 'shop-cert' })).body!.id!;
      assert.match(id, /^[0-9a-f]{32}$/);
      const got = await get(siteId, id);
      const view = inspectCert(leaf.certPem);
      assert.deepEqual(
        [got.status, got.certificate, got.result!.type, got.result!.name, got.result!.SAN, got.result!.serialNumber, got.result!.fingerprintSha256, got.result!.issuer, got.result!.issuerCN, got.result!.pubAlg, got.result!.sigAlg, got.result!.notAfter, got.result!.region],
        ['OK', chainPem, 'upload', 'shop-cert', `shop.${siteName},*.shop.${siteName}`, view.serialHex.toLowerCase().replace(/^0+/, ''), view.fingerprintSha256, 'Certplane Test CA', 'Certplane Test Issuing CA', 'ECC', 'ECDSA-SHA256', listTime(view.notAfter), 'cn-hangzhou'],
      );
      const db = service.app.database.db;
      const row = await db.selectFrom('site_certificates').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const inventory = await db.selectFrom('certificates').selectAll().where('id', '=', row.certificate_id!).executeTakeFirstOrThrow();
      assert.deepEqual([inventory.site_id, inventory.source, inventory.fingerprint_sha256], [String(siteId), 'upload', view.fingerprintSha256]);
      // A Keyword finds an upload by a name only its certificate holds.
      assert.deepEqual((await list(siteId, { keyword: '*.SHOP.' })).result!.map((c) => c.id), [id]);

      // Refusals by the inventory's checks, nothing stored.
      const before = await storeCounts(service);
      const other = testServerCertificate([`x.${siteName}`]);
      const mismatch = await sdkError(set({ certificate: chainPem, privateKey: other.leaf.keyPem }));
      assert.deepEqual([mismatch.statusCode, mismatch.code], [400, 'CertificateKeyMismatch']);
      const missing = await sdkError(set({ certificate: chainPem }));
      assert.deepEqual([missing.statusCode, missing.code], [400, 'MissingPrivateKey']);
      const garbage = await sdkError(set({ certificate: 'not a certificate', privateKey: leaf.keyPem }));
      assert.deepEqual([garbage.statusCode, garbage.code], [400, 'InvalidParameter.Certificate']);
      const badType = await sdkError(set({ type: 'free', certificate: chainPem, privateKey: leaf.keyPem }));
      assert.deepEqual([badType.statusCode, badType.code], [400, 'InvalidParameter.Type']);
      assert.deepEqual(await storeCounts(service), before);

      // Replaced under the same id: the old upload leaves the inventory.
      const replaced = (await set({ id, certificate: other.chainPem, privateKey: other.leaf.keyPem })).body!.id;
      assert.equal(replaced, id);
      const now = await get(siteId, id);
      assert.deepEqual([now.certificate, now.result!.SAN, now.result!.name], [other.chainPem, `x.${siteName}`, `x.${siteName}`]);
      assert.deepEqual((await list(siteId, { keyword: '*.shop.' })).result!.map((c) => c.id), [], 'the replaced certificate’s names are gone');
      assert.deepEqual((await list(siteId, { keyword: `x.${siteName}` })).result!.map((c) => c.id), [id]);
      assert.equal(await db.selectFrom('certificates').select('id').where('id', '=', row.certificate_id!).executeTakeFirst(), undefined);
      const unknown = await sdkError(set({ id: 'f'.repeat(32), certificate: chainPem, privateKey: leaf.keyPem }));
      assert.deepEqual([unknown.statusCode, unknown.code], [404, 'NotFoundCertificate']);

      const current = await db.selectFrom('site_certificates').select('certificate_id').where('id', '=', id).executeTakeFirstOrThrow();
      await tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId, id }));
      assert.equal(await db.selectFrom('certificates').select('id').where('id', '=', current.certificate_id!).executeTakeFirst(), undefined);
      assert.equal(await db.selectFrom('private_keys').select('id').where('id', '=', inventory.key_id).executeTakeFirst(), undefined);
    });

    it('SetCertificate cas: CasId names a certificate of the account’s inventory, never another account’s', async () => {
      const { siteId } = await tenant.site();
      const chain = makeChain('rsa');
      // An inventory certificate, uploaded as the APIG dialect does.
      const inventory = await service.app.certificates.upload(
        tenant.accountId,
        { name: 'inventory_cert', chainPem: chain.chainPem, privateKeyPem: chain.key, scope: 'global' },
        new AuditStamp(tenant.accountId, 'test', 'apig:certificate:create', 'apig:test', 'test'),
      );
      const set = (casId: string) =>
        tenant.esa.setCertificate(new Esa.SetCertificateRequest({ siteId, type: 'cas', casId: casId as unknown as number, region: 'cn-shanghai' }));
      const id = (await set(inventory.id)).body!.id!;
      const got = await get(siteId, id);
      assert.deepEqual(
        [got.status, got.certificate, got.result!.type, got.result!.casId, got.result!.region, got.result!.name, got.result!.fingerprintSha256],
        ['OK', inventory.chainPem, 'cas', inventory.id, 'cn-shanghai', 'inventory_cert', inventory.fingerprintSha256],
      );
      const stamp = () => new AuditStamp(tenant.accountId, 'test', 'apig:certificate:delete', 'apig:test', 'test');
      await assert.rejects(service.app.certificates.delete(tenant.accountId, inventory.id, stamp()), (err: { code?: string; message?: string }) => {
        assert.equal(err.code, 'certificate.in_use');
        assert.match(err.message!, /is a certificate of an ESA site/);
        return true;
      });
      await tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId, id }));
      assert.ok(await service.app.database.db.selectFrom('certificates').select('id').where('id', '=', inventory.id).executeTakeFirst(), 'a referenced certificate stays in the inventory');
      await service.app.certificates.delete(tenant.accountId, inventory.id, stamp());

      const intruder = await certTenant(service, zones, 'intruder');
      const theirSite = await intruder.site();
      const err = await sdkError(
        intruder.esa.setCertificate(new Esa.SetCertificateRequest({ siteId: theirSite.siteId, type: 'cas', casId: inventory.id as unknown as number })),
      );
      assert.deepEqual([err.statusCode, err.code], [400, 'InvalidParameter.CasId']);
      const missing = await sdkError(tenant.esa.setCertificate(new Esa.SetCertificateRequest({ siteId, type: 'cas' })));
      assert.deepEqual([missing.statusCode, missing.code], [400, 'MissingCasId']);
    });

    it('ListCertificatesByRecord: per record, the certificates covering it exactly or by wildcard, with their status', async () => {
      const { siteId, siteName } = await tenant.site({ accessType: 'NS' });
      const [www, wild, api, bad] = (await apply(tenant.esa, siteId, `www.${siteName},*.${siteName},api.${siteName},bad.${siteName}`)).result!;
      await issueForTest(service, www!.id!, [`www.${siteName}`]);
      await issueForTest(service, wild!.id!, [`*.${siteName}`, siteName]);
      await failForTest(service, bad!.id!, 'caa', 'CAA record forbids issuance');
      const byRecord = async (recordName: string, extra: Record<string, unknown> = {}) =>
        (await tenant.esa.listCertificatesByRecord(new Esa.ListCertificatesByRecordRequest({ siteId, recordName, ...extra }))).body!;
      const records = [`www.${siteName}`, `api.${siteName}`, `deep.api.${siteName}`, `BAD.${siteName}`, siteName, `*.${siteName}`];
      const all = await byRecord(records.join(','), { detail: true });
      assert.deepEqual([all.totalCount, all.siteId, all.siteName], [6, siteId, siteName]);
      const summary = all.result!.map((r) => [r.recordName, r.status, r.count, r.applylingCount, r.certificates!.map((c) => c.id).sort()]);
      assert.deepEqual(summary, [
        [`www.${siteName}`, 'configured', 2, 0, [www!.id, wild!.id].sort()],
        [`api.${siteName}`, 'configured', 2, 1, [wild!.id, api!.id].sort()],
        [`deep.api.${siteName}`, 'none', 0, 0, []],
        [`bad.${siteName}`, 'configured', 2, 0, [wild!.id, bad!.id].sort()],
        [siteName, 'configured', 1, 0, [wild!.id]],
        [`*.${siteName}`, 'configured', 1, 0, [wild!.id]],
      ]);
      const wildItem = all.result![0]!.certificates!.find((c) => c.id === wild!.id)!;
      assert.deepEqual([wildItem.status, wildItem.SAN, wildItem.type], ['OK', `*.${siteName},${siteName}`, 'free']);

      await failForTest(service, wild!.id!, 'unauthorized', 'gone');
      const after = await byRecord(`api.${siteName},bad.${siteName}`, { validOnly: true });
      assert.deepEqual(after.result!.map((r) => [r.status, r.count, r.applylingCount, r.certificates]), [
        ['applying', 0, 1, undefined],
        ['failed', 0, 0, undefined],
      ]);
      const err = await sdkError(byRecord('not a name'));
      assert.deepEqual([err.statusCode, err.code], [400, 'InvalidParameter.RecordName']);
    });

    it('DeleteSite withdraws the site’s applications in progress', async () => {
      const { siteId, siteName } = await tenant.site();
      const [cert] = (await apply(tenant.esa, siteId, `www.${siteName}`)).result!;
      const issuance = await issuanceOf(service, cert!.id!);
      await tenant.esa.deleteSite(new Esa.DeleteSiteRequest({ siteId }));
      const row = await service.app.database.db.selectFrom('acme_issuances').select('state').where('id', '=', issuance.id).executeTakeFirstOrThrow();
      assert.equal(row.state, 'canceled');
    });
  });
}
