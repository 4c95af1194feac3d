/**
 * Every ParsedCertificate field, checked against what openssl (and, for the
 * SAN IP format, node) reports for the same freshly generated certificate.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { isExpired, parseCertificate, parseCertificateChain, type ParsedCertificate } from '../../src/pki/index.js';
import { inspectCert, KEY_ALGS, makeChain, makeLeaf, makeSm2DualPair, makeV1Leaf, openssl, type KeyAlg } from '../support/openssl.js';

/** openssl's signature algorithm names → Go's, which the toolkit reports. */
const GO_SIGNATURE_NAMES: Record<string, string> = {
  sha1WithRSAEncryption: 'SHA1-RSA',
  sha256WithRSAEncryption: 'SHA256-RSA',
  sha384WithRSAEncryption: 'SHA384-RSA',
  sha512WithRSAEncryption: 'SHA512-RSA',
  'ecdsa-with-SHA256': 'ECDSA-SHA256',
  'ecdsa-with-SHA384': 'ECDSA-SHA384',
  'ecdsa-with-SHA512': 'ECDSA-SHA512',
  ED25519: 'Ed25519',
  'SM2-with-SM3': 'SM2-SM3',
};

const OPENSSL_KEY_USAGE: Record<string, string> = {
  'Digital Signature': 'digitalSignature',
  'Non Repudiation': 'nonRepudiation',
  'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment',
  'Key Agreement': 'keyAgreement',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
};

const EXPECTED_KEY: Record<KeyAlg, { algorithm: string; curve?: string; bits?: number; signature: string }> = {
  rsa: { algorithm: 'RSA', bits: 2048, signature: 'SHA256-RSA' },
  p256: { algorithm: 'EC', curve: 'P-256', signature: 'ECDSA-SHA256' },
  p384: { algorithm: 'EC', curve: 'P-384', signature: 'ECDSA-SHA384' },
  ed25519: { algorithm: 'Ed25519', signature: 'Ed25519' },
  sm2: { algorithm: 'SM2', curve: 'SM2', signature: 'SM2-SM3' },
};

/** Assert every field that openssl can tell us about. */
function assertMatchesOpenssl(cert: ParsedCertificate, pem: string): void {
  const o = inspectCert(pem);
  assert.equal(cert.serialNumber.hex, o.serialHex.toLowerCase().replace(/^0+(?=.)/, ''));
  assert.equal(cert.serialNumber.decimal, BigInt('0x' + o.serialHex).toString(10));
  assert.equal(cert.notBefore.getTime(), o.notBefore.getTime());
  assert.equal(cert.notAfter.getTime(), o.notAfter.getTime());
  assert.equal(cert.fingerprintSha256, o.fingerprintSha256);
  assert.equal(cert.subjectText, o.subject);
  assert.equal(cert.issuerText, o.issuer);
  assert.equal(cert.version, o.version);
  assert.equal(cert.isCA, o.isCA);
  assert.deepEqual(cert.publicKey.spki, o.spki);
  assert.deepEqual(cert.keyUsage, o.keyUsage.map((u) => OPENSSL_KEY_USAGE[u] ?? u));
  const san = (prefix: string) => o.subjectAltName.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
  assert.deepEqual(cert.dnsNames, san('DNS:'));
  assert.deepEqual(cert.ipAddresses, san('IP Address:'));
  assert.deepEqual(cert.emailAddresses, san('email:'));
  assert.deepEqual(cert.uris, san('URI:'));
  const pss = /Hash Algorithm: sha(\d+)/.exec(o.text);
  const expectedSig = o.signatureAlgorithm === 'rsassaPss' && pss ? `SHA${pss[1]}-RSAPSS` : GO_SIGNATURE_NAMES[o.signatureAlgorithm];
  assert.equal(cert.signatureAlgorithm, expectedSig);
}

describe('parseCertificate fields agree with openssl', () => {
  for (const alg of KEY_ALGS) {
    it(`${alg}: leaf, intermediate and root`, () => {
      const chain = makeChain(alg);
      const parsed = parseCertificateChain(chain.fullChainPem);
      assert.equal(parsed.length, 3);
      [chain.leaf, chain.intermediate, chain.root].forEach((issued, i) => assertMatchesOpenssl(parsed[i]!, issued.certPem));
      const [leaf, intermediate, root] = parsed as [ParsedCertificate, ParsedCertificate, ParsedCertificate];
      const want = EXPECTED_KEY[alg];
      assert.equal(leaf.publicKey.algorithm, want.algorithm);
      assert.equal(leaf.publicKey.curve, want.curve);
      if (want.bits) assert.equal(leaf.publicKey.bits, want.bits);
      assert.equal(leaf.signatureAlgorithm, want.signature);
      assert.equal(leaf.commonName, `${alg}.example.com`);
      assert.deepEqual(leaf.dnsNames, [`${alg}.example.com`]);
      assert.equal(leaf.isCA, false);
      assert.equal(intermediate.isCA, true);
      assert.equal(root.isCA, true);
      assert.deepEqual(root.keyUsage, ['keyCertSign', 'cRLSign']);
      assert.equal(leaf.version, 3);
      assert.equal(leaf.pem, chain.leaf.certPem);
      assert.deepEqual(leaf.der, new X509Certificate(chain.leaf.certPem).raw);
    });
  }

  it('Chinese subject attributes (UTF8String) and SM2 dual-certificate key usages', () => {
    const { sign, enc } = makeSm2DualPair();
    for (const issued of [sign, enc]) {
      const cert = parseCertificate(issued.certPem);
      assertMatchesOpenssl(cert, issued.certPem);
      assert.deepEqual(cert.subject, {
        commonName: ['sm2-dual.example.cn'],
        organization: ['测试公司'],
        organizationalUnit: ['运维'],
        locality: ['海淀'],
        state: ['北京'],
        country: ['CN'],
      });
      assert.equal(cert.subjectText, 'CN=sm2-dual.example.cn,OU=运维,O=测试公司,L=海淀,ST=北京,C=CN');
    }
    assert.deepEqual(parseCertificate(sign.certPem).keyUsage, ['digitalSignature', 'nonRepudiation']);
    assert.deepEqual(parseCertificate(enc.certPem).keyUsage, ['keyEncipherment', 'dataEncipherment', 'keyAgreement']);
  });

  it('BMPString and PrintableString subjects decode to the same text', () => {
    const { intermediate } = makeChain('p256');
    const issued = makeLeaf({ issuer: intermediate, subject: '/C=CN/O=测试公司/OU=Ops/CN=bmp.example.cn', stringMask: 'default' });
    assert.match(openssl(['asn1parse'], issued.certPem), /BMPSTRING/, 'OpenSSL chose BMPString for the Chinese O');
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.deepEqual(cert.subject.organization, ['测试公司']);
    assert.deepEqual(cert.subject.organizationalUnit, ['Ops']);
    assert.equal(cert.subjectText, 'CN=bmp.example.cn,OU=Ops,O=测试公司,C=CN');
  });

  it('SAN of every kind, in certificate order, IPv6 as node prints it', () => {
    const { intermediate } = makeChain('rsa');
    const sans = ['DNS:b.example.com', 'IP:192.0.2.7', 'DNS:a.example.com', 'IP:2001:db8::1', 'email:ops@example.com', 'URI:https://example.com/x', 'DNS:*.example.com'];
    const issued = makeLeaf({ issuer: intermediate, cn: 'b.example.com', sans });
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.deepEqual(cert.dnsNames, ['b.example.com', 'a.example.com', '*.example.com']);
    assert.deepEqual(cert.ipAddresses, ['192.0.2.7', '2001:DB8:0:0:0:0:0:1']);
    assert.deepEqual(cert.emailAddresses, ['ops@example.com']);
    assert.deepEqual(cert.uris, ['https://example.com/x']);
    const nodeIps = new X509Certificate(issued.certPem).subjectAltName!.split(', ').filter((s) => s.startsWith('IP Address:'));
    assert.deepEqual(cert.ipAddresses, nodeIps.map((s) => s.slice('IP Address:'.length)));
  });

  it('certificate without SAN', () => {
    const { intermediate } = makeChain('p256');
    const issued = makeLeaf({ issuer: intermediate, cn: 'nosan.example.com', sans: [] });
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.deepEqual([cert.dnsNames, cert.ipAddresses, cert.emailAddresses], [[], [], []]);
    assert.equal(cert.commonName, 'nosan.example.com');
  });

  it('version 1 certificate: no extensions at all', () => {
    const { intermediate } = makeChain('rsa');
    const issued = makeV1Leaf({ issuer: intermediate, cn: 'v1.example.com' });
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.equal(cert.version, 1);
    assert.deepEqual(cert.keyUsage, []);
    assert.equal(cert.isCA, false);
  });

  it('expired certificate and isExpired with an injected clock', () => {
    const { intermediate } = makeChain('p256');
    const issued = makeLeaf({ issuer: intermediate, expired: true });
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.equal(cert.notBefore.toISOString(), '2020-01-01T00:00:00.000Z');
    assert.equal(cert.notAfter.toISOString(), '2020-02-01T00:00:00.000Z');
    assert.equal(isExpired(cert, new Date('2020-02-01T00:00:00Z')), false, 'notAfter itself is still valid');
    assert.equal(isExpired(cert, new Date('2020-02-01T00:00:01Z')), true);
    assert.equal(isExpired(cert, new Date('2020-01-15T00:00:00Z')), false);
  });

  it('dates from 2050 on (GeneralizedTime)', () => {
    const { intermediate } = makeChain('p256');
    const issued = makeLeaf({ issuer: intermediate, notAfter: new Date('2051-06-01T12:34:56Z') });
    const cert = parseCertificate(issued.certPem);
    assertMatchesOpenssl(cert, issued.certPem);
    assert.equal(cert.notAfter.toISOString(), '2051-06-01T12:34:56.000Z');
  });

  it('serial numbers: high bit set, leading zero nibble, tiny', () => {
    const { intermediate } = makeChain('p256');
    for (const [serialHex, hex, decimal] of [
      ['00C0FFEE', 'c0ffee', '12648430'],
      ['0A0B', 'a0b', '2571'],
      ['01', '1', '1'],
    ] as const) {
      const issued = makeLeaf({ issuer: intermediate, serialHex });
      const cert = parseCertificate(issued.certPem);
      assertMatchesOpenssl(cert, issued.certPem);
      assert.deepEqual(cert.serialNumber, { hex, decimal });
    }
  });

  it('signature algorithm names for other RSA digests and RSASSA-PSS', () => {
    const { intermediate } = makeChain('rsa');
    const cases = [
      [{ md: 'sha384' }, 'SHA384-RSA'],
      [{ md: 'sha512' }, 'SHA512-RSA'],
      [{ md: 'sha256', rsaPss: true }, 'SHA256-RSAPSS'],
      [{ md: 'sha384', rsaPss: true }, 'SHA384-RSAPSS'],
    ] as const;
    for (const [opts, name] of cases) {
      const issued = makeLeaf({ issuer: intermediate, alg: 'p256', ...opts });
      const cert = parseCertificate(issued.certPem);
      assertMatchesOpenssl(cert, issued.certPem);
      assert.equal(cert.signatureAlgorithm, name);
    }
  });

  it('results are plain data: JSON round-trip keeps every public field', () => {
    const cert = parseCertificate(makeChain('rsa').leaf.certPem);
    const json = JSON.parse(JSON.stringify(cert)) as Record<string, unknown>;
    assert.equal(json.fingerprintSha256, cert.fingerprintSha256);
    assert.deepEqual(Object.keys(json).sort(), Object.keys(cert).sort());
  });
});
