/**
 * checkIssuedCertificate: what the CA runs on each certificate before
 * releasing it. It passes what the template built and names what is wrong
 * with anything else: another issuer, an altered byte, other fields, another
 * profile, a certificate made by openssl.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCheckedCertificate,
  CertificateTemplate,
  checkIssuedCertificate,
  newSerial,
  PkiError,
  threadPoolWork,
  useSignatureWork,
  type CertificateFields,
} from '../../src/pki/index.js';
import { CLIENT_PROFILE, opensslOk, scratch, testCa, testKey, TEST_KEY_ALGS } from '../support/pki.js';

function fields(spki: Buffer): CertificateFields {
  const now = Date.now();
  return { subject: { organization: 'Example', commonName: 'checked' }, subjectSpki: spki, serial: newSerial(), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86400_000) };
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PkiError && err.failure === 'build.invalid', String(err));
    return err.message;
  }
  return assert.fail('the check passed');
}

describe('checkIssuedCertificate', () => {
  for (const alg of TEST_KEY_ALGS) {
    it(`${alg} CA: passes each profile's certificates`, () => {
      const ca = testCa(alg);
      for (const key of [testKey('rsa'), testKey('p256')]) {
        for (const profile of [CLIENT_PROFILE, { kind: 'ocspResponder' } as const]) {
          const template = new CertificateTemplate(ca.issuer, profile);
          const f = fields(key.spki);
          checkIssuedCertificate(template, template.build(f).der, f);
        }
      }
      const root = new CertificateTemplate(ca.issuer, { kind: 'clientCa' });
      const f = { serial: newSerial(), notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000) };
      checkIssuedCertificate(root, root.build(f).der, f);
    });
  }

  it('names what is wrong', () => {
    const ca = testCa('p256');
    const template = new CertificateTemplate(ca.issuer, CLIENT_PROFILE);
    const f = fields(testKey('rsa').spki);
    const der = template.build(f).der;

    const other = new CertificateTemplate(testCa('p256', 'Another CA').issuer, CLIENT_PROFILE);
    assert.match(failure(() => checkIssuedCertificate(template, other.build(f).der, f)), /issuer "CN=Another CA,O=certplane" is not the CA/);
    const impostor = new CertificateTemplate({ ...testCa('p256', 'Another CA').issuer, name: ca.issuer.name }, CLIENT_PROFILE);
    assert.match(failure(() => checkIssuedCertificate(template, impostor.build(f).der, f)), /signature does not verify with the CA key/);

    const altered = Buffer.from(der);
    const at = altered.indexOf(Buffer.from('checked'));
    altered[at] = 'C'.charCodeAt(0);
    assert.match(failure(() => checkIssuedCertificate(template, altered, f)), /signature does not verify/);
    assert.match(failure(() => checkIssuedCertificate(template, der.subarray(0, der.length - 1), f)), /does not parse/);

    assert.match(failure(() => checkIssuedCertificate(template, der, { ...f, serial: newSerial() })), /^the issued certificate fails its check: serial/);
    assert.match(failure(() => checkIssuedCertificate(template, der, { ...f, notAfter: new Date(f.notAfter.getTime() + 1000) })), /notAfter/);
    assert.match(failure(() => checkIssuedCertificate(template, der, { ...f, subject: { commonName: 'other' } })), /subject "CN=checked,O=Example"/);
    assert.match(failure(() => checkIssuedCertificate(template, der, { ...f, subjectSpki: testKey('rsa', true).spki })), /subject public key/);

    const responder = new CertificateTemplate(ca.issuer, { kind: 'ocspResponder' });
    assert.match(failure(() => checkIssuedCertificate(responder, der, f)), /extensions 2\.5\.29\.19, 2\.5\.29\.15, 2\.5\.29\.37, 2\.5\.29\.14, 2\.5\.29\.35, 2\.5\.29\.31, 1\.3\.6\.1\.5\.5\.7\.1\.1/);
  });

  it('refuses a certificate openssl made for the same key under the same CA (not this profile)', () => {
    const ca = testCa('p256');
    const key = testKey('p256');
    const template = new CertificateTemplate(ca.issuer, CLIENT_PROFILE);
    const f = fields(key.spki);
    const serialHex = f.serial.toString('hex');
    const csr = opensslOk(['req', '-new', '-key', scratch('key.pem', key.pem), '-subj', '/O=Example/CN=checked']);
    const pem = opensslOk([
      'x509', '-req', '-in', scratch('csr.pem', csr), '-CA', ca.certPath, '-CAkey', scratch('ca.key', ca.key.pem), '-set_serial', `0x${serialHex}`,
      '-days', '1', '-sha256', '-extfile', scratch('ext.cnf', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n'),
    ]);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    assert.match(failure(() => checkIssuedCertificate(template, der, f)), /fails its check: extensions 2\.5\.29\.19, 2\.5\.29\.15, /);
  });
});

describe('buildCheckedCertificate (signed and verified in one hand-over)', () => {
  it('gives what checkIssuedCertificate passes, for every CA key type', async () => {
    for (const alg of TEST_KEY_ALGS) {
      const template = new CertificateTemplate(testCa(alg).issuer, CLIENT_PROFILE);
      const f = fields(testKey('p256').spki);
      const built = await buildCheckedCertificate(template, f);
      checkIssuedCertificate(template, built.der, f);
      assert.match(built.pem, /^-----BEGIN CERTIFICATE-----\n/);
    }
  });

  it('refuses a signature the signer could not verify with the CA key', async () => {
    const template = new CertificateTemplate(testCa('p256').issuer, CLIENT_PROFILE);
    const f = fields(testKey('p256').spki);
    const refused = async (): Promise<string> => {
      try {
        await buildCheckedCertificate(template, f);
      } catch (err) {
        assert.ok(err instanceof PkiError && err.failure === 'build.invalid', String(err));
        return err.message;
      }
      return assert.fail('a faulty signature passed');
    };
    try {
      useSignatureWork({ ...threadPoolWork, signAndVerify: async (hash, data, key) => ({ signature: await threadPoolWork.sign(hash, data, key), verified: false }) });
      assert.match(await refused(), /signature does not verify with the CA key/);
    } finally {
      useSignatureWork(threadPoolWork);
    }
  });
});
