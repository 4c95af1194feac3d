import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCertificate, issuerFromKey, newSerial } from '../../src/pki/index.js';
import { sdkError } from '../support/alibaba.js';
import { Esa, ESA_SIGNATURE_NAMES, countRows, isoTime, listTime, opensslView, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { makeCa, makeLeaf } from '../support/openssl.js';
import { testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

/** A CA certificate that expired in 2021, built by the toolkit. */
function expiredCa(): string {
  const issuer = issuerFromKey(testKey('p256').privateKey, { organization: 'Old', commonName: 'Expired Client CA' });
  return buildCertificate(issuer, { kind: 'clientCa' }, { serial: newSerial(), notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') }).pem;
}

for (const engine of ENGINES) {
  describe(`ESA client CAs and their hostnames on ${engine}`, () => {
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

    const upload = (siteId: number, certificate: string, name?: string) =>
      esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId, certificate, ...(name ? { name } : {}) }));

    for (const alg of ['p256', 'rsa'] as const) {
      it(`takes an uploaded ${alg} CA as openssl reads it, and lists it beside the managed CA`, async () => {
        const { siteId, siteName } = await tenant.site();
        const ca = makeCa({ alg, days: 300 });
        const body = (await upload(siteId, ca.certPem, 'partner CA')).body!;
        const x = opensslView(ca.certPem);
        assert.match(body.id!, /^[0-9a-f]{32}$/);
        assert.deepEqual(
          [body.commonName, body.issuer, body.serialNumber, body.fingerprintSha256, body.signatureAlgorithm, body.status, body.validityDays],
          [/CN=([^,]+)/.exec(x.subject)![1], /CN=([^,]+)/.exec(x.issuer)![1], x.serialHex.toLowerCase(), x.fingerprintSha256, ESA_SIGNATURE_NAMES[x.signatureAlgorithm], 'OK', '300'],
        );
        assert.deepEqual([body.notBefore, body.notAfter], [isoTime(x.notBefore), isoTime(x.notAfter)]);

        const got = (await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: body.id }))).body!;
        assert.equal(got.certificate, ca.certPem);
        assert.deepEqual([got.status, got.siteId, got.siteName], ['OK', siteId, siteName]);
        const r = got.result!;
        assert.deepEqual([r.id, r.name, r.type, r.status, r.pubkeyAlgorithm, r.fingerprintSha256], [body.id, 'partner CA', 'upload', 'OK', alg === 'rsa' ? 'RSA' : 'ECC', x.fingerprintSha256]);
        assert.deepEqual([r.notBefore, r.notAfter], [listTime(x.notBefore), listTime(x.notAfter)]);
        assert.equal((await fetch(`${service.baseUrl}/pki/ca/${body.id}.pem`)).status, 404, 'only managed CAs are published');

        const managed = (await esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, pkeyType: 'ECC', validityDays: 1 }))).body!;
        const listed = (await esa.listClientCaCertificates(new Esa.ListClientCaCertificatesRequest({ siteId }))).body!;
        assert.deepEqual([listed.totalCount, listed.siteId, listed.siteName], [2, siteId, siteName]);
        assert.deepEqual(listed.result!.map((c) => [c.id, c.type]), [[managed.CACertificateId, 'managed'], [body.id, 'upload']]);

        const deleted = (await esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: body.id }))).body!;
        assert.deepEqual([deleted.id, deleted.siteName], [body.id, siteName]);
        assert.equal((await sdkError(esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: body.id })))).code, 'NotFoundCertificate');
      });
    }

    it('refuses what is not a valid CA certificate, storing nothing', async () => {
      const { siteId } = await tenant.site();
      const free = await tenant.site('free');
      const ca = makeCa({ alg: 'p256' });
      const leaf = makeLeaf({ issuer: ca, alg: 'p256' });
      const before = await countRows(service, 'client_cas');
      const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
        [() => upload(siteId, leaf.certPem), 'InvalidParameter.Certificate', /is not a CA certificate \(basicConstraints cA is not TRUE\)/],
        [() => upload(siteId, expiredCa()), 'CertificateExpired', /"O=Old,CN=Expired Client CA"|Expired Client CA.*expired at 2021-01-01T00:00:00.000Z/],
        [() => upload(siteId, 'garbage'), 'InvalidParameter.Certificate', /^certificate: not a readable certificate/],
        [() => upload(siteId, ca.certPem + makeCa({ alg: 'p256' }).certPem), 'InvalidParameter.Certificate', /holds 2 certificates; upload one CA certificate/],
        [() => esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId })), 'MissingCertificate', /Certificate/],
        [() => upload(free.siteId, ca.certPem), 'QuotaCheckFailed.Function', /unavailable in your plan/],
        [() => upload(999999999999, ca.certPem), 'InvalidParameter.SiteId', /Failed to query the website/],
      ];
      for (const [call, code, message] of cases) {
        const err = await sdkError(call());
        assert.equal(err.code, code, String(err.data?.Message));
        assert.equal(err.statusCode, 400);
        assert.match(String(err.data?.Message), message);
      }
      assert.equal(await countRows(service, 'client_cas'), before);
    });

    it('sets and reads the hostnames where a CA is enforced, the managed CA by default', async () => {
      const { siteId, siteName } = await tenant.site();
      const get = async (id?: string) =>
        (await esa.getClientCertificateHostnames(new Esa.GetClientCertificateHostnamesRequest({ siteId, ...(id ? { id } : {}) }))).body!;
      const set = (hostnames: unknown, id?: string) =>
        esa.setClientCertificateHostnames(new Esa.SetClientCertificateHostnamesRequest({ siteId, hostnames: hostnames as string[], ...(id ? { id } : {}) }));

      const none = await get();
      assert.deepEqual([none.id, none.hostnames, none.siteId, none.siteName], ['', [], siteId, siteName], 'a read creates no CA');
      assert.equal((await esa.listClientCaCertificates(new Esa.ListClientCaCertificatesRequest({ siteId }))).body!.totalCount, 0);

      const given = [`API.${siteName}`, `*.${siteName}`, siteName, `api.${siteName}`, `bücher.${siteName}`];
      const stored = [`api.${siteName}`, `*.${siteName}`, siteName, `xn--bcher-kva.${siteName}`];
      const managed = (await set(given)).body!;
      assert.match(managed.id!, /^[0-9a-f]{32}$/, 'the managed CA, made on first use');
      assert.deepEqual([managed.hostnames, managed.siteId, managed.siteName], [stored, siteId, siteName]);
      assert.deepEqual((await get()).hostnames, stored);
      assert.deepEqual((await get(managed.id!)).hostnames, stored);
      const issued = (await esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, pkeyType: 'ECC', validityDays: 1 }))).body!;
      assert.equal(issued.CACertificateId, managed.id, 'the same CA signs');

      const uploaded = (await upload(siteId, makeCa({ alg: 'p256' }).certPem)).body!;
      assert.deepEqual((await set([`partner.${siteName}`], uploaded.id!)).body!.hostnames, [`partner.${siteName}`]);
      assert.deepEqual((await get(uploaded.id!)).hostnames, [`partner.${siteName}`]);
      assert.deepEqual((await get()).hostnames, stored, 'the managed CA keeps its own');
      assert.deepEqual((await set([], uploaded.id!)).body!.hostnames, []);

      const refusals: Array<[() => Promise<unknown>, string, RegExp]> = [
        [() => set(['www.other.example']), 'InvalidParameter.Hostnames', new RegExp(`www\\.other\\.example is not ${siteName.replace(/\./g, '\\.')} or a name under it`)],
        [() => set([`bad_label.${siteName}`]), 'InvalidParameter.Hostnames', /is not a host name/],
        [() => set([`evil${siteName}`]), 'InvalidParameter.Hostnames', /is not .* or a name under it/],
        [() => set([`x.${siteName}`], 'f'.repeat(32)), 'NotFoundCertificate', /does not exist/],
        [() => esa.setClientCertificateHostnames(new Esa.SetClientCertificateHostnamesRequest({ siteId })), 'MissingHostnames', /Hostnames/],
        [() => get('f'.repeat(32)), 'NotFoundCertificate', /does not exist/],
      ];
      for (const [call, code, message] of refusals) {
        const err = await sdkError(call());
        assert.equal(err.code, code, String(err.data?.Message));
        assert.match(String(err.data?.Message), message);
      }
      assert.deepEqual((await get()).hostnames, stored, 'refusals changed nothing');
    });
  });
}
