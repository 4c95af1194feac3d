/**
 * Each managed CA's CRL at /pki/crl/{CACertificateId}.crl, judged by openssl: the signature
 * verifies with the CA certificate, it lists exactly the revoked (and void) serials, its number
 * rises with every revoke and activate, it holds at most seven days, and `openssl verify
 * -crl_check` refuses a revoked client certificate and accepts an active one. Certificates are
 * issued, revoked, activated and deleted through the official ESA SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_CA } from '../../src/config/config.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { runOpenssl, scratch } from '../support/pki.js';
import { crlView, opensslDate, recordSerial, type CrlView } from '../support/revocation.js';
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

    const issue = (siteId: number, how: 'csr' | 'ECC' | 'RSA') => tenant.issue(siteId, how, { commonName: 'crl-device' });
    const revoke = (siteId: number, id: string) => esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id }));
    const activate = (siteId: number, id: string) => esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id }));
    const caPem = (siteId: number, id: string) => tenant.caPem(siteId, id);
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
      const where = { accountId: tenant.accountId, siteId, caId, issuer: a.issuer! };
      await recordSerial(service, where, { id: 'e'.repeat(32), serial, status: 'issuing', reservedAt });
      assert.equal(await service.app.privateCa.certificates.voidAbandoned(), 1);
      const view = await crlView(await fetchCrl(caId), await caPem(siteId, caId));
      assert.ok(view.number > before, 'reissued when served: the void moved the CA past its CRL');
      assert.deepEqual(view.entries, [{ serial, revokedAt: opensslDate(reservedAt), reason: 'Cessation Of Operation' }]);
    });

    it('serves the same CRL in PEM at {id}.crl.pem, which openssl and nginx read as it comes', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'ECC');
      await revoke(siteId, a.id!);
      const caId = a.CACertificateId!;
      const response = await fetch(`${service.baseUrl}/pki/crl/${caId}.crl.pem`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/x-pem-file');
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      const pem = await response.text();
      assert.match(pem, /^-----BEGIN X509 CRL-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END X509 CRL-----\n$/);
      const der = await fetchCrl(caId);
      assert.deepEqual(Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\n/g, ''), 'base64'), der, 'the same CRL as {id}.crl');
      // No conversion: openssl takes the PEM as it is.
      const ca = scratch('ca.pem', await caPem(siteId, caId));
      const refused = runOpenssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-crl_check', '-CAfile', ca, '-CRLfile', scratch('crl.pem', pem), scratch('leaf.pem', a.certificate!)]);
      assert.notEqual(refused.status, 0);
      assert.match(refused.output, /certificate revoked/);
    });

    it('answers 404 for an unknown id, an uploaded CA and anything not named {id}.crl or {id}.crl.pem', async () => {
      const { siteId } = await tenant.site();
      const a = await issue(siteId, 'ECC');
      const uploaded = await esa.uploadClientCaCertificate(
        new Esa.UploadClientCaCertificateRequest({ siteId, certificate: await caPem(siteId, a.CACertificateId!), name: 'again' }),
      );
      for (const path of [`${'f'.repeat(32)}.crl`, `${'f'.repeat(32)}.crl.pem`, `${uploaded.body!.id}.crl`, `${uploaded.body!.id}.crl.pem`, `${a.CACertificateId}.pem`, `${a.CACertificateId}.pem.crl`, `${a.CACertificateId}`, 'x.crl', 'x.crl.pem', '..%2F..%2Fetc.crl']) {
        const response = await fetch(`${service.baseUrl}/pki/crl/${path}`);
        assert.equal(response.status, 404, path);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'certificate.not_found', path);
      }
    });
  });
}

for (const engine of ENGINES) {
  describe(`client CA CRLs over time on ${engine}`, () => {
    const clock = fixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    let service: TestService;
    let tenant: Tenant;

    before(async () => {
      service = await startService(engine, { clock, config: { clientCa: { ...DEFAULT_CLIENT_CA, crlValidityHours: 24 } } });
      tenant = await tenantOf(service, 'crl-time');
    });
    after(async () => {
      await service.stop();
    });

    it('holds crlValidityHours, and is reissued when served with less than half of it left, or none', async () => {
      const { siteId } = await tenant.site();
      const issued = (await tenant.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 30, pkeyType: 'ECC' }))).body!;
      const caId = issued.CACertificateId!;
      const ca = (await tenant.esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: caId }))).body!.certificate!;
      const view = async () => {
        const response = await fetch(`${service.baseUrl}/pki/crl/${caId}.crl`);
        return crlView(Buffer.from(await response.arrayBuffer()), ca);
      };
      const start = clock.now().getTime();
      const first = await view();
      assert.deepEqual([first.lastUpdate.getTime(), first.nextUpdate.getTime()], [start, start + DAY], 'thisUpdate now, nextUpdate 24 hours on');

      clock.set(new Date(start + 11 * 3_600_000));
      const halfLeft = await view();
      assert.equal(halfLeft.number, first.number, 'more than half of its validity left: the same CRL');

      clock.set(new Date(start + 13 * 3_600_000));
      const refreshed = await view();
      assert.equal(refreshed.number, first.number + 1, 'less than half left: a new one');
      assert.deepEqual([refreshed.lastUpdate.getTime(), refreshed.nextUpdate.getTime()], [start + 13 * 3_600_000, start + 37 * 3_600_000]);

      clock.set(new Date(start + 40 * 3_600_000));
      const expired = await view();
      assert.equal(expired.number, refreshed.number + 1, 'past its nextUpdate: a new one');
      assert.ok(expired.nextUpdate.getTime() > clock.now().getTime());
    });
  });
}
