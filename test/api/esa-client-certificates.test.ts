import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_CA } from '../../src/config/config.js';
import { clientKeyContext } from '../../src/core/private-ca/model.js';
import { Esa, ESA_SIGNATURE_NAMES, isoTime, listTime, opensslView, publicKeyOf, tenantOf, verifyWith, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { makeCsr, testKey, type TestKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

const PUBLIC_URL = 'https://pki.certplane.test/base';

interface Case {
  label: string;
  request: { CSR?: string; pkeyType?: string };
  key?: TestKey;
  /** Subject key: RSA keys also get keyEncipherment. */
  rsa: boolean;
  commonName?: string;
}

const CASES: Case[] = [
  { label: 'a P-256 CSR', request: {}, key: testKey('p256'), rsa: false, commonName: 'device-p256.example' },
  { label: 'an RSA-2048 CSR', request: {}, key: testKey('rsa'), rsa: true, commonName: 'device-rsa.example' },
  { label: 'a P-384 CSR', request: {}, key: testKey('p384'), rsa: false, commonName: 'device-p384.example' },
  { label: 'a generated ECC key', request: { pkeyType: 'ECC' }, rsa: false },
  { label: 'a generated RSA key', request: { pkeyType: 'RSA' }, rsa: true },
];

for (const engine of ENGINES) {
  describe(`ESA client certificates from the site's own CA on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let esa: Tenant['esa'];

    before(async () => {
      service = await startService(engine, { config: { publicUrl: PUBLIC_URL } });
      tenant = await tenantOf(service);
      esa = tenant.esa;
    });
    after(async () => {
      await service.stop();
    });

    const create = (siteId: number, c: Case, validityDays = 397) =>
      esa.createClientCertificate(
        new Esa.CreateClientCertificateRequest({
          siteId,
          validityDays,
          ...(c.key ? { CSR: makeCsr(c.key, { subject: `/O=Example/CN=${c.commonName}` }) } : {}),
          ...c.request,
        }),
      );
    const caOf = async (siteId: number, id: string) =>
      (await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id }))).body!;

    for (const c of CASES) {
      it(`issues from ${c.label}: every answer field agrees with openssl, and the chain verifies strictly`, async () => {
        const { siteId, siteName } = await tenant.site();
        const body = (await create(siteId, c)).body!;
        const x = opensslView(body.certificate!);

        assert.equal(body.serialNumber, x.serialHex.toLowerCase());
        assert.match(body.serialNumber!, /^[0-9a-f]{32}$/);
        assert.equal(body.fingerprintSha256, x.fingerprintSha256);
        assert.equal(body.notBefore, isoTime(x.notBefore));
        assert.equal(body.notAfter, isoTime(x.notAfter));
        assert.equal(x.notAfter.getTime() - x.notBefore.getTime(), 397 * 86_400_000, 'exactly ValidityDays');
        const lag = Date.now() - x.notBefore.getTime();
        assert.ok(lag >= 4 * 60_000 && lag <= 7 * 60_000, `not-before is back-dated about five minutes (${lag} ms)`);
        assert.equal(body.signatureAlgorithm, ESA_SIGNATURE_NAMES[x.signatureAlgorithm]);
        assert.equal(body.signatureAlgorithm, 'ECDSA-SHA256', 'signed by the default P-256 CA');
        assert.equal(body.validityDays, '397');
        assert.equal(body.status, 'active');
        assert.equal(x.subject, `CN=${body.commonName}${c.key ? ',O=Example' : ''}`);
        if (c.commonName) assert.equal(body.commonName, c.commonName);
        else assert.equal(body.commonName, body.id, 'a generated key is named by its certificate id');
        assert.equal(body.issuer, `certplane client CA ${siteName}`);
        assert.equal(x.issuer, `CN=certplane client CA ${siteName},OU=site ${siteId},O=certplane`);
        assert.equal(x.version, 3);

        // The profile, never the request: leaf, client auth, keys ids, revocation URLs under publicUrl.
        const ext = x.extensions;
        assert.deepEqual(
          [...ext.keys()],
          ['X509v3 Basic Constraints', 'X509v3 Key Usage', 'X509v3 Extended Key Usage', 'X509v3 Subject Key Identifier', 'X509v3 Authority Key Identifier', 'X509v3 CRL Distribution Points', 'Authority Information Access'],
        );
        assert.deepEqual(ext.get('X509v3 Basic Constraints'), { critical: true, value: 'CA:FALSE' });
        assert.deepEqual(ext.get('X509v3 Key Usage'), { critical: true, value: c.rsa ? 'Digital Signature, Key Encipherment' : 'Digital Signature' });
        assert.deepEqual(ext.get('X509v3 Extended Key Usage'), { critical: false, value: 'TLS Web Client Authentication' });
        assert.match(ext.get('X509v3 CRL Distribution Points')!.value, new RegExp(`URI:${PUBLIC_URL}/pki/crl/${body.CACertificateId}\\.crl$`));
        assert.equal(ext.get('Authority Information Access')!.value, `OCSP - URI:${PUBLIC_URL}/pki/ocsp`);

        const ca = await caOf(siteId, body.CACertificateId!);
        const caView = opensslView(ca.certificate!);
        assert.equal(ext.get('X509v3 Authority Key Identifier')!.value.replace(/^keyid:/, ''), caView.extensions.get('X509v3 Subject Key Identifier')!.value);
        const fetched = await fetch(`${service.baseUrl}/pki/ca/${body.CACertificateId}.pem`);
        const published = await fetched.text();
        assert.equal(published, ca.certificate);
        for (const anchor of [ca.certificate!, published]) {
          const verdict = verifyWith(anchor, body.certificate!);
          assert.equal(verdict.status, 0, verdict.output);
          assert.match(verdict.stdout, /: OK$/m);
        }

        if (c.key) {
          assert.equal(body.privateKey, undefined, 'no key is returned for a CSR');
          assert.deepEqual(x.spki, c.key.spki);
        } else {
          assert.match(body.privateKey!, /^-----BEGIN PRIVATE KEY-----\n/);
          assert.deepEqual(publicKeyOf(body.privateKey!), x.spki, 'the returned key is the certificate’s');
          assert.equal(x.text.includes(c.rsa ? 'Public-Key: (2048 bit)' : 'ASN1 OID: prime256v1'), true);
        }

        const got = (await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id: body.id }))).body!;
        assert.deepEqual(
          [got.certificate, got.status, got.siteId, got.siteName],
          [body.certificate, 'active', siteId, siteName],
        );
        const r = got.result!;
        assert.deepEqual(
          [r.id, r.CACertificateId, r.commonName, r.serialNumber, r.fingerprintSha256, r.signatureAlgorithm, r.issuer, r.status, r.SAN, r.pubkeyAlgorithm],
          [body.id, body.CACertificateId, body.commonName, body.serialNumber, x.fingerprintSha256, body.signatureAlgorithm, body.issuer, 'active', '', c.rsa ? 'RSA' : 'ECC'],
        );
        assert.deepEqual([r.notBefore, r.notAfter], [listTime(x.notBefore), listTime(x.notAfter)]);
        assert.match(r.createTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      });
    }

    it('keeps a generated key only sealed in the database', async () => {
      const { siteId } = await tenant.site();
      const body = (await create(siteId, { label: '', request: { pkeyType: 'ECC' }, rsa: false })).body!;
      const row = await service.app.database.db
        .selectFrom('client_certificates')
        .select(['key_sealed', 'certificate_pem', 'status'])
        .where('id', '=', body.id!)
        .executeTakeFirstOrThrow();
      assert.ok(row.key_sealed && !row.key_sealed.includes('PRIVATE KEY') && !row.key_sealed.includes(body.privateKey!.split('\n')[1]!));
      assert.equal(service.app.sealer.open(row.key_sealed, clientKeyContext(body.id!)), body.privateKey);
      assert.equal(row.certificate_pem, body.certificate);
      const ca = await service.app.database.db.selectFrom('client_cas').select('key_sealed').where('id', '=', body.CACertificateId!).executeTakeFirstOrThrow();
      assert.ok(ca.key_sealed && !ca.key_sealed.includes('PRIVATE KEY'), 'the CA key is sealed too');
      const all = await service.app.database.db.selectFrom('client_certificates').select(['key_sealed', 'certificate_pem']).execute();
      assert.ok(all.every((r) => !`${r.key_sealed}${r.certificate_pem}`.includes('PRIVATE KEY')));
    });

    it('copies only the subject from a CSR, never the extensions it asks for', async () => {
      const { siteId } = await tenant.site();
      const csr = makeCsr(testKey('p256'), {
        subject: '/O=Example/CN=greedy',
        addext: ['subjectAltName=DNS:www.bank.example', 'keyUsage=critical,keyCertSign,cRLSign', 'extendedKeyUsage=serverAuth,codeSigning'],
      });
      const body = (await esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, CSR: csr, validityDays: 30 }))).body!;
      const x = opensslView(body.certificate!);
      assert.deepEqual(x.subjectAltName, []);
      assert.equal(x.extensions.get('X509v3 Key Usage')!.value, 'Digital Signature');
      assert.equal(x.extensions.get('X509v3 Extended Key Usage')!.value, 'TLS Web Client Authentication');
    });

    it('makes one CA per site, readable by CACertificateId and published without credentials', async () => {
      const { siteId, siteName } = await tenant.site();
      const first = (await create(siteId, CASES[3]!, 1)).body!;
      const second = (await create(siteId, CASES[0]!, 1)).body!;
      assert.equal(second.CACertificateId, first.CACertificateId);
      const other = await tenant.site();
      assert.notEqual((await create(other.siteId, CASES[3]!, 1)).body!.CACertificateId, first.CACertificateId, 'each site has its own CA');

      const ca = await caOf(siteId, first.CACertificateId!);
      const x = opensslView(ca.certificate!);
      assert.equal(x.subject, `CN=certplane client CA ${siteName},OU=site ${siteId},O=certplane`);
      assert.equal(x.issuer, x.subject, 'self-signed');
      assert.deepEqual(x.extensions.get('X509v3 Basic Constraints'), { critical: true, value: 'CA:TRUE, pathlen:0' });
      assert.equal(x.extensions.get('X509v3 Key Usage')!.value, 'Digital Signature, Certificate Sign, CRL Sign');
      assert.equal(x.signatureAlgorithm, 'ecdsa-with-SHA256');
      assert.equal(Math.round((x.notAfter.getTime() - x.notBefore.getTime()) / 86_400_000), DEFAULT_CLIENT_CA.validityDays);
      const r = ca.result!;
      assert.deepEqual(
        [ca.status, ca.siteId, ca.siteName, r.id, r.type, r.status, r.commonName, r.issuer, r.name, r.serialNumber, r.fingerprintSha256, r.signatureAlgorithm, r.pubkeyAlgorithm],
        ['OK', siteId, siteName, first.CACertificateId, 'managed', 'OK', `certplane client CA ${siteName}`, `certplane client CA ${siteName}`, `certplane client CA ${siteName}`, x.serialHex.toLowerCase(), x.fingerprintSha256, 'ECDSA-SHA256', 'ECC'],
      );
      assert.deepEqual([r.notBefore, r.notAfter], [listTime(x.notBefore), listTime(x.notAfter)]);
      const verdict = verifyWith(ca.certificate!, ca.certificate!);
      assert.equal(verdict.status, 0, verdict.output);

      const listed = (await esa.listClientCaCertificates(new Esa.ListClientCaCertificatesRequest({ siteId }))).body!;
      assert.deepEqual(listed.result!.map((c) => [c.id, c.type]), [[first.CACertificateId, 'managed']]);

      const published = await fetch(`${service.baseUrl}/pki/ca/${first.CACertificateId}.pem`);
      assert.equal(published.status, 200);
      assert.equal(published.headers.get('content-type'), 'application/x-pem-file');
      assert.equal(await published.text(), ca.certificate);
      for (const path of [`${'0'.repeat(32)}.pem`, `${first.CACertificateId}.crt`, `${first.CACertificateId}`, 'not-an-id.pem']) {
        const missing = await fetch(`${service.baseUrl}/pki/ca/${path}`);
        assert.equal(missing.status, 404, path);
        assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'certificate.not_found');
      }
    });

    it('signs with an RSA-2048 CA when clientCa.keyType is RSA', async () => {
      const rsa = await startService(engine, { config: { publicUrl: PUBLIC_URL, clientCa: { ...DEFAULT_CLIENT_CA, keyType: 'RSA' } } });
      try {
        const t = await tenantOf(rsa);
        const { siteId } = await t.site();
        for (const c of [CASES[0]!, CASES[4]!]) {
          const body = (await t.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({
            siteId, validityDays: 30, ...(c.key ? { CSR: makeCsr(c.key, { subject: '/CN=rsa-ca-client' }) } : {}), ...c.request,
          }))).body!;
          assert.equal(body.signatureAlgorithm, 'SHA256-RSA');
          assert.equal(opensslView(body.certificate!).signatureAlgorithm, 'sha256WithRSAEncryption');
          const ca = (await t.esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: body.CACertificateId }))).body!;
          assert.match(opensslView(ca.certificate!).text, /Public-Key: \(2048 bit\)/);
          const verdict = verifyWith(ca.certificate!, body.certificate!);
          assert.equal(verdict.status, 0, verdict.output);
        }
      } finally {
        await rsa.stop();
      }
    });
  });
}
