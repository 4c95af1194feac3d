/**
 * The OCSP responder at /pki/ocsp, asked by `openssl ocsp` itself (which sends a nonce, checks it
 * came back and verifies the response's signature against the CA): good → revoked (with its time)
 * → good again as the ESA SDK revokes and activates; unknown for serials the CA never issued;
 * several CertIDs in one request; the GET form; and malformed input answered, not failed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { scratch, testCa } from '../support/pki.js';
import { ocspAsk, ocspStatuses, opensslAsync, opensslDate, recordSerial } from '../support/revocation.js';
import { startService, type TestService } from '../support/service.js';

const MINUTE = 60_000;

for (const engine of ENGINES) {
  describe(`the client CAs' OCSP responder on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let esa: Tenant['esa'];

    before(async () => {
      service = await startService(engine);
      tenant = await tenantOf(service, 'ocsp');
      esa = tenant.esa;
    });
    after(async () => {
      await service.stop();
    });

    const issue = (siteId: number, how: 'csr' | 'ECC' | 'RSA') => tenant.issue(siteId, how, { csrKey: 'rsa', commonName: 'ocsp-device' });
    const caPem = (siteId: number, id: string) => tenant.caPem(siteId, id);
    const revokedAt = async (id: string) => {
      const row = await service.app.database.db.selectFrom('client_certificates').select('revoked_at').where('id', '=', id).executeTakeFirstOrThrow();
      return new Date(row.revoked_at!);
    };
    /** Everything openssl must say about a response it accepted: signature, nonce, fresh times. */
    const accepted = (output: string) => {
      assert.match(output, /^Response verify OK$/m, output);
      assert.doesNotMatch(output, /WARNING|Nonce Verify error|Responder Error|status times invalid/i, output);
      const thisUpdate = new Date(/This Update: (.+)\n/.exec(output)![1]!);
      const nextUpdate = new Date(/Next Update: (.+)\n/.exec(output)![1]!);
      assert.ok(Math.abs(thisUpdate.getTime() - Date.now()) < MINUTE, 'thisUpdate is now');
      assert.equal(nextUpdate.getTime() - thisUpdate.getTime(), 10 * MINUTE, 'nextUpdate: ocspValidityMinutes later');
    };

    for (const how of ['csr', 'ECC', 'RSA'] as const) {
      it(`a certificate from ${how === 'csr' ? 'an RSA CSR' : `a generated ${how} key`}: good, revoked with its time, good again after activate`, async () => {
        const { siteId } = await tenant.site();
        const leaf = await issue(siteId, how);
        const ca = await caPem(siteId, leaf.CACertificateId!);

        const good = await ocspAsk(service.baseUrl, ca, [leaf.certificate!]);
        assert.equal(good.status, 0, good.output);
        accepted(good.output);
        assert.deepEqual(ocspStatuses(good.output), ['good']);

        await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: leaf.id! }));
        const revoked = await ocspAsk(service.baseUrl, ca, [leaf.certificate!]);
        accepted(revoked.output);
        assert.deepEqual(ocspStatuses(revoked.output), ['revoked']);
        assert.match(revoked.output, /Reason: certificateHold\n/);
        assert.match(revoked.output, new RegExp(`Revocation Time: ${opensslDate(await revokedAt(leaf.id!))}`));

        await esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: leaf.id! }));
        const again = await ocspAsk(service.baseUrl, ca, [leaf.certificate!]);
        accepted(again.output);
        assert.deepEqual(ocspStatuses(again.output), ['good']);
      });
    }

    it('answers SHA-256 CertIDs, and several CertIDs in one request together', async () => {
      const { siteId } = await tenant.site();
      const [a, b] = [await issue(siteId, 'ECC'), await issue(siteId, 'ECC')];
      await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: b.id! }));
      const ca = await caPem(siteId, a.CACertificateId!);
      const sha256 = await ocspAsk(service.baseUrl, ca, [a.certificate!], ['-sha256']);
      accepted(sha256.output);
      assert.deepEqual(ocspStatuses(sha256.output), ['good']);
      const never = `4${'1'.repeat(31)}`;
      const both = await ocspAsk(service.baseUrl, ca, [a.certificate!, b.certificate!, { serial: never }], ['-resp_text']);
      assert.match(both.output, /^Response verify OK$/m, both.output);
      assert.deepEqual(ocspStatuses(both.output), ['good', 'revoked', 'unknown']);
      assert.equal([...both.output.matchAll(/Cert Status:/g)].length, 3, 'one response holding all three');
    });

    it('says unknown for serials the CA never issued, another CA\'s certificate included; unauthorized for issuers it is not', async () => {
      const { siteId } = await tenant.site();
      const mine = await issue(siteId, 'ECC');
      const ca = await caPem(siteId, mine.CACertificateId!);
      const elsewhere = await issue((await tenant.site()).siteId, 'ECC');
      assert.notEqual(elsewhere.CACertificateId, mine.CACertificateId);

      const never = await ocspAsk(service.baseUrl, ca, [{ serial: `7${'0'.repeat(31)}` }]);
      accepted(never.output);
      assert.deepEqual(ocspStatuses(never.output), ['unknown']);
      const short = await ocspAsk(service.baseUrl, ca, [{ serial: '01' }]);
      assert.deepEqual(ocspStatuses(short.output), ['unknown']);
      const foreign = await ocspAsk(service.baseUrl, ca, [{ serial: elsewhere.serialNumber! }]);
      accepted(foreign.output);
      assert.deepEqual(ocspStatuses(foreign.output), ['unknown'], "this CA never issued the other CA's serial");
      // Given the other CA's certificate, openssl names its issuer by that CA's name and this CA's key: no CA is both.
      const mixed = await ocspAsk(service.baseUrl, ca, [elsewhere.certificate!]);
      assert.match(mixed.output, /Responder Error: unauthorized \(6\)/);

      // A CA certplane holds no key for (made by openssl here; or uploaded): nobody here may sign for it.
      const outsider = testCa('p256', 'Outside CA');
      const refused = await ocspAsk(service.baseUrl, outsider.cert.pem, [{ serial: mine.serialNumber! }]);
      assert.match(refused.output, /Responder Error: unauthorized \(6\)/);
      await esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId, certificate: outsider.cert.pem }));
      const uploaded = await ocspAsk(service.baseUrl, outsider.cert.pem, [{ serial: mine.serialNumber! }]);
      assert.match(uploaded.output, /Responder Error: unauthorized \(6\)/);
    });

    it('says revoked for a void serial, from when it was reserved, and unknown while one is being issued', async () => {
      const { siteId } = await tenant.site();
      const leaf = await issue(siteId, 'ECC');
      const ca = await caPem(siteId, leaf.CACertificateId!);
      const reservedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
      const [voided, issuing] = [`6${'a'.repeat(31)}`, `6${'b'.repeat(31)}`];
      const where = { accountId: tenant.accountId, siteId, caId: leaf.CACertificateId!, issuer: leaf.issuer! };
      await recordSerial(service, where, { id: 'a'.repeat(32), serial: voided, status: 'void', reservedAt });
      await recordSerial(service, where, { id: 'b'.repeat(32), serial: issuing, status: 'issuing', reservedAt });
      const answer = await ocspAsk(service.baseUrl, ca, [{ serial: voided }, { serial: issuing }]);
      assert.match(answer.output, /^Response verify OK$/m, answer.output);
      assert.deepEqual(ocspStatuses(answer.output), ['revoked', 'unknown']);
      assert.match(answer.output, new RegExp(`Reason: cessationOfOperation\\n\\s*Revocation Time: ${opensslDate(reservedAt)}`));
    });

    it('answers the GET form: base64 in the path, escaped or not', async () => {
      const { siteId } = await tenant.site();
      const leaf = await issue(siteId, 'ECC');
      const ca = await caPem(siteId, leaf.CACertificateId!);
      const caPath = scratch('ca.pem', ca);
      const leafPath = scratch('leaf.pem', leaf.certificate!);
      // Requests until one's base64 holds '+' and '/' (the nonce is random), so both spellings are tried.
      let reqPath = '';
      let base64 = '';
      for (let i = 0; i < 60 && !(base64.includes('+') && base64.includes('/')); i++) {
        reqPath = scratch('req.der');
        const made = await opensslAsync(['ocsp', '-issuer', caPath, '-cert', leafPath, '-reqout', reqPath]);
        assert.equal(made.status, 0, made.output);
        base64 = readFileSync(reqPath).toString('base64');
      }
      assert.ok(base64.includes('+') && base64.includes('/'), base64);
      for (const path of [encodeURIComponent(base64), base64, base64.replaceAll('=', '%3D')]) {
        const response = await fetch(`${service.baseUrl}/pki/ocsp/${path}`);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('content-type'), 'application/ocsp-response');
        const respPath = scratch('resp.der', Buffer.from(await response.arrayBuffer()));
        const read = await opensslAsync(['ocsp', '-respin', respPath, '-reqin', reqPath, '-issuer', caPath, '-CAfile', caPath, '-resp_text']);
        assert.match(read.output, /^Response verify OK$/m, read.output);
        assert.doesNotMatch(read.output, /WARNING|Nonce Verify error/, 'the nonce of the GET request came back');
        assert.match(read.output, /Cert Status: good/);
      }
    });

    it('answers malformed input with malformedRequest, never a server error', async () => {
      const { siteId } = await tenant.site();
      const leaf = await issue(siteId, 'ECC');
      const ca = await caPem(siteId, leaf.CACertificateId!);
      const reqPath = scratch('req.der');
      await opensslAsync(['ocsp', '-issuer', scratch('ca.pem', ca), '-cert', scratch('leaf.pem', leaf.certificate!), '-reqout', reqPath]);
      const request = readFileSync(reqPath);
      const post = (body: Buffer | string, type = 'application/ocsp-request') =>
        fetch(`${service.baseUrl}/pki/ocsp`, { method: 'POST', headers: { 'content-type': type }, body });
      const cases: Array<[string, () => Promise<Response>, number]> = [
        ['garbage', () => post(Buffer.from('not an OCSP request')), 400],
        ['an empty body', () => post(Buffer.alloc(0)), 400],
        ['a truncated request', () => post(request.subarray(0, request.length - 5)), 400],
        ['a request with trailing bytes', () => post(Buffer.concat([request, Buffer.from([0])])), 400],
        ['JSON', () => post('{"serial":"1"}', 'application/json'), 400],
        ['20 KB of junk', () => post(Buffer.alloc(20_000, 0x30)), 413],
        ['a GET that is not base64', () => fetch(`${service.baseUrl}/pki/ocsp/not*base64!`), 400],
        ['a GET of base64 junk', () => fetch(`${service.baseUrl}/pki/ocsp/${encodeURIComponent(Buffer.from('junk junk junk').toString('base64'))}`), 400],
        ['a GET with nothing', () => fetch(`${service.baseUrl}/pki/ocsp/`), 400],
        ['a GET of 30 KB', () => fetch(`${service.baseUrl}/pki/ocsp/${'A'.repeat(30_000)}`), 400],
      ];
      for (const [label, send, status] of cases) {
        const response = await send();
        assert.equal(response.status, status, label);
        assert.equal(response.headers.get('content-type'), 'application/ocsp-response', label);
        const read = await opensslAsync(['ocsp', '-respin', scratch('resp.der', Buffer.from(await response.arrayBuffer())), '-resp_text', '-noverify']);
        assert.match(read.output, /Responder Error: malformedrequest \(1\)/i, `${label}: ${read.output}`);
      }
      // A well-formed request is answered whatever it is called, or with no Content-Type at all.
      for (const type of ['application/octet-stream', undefined]) {
        const response = await fetch(`${service.baseUrl}/pki/ocsp`, { method: 'POST', body: request, ...(type ? { headers: { 'content-type': type } } : {}) });
        assert.equal(response.status, 200, String(type));
        const read = await opensslAsync(['ocsp', '-respin', scratch('resp.der', Buffer.from(await response.arrayBuffer())), '-reqin', reqPath, '-CAfile', scratch('ca.pem', ca), '-resp_text']);
        assert.match(read.output, /Cert Status: good/, read.output);
      }
      const good = await ocspAsk(service.baseUrl, ca, [leaf.certificate!]);
      assert.deepEqual(ocspStatuses(good.output), ['good']);
    });
  });
}
