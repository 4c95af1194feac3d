/**
 * Certificates built from the profiles, judged by openssl: `verify
 * -x509_strict` accepts the chain, `x509 -text` shows exactly the profile's
 * extensions, and the toolkit's own parser reads every field back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCertificate,
  checkChainOrder,
  issuerFromCertificate,
  issuerFromKey,
  newSerial,
  parseCertificate,
  PkiError,
  verifiesWith,
  type CertificateFields,
  type PkiFailure,
} from '../../src/pki/index.js';
import {
  CLIENT_PROFILE,
  colonHex,
  opensslExtensions,
  opensslKeyHash,
  opensslOk,
  runOpenssl,
  scratch,
  testCa,
  testKey,
  testLeaf,
  TEST_KEY_ALGS,
  type TestCa,
} from '../support/pki.js';

const OPENSSL_SIGNATURE = { rsa: 'sha256WithRSAEncryption', p256: 'ecdsa-with-SHA256', p384: 'ecdsa-with-SHA384' } as const;

function opensslText(path: string): string {
  return opensslOk(['x509', '-in', path, '-noout', '-text', '-nameopt', 'RFC2253,-esc_msb']);
}

function assertRefused(fn: () => unknown, failure: PkiFailure, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof PkiError && err.failure === failure && pattern.test(err.message));
}

describe('clientCa root', () => {
  for (const alg of TEST_KEY_ALGS) {
    it(`${alg}: self-signed, CA:TRUE pathlen 0, exactly its extensions`, () => {
      const ca = testCa(alg);
      const text = opensslText(ca.certPath);
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, new RegExp(`Signature Algorithm: ${OPENSSL_SIGNATURE[alg]}`));
      assert.match(text, new RegExp(`Issuer: CN=Test Client CA ${alg},O=certplane\\n`));
      assert.match(text, new RegExp(`Subject: CN=Test Client CA ${alg},O=certplane\\n`));
      const ext = opensslExtensions(text);
      assert.deepEqual([...ext.keys()], ['X509v3 Basic Constraints', 'X509v3 Key Usage', 'X509v3 Subject Key Identifier']);
      assert.deepEqual(ext.get('X509v3 Basic Constraints'), { critical: true, value: 'CA:TRUE, pathlen:0' });
      assert.deepEqual(ext.get('X509v3 Key Usage'), { critical: true, value: 'Digital Signature, Certificate Sign, CRL Sign' });
      assert.deepEqual(ext.get('X509v3 Subject Key Identifier'), { critical: false, value: colonHex(opensslKeyHash(ca.certPath)) });
      const self = runOpenssl(['verify', '-x509_strict', '-CAfile', ca.certPath, ca.certPath]);
      assert.equal(self.status, 0, self.output);
    });
  }
});

/** What `openssl x509 -text` must show for a leaf from `ca` with a key of `leafAlg`. */
function assertLeafExtensions(ca: TestCa, leafPath: string, rsaKey: boolean): void {
  const ext = opensslExtensions(opensslText(leafPath));
  assert.deepEqual([...ext.keys()], [
    'X509v3 Basic Constraints',
    'X509v3 Key Usage',
    'X509v3 Extended Key Usage',
    'X509v3 Subject Key Identifier',
    'X509v3 Authority Key Identifier',
    'X509v3 CRL Distribution Points',
    'Authority Information Access',
  ]);
  assert.deepEqual(ext.get('X509v3 Basic Constraints'), { critical: true, value: 'CA:FALSE' });
  assert.deepEqual(ext.get('X509v3 Key Usage'), { critical: true, value: rsaKey ? 'Digital Signature, Key Encipherment' : 'Digital Signature' });
  assert.deepEqual(ext.get('X509v3 Extended Key Usage'), { critical: false, value: 'TLS Web Client Authentication' });
  assert.deepEqual(ext.get('X509v3 Subject Key Identifier'), { critical: false, value: colonHex(opensslKeyHash(leafPath)) });
  assert.deepEqual(ext.get('X509v3 Authority Key Identifier'), { critical: false, value: colonHex(opensslKeyHash(ca.certPath)) });
  assert.deepEqual(ext.get('X509v3 CRL Distribution Points'), { critical: false, value: `Full Name:\nURI:${CLIENT_PROFILE.crlUrl}` });
  assert.deepEqual(ext.get('Authority Information Access'), { critical: false, value: `OCSP - URI:${CLIENT_PROFILE.ocspUrl}` });
}

describe('clientAuth leaf', () => {
  for (const caAlg of TEST_KEY_ALGS) {
    for (const leafAlg of TEST_KEY_ALGS) {
      it(`${caAlg} CA, ${leafAlg} key: openssl verify -x509_strict and the profile's extensions`, () => {
        const ca = testCa(caAlg);
        const leaf = testLeaf(ca, testKey(leafAlg), { cn: `client-${leafAlg}` });
        const verify = runOpenssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', ca.certPath, leaf.path]);
        assert.equal(verify.status, 0, verify.output);
        assert.match(verify.stdout, /: OK\n$/);
        assertLeafExtensions(ca, leaf.path, leafAlg === 'rsa');
        const text = opensslText(leaf.path);
        assert.match(text, new RegExp(`Signature Algorithm: ${OPENSSL_SIGNATURE[caAlg]}`));
        assert.match(text, new RegExp(`Subject: CN=client-${leafAlg},O=Example\\n`));
      });
    }
  }

  it('openssl refuses it as a server certificate and refuses it under another CA', () => {
    const ca = testCa('p256');
    const leaf = testLeaf(ca, testKey('p256'));
    const asServer = runOpenssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', ca.certPath, leaf.path]);
    assert.notEqual(asServer.status, 0);
    assert.match(asServer.output, /unsuitable certificate purpose/);
    const other = testCa('p256', 'Another CA');
    const wrongCa = runOpenssl(['verify', '-x509_strict', '-CAfile', other.certPath, leaf.path]);
    assert.notEqual(wrongCa.status, 0);
    assert.match(wrongCa.output, /unable to get local issuer certificate/);
  });

  it('parseCertificate reads every field back; the chain checks pass', () => {
    const ca = testCa('p384');
    const key = testKey('rsa');
    const serial = newSerial();
    const notBefore = new Date('2026-01-02T03:04:05.678Z');
    const notAfter = new Date('2050-06-07T08:09:10Z'); // GeneralizedTime from 2050 on
    const fields: CertificateFields = {
      subject: { country: 'CN', state: '浙江', locality: 'Hangzhou', organization: ['Example', 'Example 测试'], organizationalUnit: 'Ops', commonName: 'device-7' },
      subjectSpki: key.spki,
      serial,
      notBefore,
      notAfter,
    };
    const built = buildCertificate(ca.issuer, CLIENT_PROFILE, fields);
    const cert = parseCertificate(built.pem);
    assert.deepEqual(cert.der, built.der);
    assert.equal(cert.serialNumber.hex, serial.toString('hex'));
    assert.equal(cert.notBefore.toISOString(), '2026-01-02T03:04:05.000Z');
    assert.equal(cert.notAfter.toISOString(), '2050-06-07T08:09:10.000Z');
    assert.deepEqual(cert.subject, {
      commonName: ['device-7'],
      organization: ['Example', 'Example 测试'],
      organizationalUnit: ['Ops'],
      locality: ['Hangzhou'],
      state: ['浙江'],
      country: ['CN'],
    });
    assert.equal(cert.subjectText, 'CN=device-7,OU=Ops,O=Example 测试,O=Example,L=Hangzhou,ST=浙江,C=CN');
    assert.equal(cert.issuerText, 'CN=Test Client CA p384,O=certplane');
    assert.equal(cert.commonName, 'device-7');
    assert.equal(cert.version, 3);
    assert.equal(cert.signatureAlgorithm, 'ECDSA-SHA384');
    assert.equal(cert.signatureAlgorithm, ca.issuer.scheme.name);
    assert.equal(cert.isCA, false);
    assert.deepEqual(cert.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(cert.publicKey.spki, key.spki);
    assert.equal(cert.publicKey.bits, 2048);
    assert.deepEqual([cert.dnsNames, cert.ipAddresses, cert.emailAddresses, cert.uris], [[], [], [], []]);
    const caCert = parseCertificate(ca.cert.pem);
    assert.equal(caCert.isCA, true);
    assert.deepEqual(caCert.keyUsage, ['digitalSignature', 'keyCertSign', 'cRLSign']);
    assert.ok(verifiesWith(cert, caCert));
    checkChainOrder([cert, caCert]);
    const dates = opensslOk(['x509', '-in', scratch('leaf.pem', built.pem), '-noout', '-dates', '-serial']);
    assert.match(dates, /notAfter=Jun {2}7 08:09:10 2050 GMT/);
    assert.match(dates, new RegExp(`serial=${serial.toString('hex').toUpperCase()}`));
  });

  it('key usage follows the key: RSA adds keyEncipherment, EC does not', () => {
    const ca = testCa('p256');
    assert.deepEqual(parseCertificate(testLeaf(ca, testKey('rsa')).pem).keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(parseCertificate(testLeaf(ca, testKey('p256')).pem).keyUsage, ['digitalSignature']);
    assert.deepEqual(parseCertificate(testLeaf(ca, testKey('p384')).pem).keyUsage, ['digitalSignature']);
  });
});

describe('ocspResponder certificate', () => {
  it('is accepted by openssl as an OCSP helper and carries OCSP Signing and No Check', () => {
    const ca = testCa('p256');
    const now = Date.now();
    const cert = buildCertificate(ca.issuer, { kind: 'ocspResponder' }, {
      subject: { organization: 'certplane', commonName: 'OCSP responder' },
      subjectSpki: testKey('p256', true).spki,
      serial: newSerial(),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 7 * 86400_000),
    });
    const path = scratch('responder.pem', cert.pem);
    const verify = runOpenssl(['verify', '-x509_strict', '-purpose', 'ocsphelper', '-CAfile', ca.certPath, path]);
    assert.equal(verify.status, 0, verify.output);
    const ext = opensslExtensions(opensslText(path));
    assert.deepEqual(ext.get('X509v3 Extended Key Usage'), { critical: false, value: 'OCSP Signing' });
    assert.deepEqual(ext.get('OCSP No Check'), { critical: false, value: '' });
    assert.deepEqual(ext.get('X509v3 Key Usage'), { critical: true, value: 'Digital Signature' });
  });
});

describe('serials and issuers', () => {
  it('newSerial: 16 octets, positive, DER-minimal, 126 random bits, no repeats', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = newSerial();
      assert.equal(s.length, 16);
      assert.equal(s[0]! >> 6, 0b01);
      seen.add(s.toString('hex'));
    }
    assert.equal(seen.size, 2000);
    // Every bit below the top two varies across the sample.
    const or = Buffer.alloc(16);
    const and = Buffer.alloc(16, 0xff);
    for (const hex of seen) {
      const b = Buffer.from(hex, 'hex');
      for (let i = 0; i < 16; i++) {
        or[i]! |= b[i]!;
        and[i]! &= b[i]!;
      }
    }
    assert.equal(or.toString('hex'), '7f' + 'ff'.repeat(15));
    assert.equal(and.toString('hex'), '40' + '00'.repeat(15));
  });

  it('issuerFromCertificate: the same issuer as the one that built the CA; a foreign key is refused', () => {
    const ca = testCa('rsa');
    const loaded = issuerFromCertificate(ca.cert.pem, ca.key.privateKey);
    assert.deepEqual(loaded.name, ca.issuer.name);
    assert.deepEqual(loaded.keyId, ca.issuer.keyId);
    assert.deepEqual(loaded.spki, ca.issuer.spki);
    const leaf = buildCertificate(loaded, CLIENT_PROFILE, { subject: { commonName: 'x' }, subjectSpki: testKey('p256').spki, serial: newSerial(), notBefore: new Date(), notAfter: new Date(Date.now() + 3600_000) });
    assert.equal(runOpenssl(['verify', '-x509_strict', '-CAfile', ca.certPath, scratch('leaf.pem', leaf.pem)]).status, 0);
    assertRefused(() => issuerFromCertificate(ca.cert.der, testKey('rsa', true).privateKey), 'key.invalid', /does not belong to the certificate/);
  });

  it('refuses what it cannot sign or encode', () => {
    const ca = testCa('p256');
    const base: CertificateFields = { subject: { commonName: 'x' }, subjectSpki: testKey('p256').spki, serial: newSerial(), notBefore: new Date(), notAfter: new Date(Date.now() + 3600_000) };
    const build = (over: Partial<CertificateFields>) => () => buildCertificate(ca.issuer, CLIENT_PROFILE, { ...base, ...over });
    assertRefused(build({ serial: Buffer.from([0, 0]) }), 'build.invalid', /must not be zero/);
    assertRefused(build({ serial: Buffer.alloc(20, 0xff) }), 'build.invalid', /21 octets; at most 20/);
    assertRefused(build({ notAfter: base.notBefore }), 'build.invalid', /must be later than notBefore/);
    assertRefused(build({ subject: {} }), 'build.invalid', /subject name is empty/);
    assertRefused(build({ subject: { commonName: 'x'.repeat(65) } }), 'build.invalid', /commonName must be 1 to 64 characters/);
    assertRefused(build({ subject: { country: 'China' } }), 'build.invalid', /must be 1 to 2 characters/);
    assertRefused(build({ subjectSpki: testKey('ed25519').spki }), 'key.unsupported', /Ed25519 are not supported/);
    assertRefused(build({ subjectSpki: Buffer.from('3000', 'hex') }), 'build.invalid', /expected AlgorithmIdentifier/);
    assertRefused(() => buildCertificate(ca.issuer, { kind: 'clientAuth', crlUrl: 'ldap://x/', ocspUrl: 'http://x/' }, base), 'build.invalid', /not an http\(s\) URL/);
    assertRefused(() => buildCertificate(ca.issuer, { kind: 'clientCa' }, { ...base, subject: { commonName: 'other' } }), 'build.invalid', /subject must be the issuer name/);
    assertRefused(() => issuerFromKey(testKey('ed25519').privateKey, { commonName: 'x' }), 'key.unsupported', /ed25519 are not supported/);
    assertRefused(() => issuerFromKey(testKey('secp256k1').privateKey, { commonName: 'x' }), 'key.unsupported', /curve secp256k1/);
    assertRefused(() => issuerFromKey(testKey('rsa1024').privateKey, { commonName: 'x' }), 'key.unsupported', /RSA signing key of 1024 bits: at least 2048/);
  });
});
