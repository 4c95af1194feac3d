import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sdkError } from '../support/alibaba.js';
import { Esa, countRows, tenantOf, type Tenant } from '../support/client-certs.js';
import { buildCsr, csrPem } from '../../src/pki/index.js';
import { ENGINES } from '../support/databases.js';
import { makeCsr, pemToDer, testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

/** A CSR whose signature no longer matches: the last byte of the signature flipped. */
function badSignatureCsr(): string {
  const der = pemToDer(makeCsr(testKey('p256')), 'req');
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  const body = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}

const BAD_CSRS: Array<[label: string, csr: () => string, why: RegExp]> = [
  ['a bad signature', badSignatureCsr, /^csr: bad signature/],
  ['an RSA-1024 key', () => makeCsr(testKey('rsa1024')), /^csr: unsupported key: RSA 1024 bits: at least 2048/],
  ['a secp256k1 key', () => makeCsr(testKey('secp256k1')), /^csr: unsupported curve: secp256k1 .*accepted: P-256, P-384/],
  ['garbage', () => 'this is not a certificate request', /^csr: not a CSR/],
  ['a CA:true request', () => makeCsr(testKey('p256'), { addext: ['basicConstraints=critical,CA:TRUE'] }), /^csr: the CSR asks for a CA certificate \(basicConstraints CA:TRUE\)/],
  ['a CN holding NUL (the null-prefix trick)', () => csrPem(buildCsr(testKey('p256').privateKey, ['www.bank.example\u0000.evil.example'])), /^csr: not a CSR: the name's CN holds a NUL character \(U\+0000\)/],
  ['100 KB of junk', () => 'A'.repeat(100 * 1024), /^csr: oversized input: 102400 bytes; a CSR may be at most 16384/],
];

for (const engine of ENGINES) {
  describe(`ESA client certificate refusals on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let esa: Tenant['esa'];

    before(async () => {
      service = await startService(engine);
      tenant = await tenantOf(service);
      esa = tenant.esa;
    });
    after(async () => {
      await service.stop();
    });

    const create = (request: Record<string, unknown>) => esa.createClientCertificate(new Esa.CreateClientCertificateRequest(request));
    const rows = async () => [await countRows(service, 'client_cas'), await countRows(service, 'client_certificates')];

    it('refuses each bad CSR with InvalidParameter saying why, writing no row and consuming no serial', async () => {
      const { siteId } = await tenant.site();
      const before = await rows();
      for (const [label, csr, why] of BAD_CSRS) {
        const err = await sdkError(create({ siteId, CSR: csr(), validityDays: 30 }));
        assert.deepEqual([err.code, err.statusCode], ['InvalidParameter', 400], label);
        assert.match(String(err.data?.Message), why, label);
      }
      assert.deepEqual(await rows(), before, 'no CA made, no serial recorded');
      const listed = (await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId }))).body!;
      assert.equal(listed.totalCount, 0);
    });

    it('refuses bad parameters with the codes of the documentation', async () => {
      const { siteId } = await tenant.site();
      const before = await rows();
      const cases: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ pkeyType: 'ECC', validityDays: 30 }, 'MissingSiteId', /SiteId/],
        [{ siteId: 'abc', pkeyType: 'ECC', validityDays: 30 }, 'InvalidParameter.SiteId', /siteId: must be a positive integer/],
        [{ siteId: 999999999999, pkeyType: 'ECC', validityDays: 30 }, 'InvalidParameter.SiteId', /Failed to query the website based on the SiteID/],
        [{ siteId, pkeyType: 'DSA', validityDays: 30 }, 'InvalidParameter', /^pkeyType: must be RSA or ECC/],
        [{ siteId, pkeyType: 'rsa', validityDays: 30 }, 'InvalidParameter', /^pkeyType: must be RSA or ECC/],
        [{ siteId, validityDays: 30 }, 'InvalidParameter', /^pkeyType: send a CSR, or PkeyType RSA or ECC/],
        [{ siteId, CSR: makeCsr(testKey('rsa')), pkeyType: 'ECC', validityDays: 30 }, 'InvalidParameter', /^pkeyType: is ECC, but the CSR holds an RSA key/],
        [{ siteId, pkeyType: 'ECC' }, 'MissingValidityDays', /ValidityDays/],
        [{ siteId, pkeyType: 'ECC', validityDays: 0 }, 'InvalidParameter', /^validityDays: must be a whole number of days from 1 to 3650, got 0/],
        [{ siteId, pkeyType: 'ECC', validityDays: 3651 }, 'InvalidParameter', /from 1 to 3650, got 3651/],
        [{ siteId, pkeyType: 'ECC', validityDays: -5 }, 'InvalidParameter', /got -5/],
        [{ siteId, pkeyType: 'ECC', validityDays: '1.5' }, 'InvalidParameter', /^validityDays: must be a whole number of days, got "1.5"/],
      ];
      for (const [request, code, message] of cases) {
        const err = await sdkError(create(request));
        assert.deepEqual([err.code, err.statusCode], [code, 400], JSON.stringify(request));
        assert.match(String(err.data?.Message), message, JSON.stringify(request));
      }
      assert.deepEqual(await rows(), before);
    });

    it('refuses a site whose plan has no client certificates, and reads of another account see nothing', async () => {
      const free = await tenant.site('free');
      const err = await sdkError(create({ siteId: free.siteId, pkeyType: 'ECC', validityDays: 30 }));
      assert.deepEqual([err.code, err.statusCode], ['QuotaCheckFailed.Function', 400]);
      assert.match(String(err.data?.Message), /^The feature is unavailable in your plan/);

      const mine = await tenant.site();
      const issued = (await create({ siteId: mine.siteId, pkeyType: 'ECC', validityDays: 30 })).body!;
      const other = await tenantOf(service, 'other');
      const theirs = await other.site();
      const id = issued.id!;
      const caId = issued.CACertificateId!;
      const calls: Array<[string, () => Promise<unknown>, string]> = [
        ['their site, my certificate', () => other.esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: mine.siteId, id })), 'InvalidParameter.SiteId'],
        ['my certificate on their site', () => other.esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: theirs.siteId, id })), 'NotFoundCertificate'],
        ['revoke it', () => other.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId: theirs.siteId, id })), 'NotFoundCertificate'],
        ['delete it', () => other.esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId: theirs.siteId, id })), 'NotFoundCertificate'],
        ['my CA', () => other.esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId: theirs.siteId, id: caId })), 'NotFoundCertificate'],
        ['delete my CA', () => other.esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId: theirs.siteId, id: caId })), 'NotFoundCertificate'],
        ['list on my site', () => other.esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId: mine.siteId })), 'InvalidParameter.SiteId'],
        ['issue on my site', () => other.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId: mine.siteId, pkeyType: 'ECC', validityDays: 1 })), 'InvalidParameter.SiteId'],
        ['a certificate of another site of mine', () => esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: free.siteId, id })), 'NotFoundCertificate'],
        ['an id that is no id', () => esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: mine.siteId, id: '../../etc' })), 'NotFoundCertificate'],
      ];
      for (const [label, call, code] of calls) assert.equal((await sdkError(call())).code, code, label);
      const still = (await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: mine.siteId, id }))).body!;
      assert.equal(still.status, 'active');
    });

    it('revokes, re-activates, lists and deletes, with the statuses and refusals a client sees', async () => {
      const { siteId, siteName } = await tenant.site();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create({ siteId, pkeyType: 'ECC', validityDays: 30 })).body!.id!);
      const [a, b] = ids as [string, string];
      const status = async (id: string) => (await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id }))).body!.status;
      const expectCode = async (call: Promise<unknown>, code: string, message?: RegExp) => {
        const err = await sdkError(call);
        assert.equal(err.code, code);
        if (message) assert.match(String(err.data?.Message), message);
      };

      await expectCode(esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id: a })), 'ClientCertificateStatusConflict', /is active: revoke it before deleting it/);
      await esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: a }));
      assert.equal(await status(a), 'active', 'activating an active certificate changes nothing');

      const revoked = (await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: a }))).body!;
      assert.deepEqual([revoked.id, revoked.siteId, revoked.siteName], [a, siteId, siteName]);
      assert.equal(await status(a), 'revoked');
      await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: a }));
      assert.equal(await status(a), 'revoked', 'revoking twice is harmless');
      const activated = (await esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: a }))).body!;
      assert.deepEqual([activated.id, activated.siteName], [a, siteName]);
      assert.equal(await status(a), 'active');

      await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: b }));
      const deleted = (await esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id: b }))).body!;
      assert.deepEqual([deleted.id, deleted.siteId, deleted.siteName], [b, siteId, siteName]);
      await expectCode(esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id: b })), 'NotFoundCertificate');
      await expectCode(esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: b })), 'NotFoundCertificate');
      const kept = await service.app.database.db.selectFrom('client_certificates').select(['status', 'revoked_at', 'deleted_at']).where('id', '=', b).executeTakeFirstOrThrow();
      assert.equal(kept.status, 'revoked', 'the deleted certificate stays revoked on record');
      assert.ok(kept.revoked_at && kept.deleted_at);

      const page1 = (await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId, pageSize: 1 }))).body!;
      const page2 = (await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId, pageSize: 1, pageNumber: 2 }))).body!;
      assert.deepEqual([page1.totalCount, page1.pageSize, page1.pageNumber, page2.pageNumber, page1.siteName], [2, 1, 1, 2, siteName]);
      const listed = [...page1.result!, ...page2.result!];
      assert.deepEqual(new Set(listed.map((c) => c.id)), new Set([a, ids[2]]));
      assert.ok(listed.every((c) => c.status === 'active' && c.CACertificateId && c.type === 'managed'));
      const bad = await sdkError(esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId, pageSize: 101 })));
      assert.equal(bad.code, 'InvalidParameter.PageSize');
    });

    it('keeps the managed CA while it has active certificates, and makes a new one after it is deleted', async () => {
      const { siteId } = await tenant.site();
      const issued = (await create({ siteId, pkeyType: 'ECC', validityDays: 30 })).body!;
      const caId = issued.CACertificateId!;
      const refused = await sdkError(esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: caId })));
      assert.deepEqual([refused.code, refused.statusCode], ['ClientCaCertificateInUse', 400]);
      assert.match(String(refused.data?.Message), /has 1 active client certificate; revoke them before deleting it/);
      assert.equal((await fetch(`${service.baseUrl}/pki/ca/${caId}.pem`)).status, 200);

      await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: issued.id }));
      const deleted = (await esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: caId }))).body!;
      assert.equal(deleted.id, caId);
      assert.equal((await fetch(`${service.baseUrl}/pki/ca/${caId}.pem`)).status, 404);
      assert.equal((await sdkError(esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id: issued.id })))).code, 'NotFoundCertificate');
      const next = (await create({ siteId, pkeyType: 'ECC', validityDays: 30 })).body!;
      assert.notEqual(next.CACertificateId, caId, 'a new CA with a new key');

      // Deleting the site takes its CA and certificates with it.
      await esa.deleteSite(new Esa.DeleteSiteRequest({ siteId }));
      assert.equal((await fetch(`${service.baseUrl}/pki/ca/${next.CACertificateId}.pem`)).status, 404);
      const left = await service.app.database.db.selectFrom('client_certificates').select('id').where('site_id', '=', String(siteId)).execute();
      assert.deepEqual(left, []);
    });
  });
}
