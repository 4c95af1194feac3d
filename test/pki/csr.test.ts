/**
 * CSRs made by `openssl req`, read by parseCsr and compared with what openssl
 * says about them; and every way a CSR is refused, each with its reason.
 * openssl's own signature check is consulted only for what it prints: it exits
 * 0 on a bad signature (OpenSSL 3.0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignatureThread } from '../../src/adapters/crypto/signature-thread.js';
import { buildCertificate, newSerial, parseCsr, parseCsrAsync, PkiError, threadPoolWork, useSignatureWork, type CsrPolicy } from '../../src/pki/index.js';
import { encodePem } from '../../src/pki/pem.js';
import { makeCsr, opensslOk, pemToDer, runOpenssl, scratch, testCa, testKey, TEST_KEY_ALGS } from '../support/pki.js';

const NO_NAMES = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] };

function refusal(input: string | Uint8Array, policy?: CsrPolicy): string {
  try {
    parseCsr(input, policy);
  } catch (err) {
    assert.ok(err instanceof PkiError, `expected PkiError, got ${String(err)}`);
    assert.equal(err.failure, 'csr.invalid', err.message);
    return err.message;
  }
  return assert.fail('the CSR was accepted');
}

const EXPECTED = {
  rsa: { algorithm: 'RSA', curve: undefined, bits: 2048, signature: 'SHA256-RSA' },
  p256: { algorithm: 'EC', curve: 'P-256', bits: 256, signature: 'ECDSA-SHA256' },
  p384: { algorithm: 'EC', curve: 'P-384', bits: 384, signature: 'ECDSA-SHA256' },
} as const;

/** openssl's view of a CSR: RFC 2253 subject and the public key as DER. */
function opensslView(csrPem: string): { subject: string; spki: Buffer } {
  const out = opensslOk(['req', '-in', scratch('csr.pem', csrPem), '-noout', '-subject', '-pubkey', '-nameopt', 'RFC2253,-esc_msb']);
  const subject = /^subject=(.*)$/m.exec(out)![1]!;
  const pub = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(out)![0];
  return { subject, spki: Buffer.from(pub.replace(/-----[^-]+-----|\s/g, ''), 'base64') };
}

describe('parseCsr reads what openssl req writes', () => {
  for (const alg of TEST_KEY_ALGS) {
    it(`${alg}: subject, CN, key, signature algorithm`, () => {
      const key = testKey(alg);
      const pem = makeCsr(key, { subject: '/C=CN/ST=Zhejiang/O=Example 测试/OU=Ops/CN=device-42.example' });
      const csr = parseCsr(pem);
      const want = EXPECTED[alg];
      const view = opensslView(pem);
      assert.equal(csr.subjectText, view.subject);
      assert.equal(csr.commonName, 'device-42.example');
      assert.deepEqual(csr.subject.organization, ['Example 测试']);
      assert.deepEqual(csr.subject.country, ['CN']);
      assert.equal(csr.publicKey.algorithm, want.algorithm);
      assert.equal(csr.publicKey.curve, want.curve);
      assert.equal(csr.publicKey.bits, want.bits);
      assert.deepEqual(csr.publicKey.spki, view.spki);
      assert.deepEqual(csr.publicKey.spki, key.spki);
      assert.equal(csr.signatureAlgorithm, want.signature);
      assert.deepEqual(csr.requestedExtensions, { oids: [], critical: [], ca: false, subjectAltNames: NO_NAMES });
      assert.deepEqual(csr.der, pemToDer(pem, 'req'));
    });
  }

  it('the subject DER copies into a certificate unchanged (openssl prints the same subject)', () => {
    const pem = makeCsr(testKey('p256'), { subject: '/O=Example 测试/OU=Ops+UID=7/CN=copy.example' });
    const csr = parseCsr(pem);
    const ca = testCa('p256');
    const now = Date.now();
    const cert = buildCertificate(ca.issuer, { kind: 'clientAuth', crlUrl: 'http://x.example/c.crl', ocspUrl: 'http://x.example/ocsp' }, {
      subject: csr.subjectName.der,
      subjectSpki: csr.publicKey.spki,
      serial: newSerial(),
      notBefore: new Date(now),
      notAfter: new Date(now + 86400_000),
    });
    const out = opensslOk(['x509', '-in', scratch('cert.pem', cert.pem), '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']);
    assert.equal(out.trim(), `subject=${opensslView(pem).subject}`);
  });

  it('RSASSA-PSS, SHA-384/512 and RSA 4096 signatures verify', () => {
    const rsa = testKey('rsa');
    assert.equal(parseCsr(makeCsr(rsa, { pss: true })).signatureAlgorithm, 'SHA256-RSAPSS');
    assert.equal(parseCsr(makeCsr(rsa, { pss: true, digest: 'sha384' })).signatureAlgorithm, 'SHA384-RSAPSS');
    assert.equal(parseCsr(makeCsr(rsa, { digest: 'sha512' })).signatureAlgorithm, 'SHA512-RSA');
    assert.equal(parseCsr(makeCsr(testKey('p384'), { digest: 'sha384' })).signatureAlgorithm, 'ECDSA-SHA384');
    const big = parseCsr(makeCsr(testKey('rsa4096')));
    assert.equal(big.publicKey.bits, 4096);
  });

  it('PEM as bytes, with CRLF, and the legacy NEW CERTIFICATE REQUEST label', () => {
    const pem = makeCsr(testKey('p256'));
    assert.equal(parseCsr(Buffer.from(pem.replace(/\n/g, '\r\n'))).commonName, 'client.example');
    assert.equal(parseCsr(pem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST')).commonName, 'client.example');
  });

  it('requested extensions are reported (CA:true among them), never trusted', () => {
    const pem = makeCsr(testKey('p256'), {
      addext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign', 'subjectAltName=DNS:evil.example'],
    });
    const csr = parseCsr(pem);
    assert.deepEqual(csr.requestedExtensions, {
      oids: ['2.5.29.19', '2.5.29.15', '2.5.29.17'],
      critical: ['2.5.29.19', '2.5.29.15'],
      ca: true,
      subjectAltNames: { ...NO_NAMES, dnsNames: ['evil.example'] },
    });
    const notCa = parseCsr(makeCsr(testKey('p256'), { addext: ['basicConstraints=CA:FALSE'] }));
    assert.deepEqual(notCa.requestedExtensions, { oids: ['2.5.29.19'], critical: [], ca: false, subjectAltNames: NO_NAMES });
  });

  it('reports the subjectAltName request exactly as encoded, every kind of name apart', () => {
    const csr = parseCsr(makeCsr(testKey('p256'), { addext: ['subjectAltName=DNS:a.example,DNS:B.Example.,IP:192.0.2.1,email:x@example.org,URI:https://example.org/'] }));
    assert.deepEqual(csr.requestedExtensions.subjectAltNames, {
      dnsNames: ['a.example', 'B.Example.'],
      ipAddresses: ['192.0.2.1'],
      emailAddresses: ['x@example.org'],
      uris: ['https://example.org/'],
    });
  });
});

/** The same CSR with one byte of the signed part changed, re-armoured. */
function tampered(pem: string, find: string, replace: string): string {
  const der = pemToDer(pem, 'req');
  const at = der.indexOf(find);
  assert.ok(at > 0);
  const bad = Buffer.from(der);
  bad.write(replace, at, 'latin1');
  return encodePem('CERTIFICATE REQUEST', bad);
}

describe('parseCsr refuses, saying why', () => {
  it('bad signature: an altered subject (openssl prints a verify failure yet exits 0)', () => {
    for (const alg of TEST_KEY_ALGS) {
      const bad = tampered(makeCsr(testKey(alg)), 'client.example', 'Client.example');
      const openssl = runOpenssl(['req', '-in', scratch('bad.pem', bad), '-verify', '-noout']);
      assert.match(openssl.output, /verify failure/);
      assert.match(refusal(bad), /^bad signature: the CSR signature does not verify/);
    }
  });

  it('bad signature: signed by another key of the same kind', () => {
    const pem = makeCsr(testKey('p256'));
    const der = pemToDer(pem, 'req');
    const other = testKey('p256', true).spki;
    const at = der.indexOf(testKey('p256').spki);
    const swapped = Buffer.concat([der.subarray(0, at), other, der.subarray(at + other.length)]);
    assert.match(refusal(encodePem('CERTIFICATE REQUEST', swapped)), /^bad signature/);
  });

  it('bad signature: SHA-1', () => {
    assert.match(refusal(makeCsr(testKey('rsa'), { digest: 'sha1' })), /^bad signature: the CSR is signed with SHA1-RSA, which is not accepted/);
  });

  it('unsupported key: RSA below or above the limits, Ed25519', () => {
    assert.equal(refusal(makeCsr(testKey('rsa1024'))), 'unsupported key: RSA 1024 bits: at least 2048');
    assert.equal(refusal(makeCsr(testKey('rsa')), { rsaMaxBits: 2047 }), 'unsupported key: RSA 2048 bits: at most 2047');
    assert.match(refusal(makeCsr(testKey('ed25519'))), /^unsupported key: Ed25519; accepted: RSA 2048–4096 bits, ECDSA P-256, P-384$/);
  });

  it('unsupported curve: secp256k1, and P-521 unless the policy allows it', () => {
    assert.equal(refusal(makeCsr(testKey('secp256k1'))), 'unsupported curve: secp256k1 (1.3.132.0.10); accepted: P-256, P-384');
    const p521 = makeCsr(testKey('p521'));
    assert.equal(refusal(p521), 'unsupported curve: P-521 (1.3.132.0.35); accepted: P-256, P-384');
    assert.equal(parseCsr(p521, { curves: ['P-521'] }).publicKey.curve, 'P-521');
    assert.match(refusal(makeCsr(testKey('p384')), { curves: ['P-256'] }), /^unsupported curve: P-384/);
  });

  it('oversized input: 100 KB of junk, before anything is parsed', () => {
    assert.equal(refusal('A'.repeat(100 * 1024)), 'oversized input: 102400 bytes; a CSR may be at most 16384');
    assert.match(refusal(makeCsr(testKey('p256')), { maxBytes: 100 }), /^oversized input/);
  });

  it('not a CSR: DER, bare base64, a certificate, garbage, broken DER inside the armour', () => {
    const pem = makeCsr(testKey('p256'));
    const der = pemToDer(pem, 'req');
    assert.match(refusal(der), /^not a CSR: input is binary DER/);
    assert.match(refusal(der.toString('base64')), /^not a CSR: input is base64 DER without PEM armour/);
    assert.match(refusal(testCa('p256').cert.pem), /^not a CSR: no CERTIFICATE REQUEST PEM block found \(found: CERTIFICATE\)/);
    assert.match(refusal('hello, this is not a request'), /^not a CSR: input is not PEM/);
    assert.match(refusal(pem + pem), /^not a CSR: expected one CSR, found 2/);
    assert.match(refusal(encodePem('CERTIFICATE REQUEST', der.subarray(0, der.length - 10))), /^not a CSR: /);
    assert.match(refusal(encodePem('CERTIFICATE REQUEST', Buffer.from('30030201ff', 'hex'))), /^not a CSR: /);
  });
});

const signingThread = new SignatureThread();
after(() => signingThread.stop());

for (const [where, work] of [['signature verified on the thread pool', threadPoolWork], ['signature verified on a signing thread', signingThread]] as const) describe(`parseCsrAsync (${where}) answers as parseCsr does`, () => {
  before(() => useSignatureWork(work));
  after(() => useSignatureWork(threadPoolWork));

  async function asyncRefusal(input: string | Uint8Array, policy?: CsrPolicy): Promise<string> {
    try {
      await parseCsrAsync(input, policy);
    } catch (err) {
      assert.ok(err instanceof PkiError, `expected PkiError, got ${String(err)}`);
      assert.equal(err.failure, 'csr.invalid', err.message);
      return err.message;
    }
    return assert.fail('the CSR was accepted');
  }

  it('the same fields for good CSRs of every key type, PEM or DER, RSA-PSS and requested extensions included', async () => {
    const good = [
      ...TEST_KEY_ALGS.map((alg) => makeCsr(testKey(alg))),
      makeCsr(testKey('rsa'), { pss: true }),
      makeCsr(testKey('p256'), { addext: ['basicConstraints=critical,CA:TRUE', 'subjectAltName=DNS:a.example,IP:192.0.2.1'] }),
    ];
    for (const pem of good) {
      assert.deepEqual(await parseCsrAsync(pem), parseCsr(pem));
      const der = new Uint8Array(pemToDer(pem, 'req'));
      const fromDer = await parseCsrAsync(der).catch((err: unknown) => err);
      const syncDer = (() => {
        try {
          return parseCsr(der);
        } catch (err) {
          return err;
        }
      })();
      assert.deepEqual(fromDer, syncDer);
    }
  });

  it('the same refusal, word for word, for each kind of bad CSR', async () => {
    const pem = makeCsr(testKey('p256'));
    const der = pemToDer(pem, 'req');
    const other = testKey('p256', true).spki;
    const at = der.indexOf(testKey('p256').spki);
    const swapped = encodePem('CERTIFICATE REQUEST', Buffer.concat([der.subarray(0, at), other, der.subarray(at + other.length)]));
    const cases: Array<[string | Uint8Array, CsrPolicy?]> = [
      [tampered(makeCsr(testKey('rsa')), 'client.example', 'Client.example')],
      [tampered(pem, 'client.example', 'Client.example')],
      [swapped],
      [makeCsr(testKey('rsa'), { digest: 'sha1' })],
      [makeCsr(testKey('rsa1024'))],
      [makeCsr(testKey('secp256k1'))],
      [makeCsr(testKey('p384')), { curves: ['P-256'] }],
      ['A'.repeat(100 * 1024)],
      [der],
      ['hello, this is not a request'],
      [encodePem('CERTIFICATE REQUEST', der.subarray(0, der.length - 10))],
    ];
    for (const [input, policy] of cases) assert.equal(await asyncRefusal(input, policy), refusal(input, policy));
    assert.match(await asyncRefusal(swapped), /^bad signature: the CSR signature does not verify/);
  });
});
