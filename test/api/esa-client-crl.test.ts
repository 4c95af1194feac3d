/**
 * Each managed CA's CRL at /pki/crl/{CACertificateId}.crl, judged by openssl: the signature
 * verifies with the CA certificate, it lists exactly the revoked (and void) serials, its number
 * rises with every revoke and activate, it holds at most seven days, and `openssl verify
 * -crl_check` refuses a revoked client certificate and accepts an active one. Certificates are
 * issued, revoked, activated and deleted through the official ESA SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { makeCsr, runOpenssl, scratch, testKey } from '../support/pki.js';
import { crlView, opensslDate, type CrlView } from '../support/revocation.js';
import { startService, type TestService } from '../support/service.js';

const DAY = 86_400_000;

for (const engine of ENGINES) {
  describe(`client CA CRLs on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let esa: Tenant['esa'];

    before(async () => {
      service = await startService(engine);
      tenant = await tenantOf(service, 'crl');
      esa = tenant.esa;
    });
    after(async () => {
      await service.stop();
    });

    const issue = async (siteId: number, how: 'csr' | 'ECC' | 'RSA') =>
      (
        await esa.createClientCertificate(
          new Esa.CreateClientCertificateRequest({
            siteId,
            validityDays: 30,
            ...(how === 'csr' ? { CSR: makeCsr(testKey('p256'), { subject: '/CN=crl-device' }) } : { pkeyType: how }),
          }),
        )
      ).body!;
    const revoke = (siteId: number, id: string) => esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id }));
    const activate = (siteId: number, id: string) => esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id }));
    const caPem = async (siteId: number, id: string) => (await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id }))).body!.certificate!;
    const fetchCrl = async (caId: string): Promise<Buffer> => {
      const response = await fetch(`${service.baseUrl}/pki/crl/${caId}.crl`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/pkix-crl');
      return Buffer.from(await response.arrayBuffer());
    };
    const revokedAt = async (id: string) => {
      const row = await service.app.database.db.selectFrom('client_certificates').select('revoked_at').where('id', '=', id).executeTakeFirstOrThrow();
      return new Date(row.revoked_at!);
    };
    /** openssl verify -crl_check with the CRL (converted to PEM by openssl itself). */
    const verifyWithCrl = (ca: string, crl: Buffer, leafPem: string) => {
      const crlPem = scratch('crl.pem');
      runOpenssl(['crl', '-inform', 'DER', '-in', scratch('crl.der', crl), '-out', crlPem]);
      return runOpenssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-crl_check', '-CAfile', scratch('ca.pem', ca), '-CRLfile', crlPem, scratch('leaf.pem', leafPem)]);
    };

    it('lists exactly the revoked serials, a higher CRL number after each revoke and activate; verify -crl_check follows it', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'csr');
      const b = await issue(siteId, 'ECC');
      const c = await issue(siteId, 'RSA');
      const caId = a.CACertificateId!;
      assert.deepEqual([b.CACertificateId, c.CACertificateId], [caId, caId]);
      const ca = await caPem(siteId, caId);

      const views: CrlView[] = [];
      const look = async (expected: string[]) => {
        const der = await fetchCrl(caId);
        const view = await crlView(der, ca);
        assert.ok(view.verified, view.output);
        assert.match(view.output, /Version 2 \(0x1\)/);
        assert.deepEqual(view.entries.map((e) => e.serial).sort(), [...expected].sort(), view.output);
        const lifetime = view.nextUpdate.getTime() - view.lastUpdate.getTime();
        assert.ok(lifetime > 0 && lifetime <= 7 * DAY, `nextUpdate at most 7 days out (${lifetime} ms)`);
        assert.ok(Math.abs(view.lastUpdate.getTime() - Date.now()) < 60_000, 'thisUpdate is now');
        views.push(view);
        return { der, view };
      };

      const first = await look([]);
      assert.match(first.view.output, /No Revoked Certificates/);
      for (const leaf of [a, b, c]) assert.equal(verifyWithCrl(ca, first.der, leaf.certificate!).status, 0, 'all active: all accepted');

      await revoke(siteId, a.id!);
      const one = await look([a.serialNumber!]);
      const entry = one.view.entries[0]!;
      assert.equal(entry.revokedAt, opensslDate(await revokedAt(a.id!)));
      assert.equal(entry.reason, 'Certificate Hold', 'a revocation ActivateClientCertificate may undo is a hold');
      const refused = verifyWithCrl(ca, one.der, a.certificate!);
      assert.notEqual(refused.status, 0);
      assert.match(refused.output, /certificate revoked/);
      assert.equal(verifyWithCrl(ca, one.der, b.certificate!).status, 0, 'an active certificate still passes');

      await revoke(siteId, b.id!);
      await look([a.serialNumber!, b.serialNumber!]);
      await activate(siteId, a.id!);
      const afterActivate = await look([b.serialNumber!]);
      assert.equal(verifyWithCrl(ca, afterActivate.der, a.certificate!).status, 0, 'activated: accepted again');
      assert.match(verifyWithCrl(ca, afterActivate.der, b.certificate!).output, /certificate revoked/);

      // A deleted certificate stays revoked, now for good.
      await esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id: b.id! }));
      const deleted = await look([b.serialNumber!]);
      assert.equal(deleted.view.entries[0]!.reason, 'Cessation Of Operation');
      assert.equal(deleted.view.entries[0]!.revokedAt, opensslDate(await revokedAt(b.id!)), 'the revocation time is kept');

      const numbers = views.map((v) => v.number);
      for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! > numbers[i - 1]!, `CRL numbers rise: ${numbers.join(', ')}`);
    });

    it('serves the same CRL while nothing changed, and issues the first when the CA is made', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'ECC');
      const stored = await service.app.database.db
        .selectFrom('client_cas')
        .select(['crl_number', 'crl_der'])
        .where('id', '=', a.CACertificateId!)
        .executeTakeFirstOrThrow();
      assert.equal(stored.crl_number, 1, 'the first CRL was issued with the CA');
      const once = await fetchCrl(a.CACertificateId!);
      const twice = await fetchCrl(a.CACertificateId!);
      assert.deepEqual(once, Buffer.from(stored.crl_der!));
      assert.deepEqual(twice, once);
    });

    it('lists void serials as revoked from the moment they were reserved, even though no listener heard of them', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'ECC');
      const caId = a.CACertificateId!;
      const before = (await crlView(await fetchCrl(caId), await caPem(siteId, caId))).number;
      // An issuance that died after its serial was recorded: an old `issuing` record, voided at start-up.
      const reservedAt = new Date(Date.now() - 3_600_000);
      const serial = `5${'0'.repeat(30)}1`;
      await service.app.database.db
        .insertInto('client_certificates')
        .values({
          id: 'e'.repeat(32),
          account_id: tenant.accountId,
          site_id: String(siteId),
          ca_id: caId,
          serial_number: serial,
          status: 'issuing',
          common_name: 'lost',
          issuer: a.issuer!,
          public_key_algorithm: 'ECC',
          key_generated: 1,
          key_sealed: null,
          certificate_pem: null,
          fingerprint_sha256: null,
          signature_algorithm: null,
          not_before: reservedAt.toISOString(),
          not_after: new Date(reservedAt.getTime() + DAY).toISOString(),
          validity_days: 1,
          revoked_at: null,
          deleted_at: null,
          created_at: reservedAt.toISOString(),
          updated_at: reservedAt.toISOString(),
        })
        .execute();
      assert.equal(await service.app.privateCa.certificates.voidAbandoned(), 1);
      const view = await crlView(await fetchCrl(caId), await caPem(siteId, caId));
      assert.ok(view.number > before, 'reissued when served: the void moved the CA past its CRL');
      assert.deepEqual(view.entries, [{ serial, revokedAt: opensslDate(reservedAt), reason: 'Cessation Of Operation' }]);
    });

    it('answers 404 for an unknown id, an uploaded CA and anything not named {id}.crl', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'ECC');
      const uploaded = await esa.uploadClientCaCertificate(
        new Esa.UploadClientCaCertificateRequest({ siteId, certificate: await caPem(siteId, a.CACertificateId!), name: 'again' }),
      );
      for (const path of [`${'f'.repeat(32)}.crl`, `${uploaded.body!.id}.crl`, `${a.CACertificateId}.pem`, `${a.CACertificateId}`, 'x.crl', '..%2F..%2Fetc.crl']) {
        const response = await fetch(`${service.baseUrl}/pki/crl/${path}`);
        assert.equal(response.status, 404, path);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'certificate.not_found', path);
      }
    });
  });
}
