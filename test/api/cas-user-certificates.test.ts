/**
 * CAS UploadUserCertificate, GetUserCertificateDetail, DeleteUserCertificate and the UPLOAD listing
 * through the official CAS SDK on SQLite and PostgreSQL: uploads go through the inventory's checks
 * (the same as APIG's), are named by a numeric CertId, and are read back with their key; refusals
 * store nothing.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sdkError } from '../support/alibaba.js';
import { Cas, casRows, casTenant, type CasTenant } from '../support/cas.js';
import { ENGINES } from '../support/databases.js';
import { generateKey, makeChain, makeLeaf, makeSm2DualPair } from '../support/openssl.js';
import { startService, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`CAS user certificates on ${engine}`, () => {
    let service: TestService;
    let tenant: CasTenant;

    before(async () => {
      service = await startService(engine);
      tenant = await casTenant(service);
    });
    after(() => service.stop());

    const upload = (request: Record<string, unknown>) => tenant.cas.uploadUserCertificate(new Cas.UploadUserCertificateRequest(request));
    /** A fresh chain with its key, as Cert and Key. */
    const keyed = (alg: 'p256' | 'rsa') => {
      const chain = makeChain(alg);
      return { cert: chain.chainPem, key: chain.key };
    };
    const detail = (certId: number, certFilter?: boolean) => tenant.cas.getUserCertificateDetail(new Cas.GetUserCertificateDetailRequest({ certId, certFilter }));

    it('uploads a chain with its key, answers a numeric CertId, and shows the certificate with its key', async () => {
      const chain = makeChain('rsa');
      const created = (await upload({ name: 'web-rsa', cert: chain.chainPem, key: chain.key })).body!;
      const certId = created.certId!;
      assert.ok(Number.isSafeInteger(certId) && String(certId).length <= 15, String(certId));
      assert.equal(created.resourceId, `cas-upload-${certId}`);

      const shown = (await detail(certId)).body!;
      const leaf = new X509Certificate(chain.leaf.certPem);
      assert.deepEqual(
        [shown.id, shown.name, shown.common, shown.sans, shown.algorithm, shown.cert, shown.key, shown.expired, shown.buyInAliyun],
        [certId, 'web-rsa', 'rsa.example.com', 'rsa.example.com', 'RSA', chain.chainPem, chain.key, false, false],
      );
      assert.equal(shown.serialNo, leaf.serialNumber.toLowerCase());
      assert.equal(shown.fingerprint, createHash('sha1').update(leaf.raw).digest('hex').toUpperCase());
      assert.equal(shown.sha2, createHash('sha256').update(leaf.raw).digest('hex').toUpperCase());
      assert.deepEqual([shown.notBefore, shown.notAfter], [Date.parse(leaf.validFrom), Date.parse(leaf.validTo)]);
      assert.equal(shown.endDate, new Date(leaf.validTo).toISOString().slice(0, 10));
      assert.deepEqual(shown.certChain!.map((c) => c.commonName), ['rsa.example.com', new X509Certificate(chain.intermediate.certPem).subject.match(/CN=(.*)/)![1]]);
      const filtered = (await detail(certId, true)).body!;
      assert.deepEqual([filtered.cert, filtered.key, filtered.name], [undefined, undefined, 'web-rsa'], 'CertFilter leaves the PEMs out');

      const listed = (await tenant.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest({ orderType: 'UPLOAD' }))).body!;
      assert.deepEqual(listed.certificateOrderList!.map((c) => [c.certificateId, c.name, c.upload, c.status]), [[certId, 'web-rsa', true, 'ISSUED']]);
      const viaCert = (await tenant.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest({ orderType: 'CERT', keyword: 'rsa.example' }))).body!;
      assert.deepEqual(viaCert.certificateOrderList!.map((c) => c.certificateId), [certId]);

      await tenant.cas.deleteUserCertificate(new Cas.DeleteUserCertificateRequest({ certId }));
      const gone = await sdkError(detail(certId));
      assert.deepEqual([gone.code, gone.statusCode], ['NotFoundCertificate', 404]);
      assert.equal((await sdkError(tenant.cas.deleteUserCertificate(new Cas.DeleteUserCertificateRequest({ certId })))).code, 'NotFoundCertificate');
      const audit = (await service.app.audit.list(tenant.accountId, 10)).map((e) => `${e.action} ${e.resource.split(':').pop()} ${e.outcome}`);
      assert.ok(audit.includes(`yundun-cert:UploadUserCertificate certificate/${certId} success`), audit.join('; '));
      assert.ok(audit.includes(`yundun-cert:DeleteUserCertificate certificate/${certId} success`));
    });

    it('takes an SM2 dual certificate as its four fields', async () => {
      const dual = makeSm2DualPair();
      const created = (await upload({ name: 'sm2-dual', encryptCert: dual.encChainPem, encryptPrivateKey: dual.enc.keyPem, signCert: dual.signChainPem, signPrivateKey: dual.sign.keyPem })).body!;
      const shown = (await detail(created.certId!)).body!;
      assert.deepEqual(
        [shown.algorithm, shown.encryptCert, shown.encryptPrivateKey, shown.signCert, shown.signPrivateKey, shown.cert, shown.key],
        ['SM2', dual.encChainPem, dual.enc.keyPem, dual.signChainPem, dual.sign.keyPem, undefined, undefined],
      );
    });

    it('keeps an upload in its resource group with its tags: the lists filter on the group, the detail shows it', async () => {
      const group = 'rg-aek26g6i6se6pna';
      const tags = [new Cas.UploadUserCertificateRequestTags({ key: 'env', value: 'prod' }), new Cas.UploadUserCertificateRequestTags({ key: 'team', value: '' })];
      const grouped = (await upload({ name: 'grouped', ...keyed('p256'), resourceGroupId: group, tags })).body!.certId!;
      const loose = (await upload({ name: 'loose', ...keyed('p256') })).body!.certId!;
      assert.equal((await detail(grouped)).body!.resourceGroupId, group);
      assert.equal((await detail(loose)).body!.resourceGroupId, undefined);
      const stored = await service.app.database.db.selectFrom('certificates').select(['resource_group_id', 'tags']).where('id', '=', String(grouped)).executeTakeFirstOrThrow();
      assert.deepEqual([stored.resource_group_id, JSON.parse(stored.tags)], [group, [{ key: 'env', value: 'prod' }, { key: 'team', value: '' }]]);

      const list = async (request: Record<string, unknown>) =>
        (await tenant.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest(request))).body!;
      const inGroup = await list({ orderType: 'UPLOAD', resourceGroupId: group });
      assert.deepEqual([inGroup.totalCount, inGroup.certificateOrderList!.map((c) => [c.certificateId, c.resourceGroupId])], [1, [[grouped, group]]]);
      const all = await list({ orderType: 'UPLOAD' });
      assert.ok([grouped, loose].every((id) => all.certificateOrderList!.some((c) => c.certificateId === id)), 'without a group, every upload');
      assert.equal(all.certificateOrderList!.find((c) => c.certificateId === loose)!.resourceGroupId, undefined);
      assert.deepEqual((await list({ orderType: 'CERT', resourceGroupId: group })).certificateOrderList!.map((c) => c.certificateId), [grouped]);
      assert.equal((await list({ orderType: 'UPLOAD', resourceGroupId: 'rg-another' })).totalCount, 0);
      assert.equal((await list({ orderType: 'CPACK', resourceGroupId: group })).totalCount, 0, 'orders are in no group');

      const rows = await casRows(service);
      const tooMany = Array.from({ length: 21 }, (_, i) => new Cas.UploadUserCertificateRequestTags({ key: `k${i}`, value: 'v' }));
      for (const [label, request, message] of [
        ['21 tags', { tags: tooMany }, /at most 20/],
        ['a tag without a key', { tags: [new Cas.UploadUserCertificateRequestTags({ value: 'v' })] }, /no key/],
        ['a 65-character group', { resourceGroupId: `rg-${'a'.repeat(62)}` }, /.+/],
      ] as const) {
        const err = await sdkError(upload({ name: 'tagged', ...keyed('p256'), ...request }));
        assert.equal(err.statusCode, 400, `${label}: ${err.message}`);
        assert.match(String(err.code), /^InvalidParameter/, label);
        assert.match(String(err.data?.Message), message, label);
      }
      assert.deepEqual(await casRows(service), rows, 'a refused upload stores nothing');
    });

    it('refuses what the inventory refuses, storing nothing; another account sees nothing', async () => {
      const chain = makeChain('p256');
      const expired = makeLeaf({ issuer: chain.intermediate, alg: 'p256', expired: true });
      const rows = await casRows(service);
      const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ['a key of another certificate', { name: 'mismatch', cert: chain.chainPem, key: generateKey('p256') }, 'CertificateKeyMismatch', /.+/],
        ['an expired certificate', { name: 'old', cert: expired.certPem, key: expired.keyPem }, 'CertificateExpired', /.+/],
        ['no key', { name: 'nokey', cert: chain.chainPem }, 'MissingKey', /Key/],
        ['no certificate', { name: 'nocert', key: chain.key }, 'MissingCert', /Cert/],
        ['no name', { cert: chain.chainPem, key: chain.key }, 'MissingName', /Name/],
        ['a name that is a path', { name: '../../etc/passwd', cert: chain.chainPem, key: chain.key }, 'InvalidParameter.Name', /must not contain a backslash or "\.\."/],
        ['garbage', { name: 'junk', cert: 'not a certificate', key: chain.key }, 'InvalidParameter.Certificate', /.+/],
        ['both kinds', { name: 'both', cert: chain.chainPem, key: chain.key, signCert: chain.chainPem }, 'InvalidParameter.Cert', /not both/],
      ];
      for (const [label, request, code, message] of cases) {
        const err = await sdkError(upload(request));
        assert.deepEqual([err.code, err.statusCode], [code, 400], `${label}: ${err.message}`);
        assert.match(String(err.data?.Message), message, label);
      }
      assert.deepEqual(await casRows(service), rows);

      const mine = (await upload({ name: 'mine', cert: chain.chainPem, key: chain.key })).body!.certId!;
      const dup = await sdkError(upload({ name: 'mine', cert: chain.chainPem, key: chain.key }));
      assert.deepEqual([dup.code, dup.statusCode], ['NameRepeat', 400]);
      const other = await casTenant(service, 'other');
      for (const call of [
        other.cas.getUserCertificateDetail(new Cas.GetUserCertificateDetailRequest({ certId: mine })),
        other.cas.deleteUserCertificate(new Cas.DeleteUserCertificateRequest({ certId: mine })),
      ]) {
        assert.equal((await sdkError(call)).code, 'NotFoundCertificate');
      }
      const bad = await sdkError(tenant.cas.getUserCertificateDetail(new Cas.GetUserCertificateDetailRequest({ certId: 'abc' as unknown as number })));
      assert.deepEqual([bad.code, bad.statusCode], ['InvalidParameter.CertId', 400]);
      assert.ok((await detail(mine)).body!.key, 'still there');
    });
  });
}
