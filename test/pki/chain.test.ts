/** Chain order: leaf first, each certificate issued (by name and by signature) by the next. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkChainOrder, parseCertificate, parseCertificateChain, PkiError, verifiesWith, type ParsedCertificate } from '../../src/pki/index.js';
import { KEY_ALGS, makeCa, makeChain, makeLeaf, makeSm2DualPair } from '../support/openssl.js';

function assertChainOrder(chainPem: string, index: number): void {
  const chain = parseCertificateChain(chainPem);
  assert.throws(
    () => checkChainOrder(chain),
    (err: unknown) => {
      assert.ok(err instanceof PkiError, String(err));
      assert.equal(err.failure, 'chain.order', err.message);
      assert.equal(err.index, index, err.message);
      return true;
    },
  );
}

describe('checkChainOrder', () => {
  for (const alg of KEY_ALGS) {
    it(`${alg}: in-order chain passes, reversed fails at 0`, () => {
      const { leaf, intermediate, root, chainPem, fullChainPem } = makeChain(alg);
      checkChainOrder(parseCertificateChain(chainPem));
      checkChainOrder(parseCertificateChain(fullChainPem));
      assertChainOrder(intermediate.certPem + leaf.certPem, 0);
      assertChainOrder(root.certPem + intermediate.certPem + leaf.certPem, 0);
    });
  }

  it('a single certificate is trivially in order', () => {
    checkChainOrder(parseCertificateChain(makeChain('rsa').leaf.certPem));
    checkChainOrder([]);
  });

  it('an unrelated certificate in the middle fails at the link it breaks', () => {
    const rsa = makeChain('rsa');
    const p256 = makeChain('p256');
    assertChainOrder(rsa.leaf.certPem + p256.intermediate.certPem + rsa.root.certPem, 0);
    assertChainOrder(rsa.leaf.certPem + rsa.intermediate.certPem + p256.root.certPem, 1);
  });

  it('same issuer name but a different key fails on the signature', () => {
    const { leaf, intermediate, root } = makeChain('p256');
    const impostor = makeCa({ alg: 'p256', issuer: root, subject: intermediate.subject });
    assert.equal(parseCertificate(impostor.certPem).subjectText, parseCertificate(intermediate.certPem).subjectText);
    assertChainOrder(leaf.certPem + impostor.certPem, 0);
    assert.equal(verifiesWith(parseCertificate(leaf.certPem), parseCertificate(impostor.certPem)), false);
  });

  it('issuer names compare per RFC 5280 (case and spaces), not byte for byte', () => {
    // Two self-signed certificates for one key, with differently spelt names.
    const root = makeCa({ alg: 'p256', subject: '/O=Certplane  Test/CN=Mixed Case Root' });
    const respelt = makeCa({ alg: 'p256', subject: '/O=certplane test/CN=MIXED CASE ROOT ', keyPem: root.keyPem });
    const leaf = makeLeaf({ issuer: respelt, alg: 'p256' });
    const [parsedLeaf, parsedRoot] = parseCertificateChain(leaf.certPem + root.certPem) as [ParsedCertificate, ParsedCertificate];
    assert.notDeepEqual(parsedLeaf.issuer, parsedRoot.subject);
    checkChainOrder([parsedLeaf, parsedRoot]);
    // A genuinely different name still fails.
    const other = makeCa({ alg: 'p256', subject: '/O=Certplane Test/CN=Other Root', keyPem: root.keyPem });
    assertChainOrder(leaf.certPem + other.certPem, 0);
  });

  it('mixed algorithms: P-256 leaf under an RSA intermediate', () => {
    const { intermediate } = makeChain('rsa');
    const leaf = makeLeaf({ issuer: intermediate, alg: 'p256' });
    checkChainOrder(parseCertificateChain(leaf.certPem + intermediate.certPem));
  });
});

describe('verifiesWith', () => {
  it('true for the real issuer, false otherwise, for every algorithm', () => {
    for (const alg of KEY_ALGS) {
      const [leaf, intermediate, root] = parseCertificateChain(makeChain(alg).fullChainPem) as [ParsedCertificate, ParsedCertificate, ParsedCertificate];
      assert.equal(verifiesWith(leaf, intermediate), true, alg);
      assert.equal(verifiesWith(intermediate, root), true, alg);
      assert.equal(verifiesWith(root, root), true, `${alg} root is self-signed`);
      assert.equal(verifiesWith(leaf, root), false, alg);
      assert.equal(verifiesWith(intermediate, leaf), false, alg);
    }
  });

  it('SM2: node cannot verify SM2-with-SM3, the toolkit can (default user id)', () => {
    const { sign, enc, intermediate } = makeSm2DualPair();
    const issuer = parseCertificate(intermediate.certPem);
    for (const issued of [sign, enc]) {
      const cert = parseCertificate(issued.certPem);
      // Documents why sm2.ts exists: OpenSSL via node has no way to pass the distinguishing id.
      assert.equal(new X509Certificate(issued.certPem).verify(new X509Certificate(intermediate.certPem).publicKey), false);
      assert.equal(verifiesWith(cert, issuer), true);
    }
    checkChainOrder(parseCertificateChain(makeSm2DualPair().signChainPem));
    checkChainOrder(parseCertificateChain(makeSm2DualPair().encChainPem));
  });

  it('a tampered certificate no longer verifies', () => {
    const { leaf, intermediate } = makeChain('sm2');
    const cert = parseCertificate(leaf.certPem);
    const issuer = parseCertificate(intermediate.certPem);
    // Flip one byte inside the TBS subject CN: structure stays valid, signature must fail.
    const der = Buffer.from(cert.der);
    const at = der.indexOf(Buffer.from('sm2.example.com'));
    assert.ok(at > 0);
    der[at] = 'x'.charCodeAt(0);
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const tampered = parseCertificate(pem);
    assert.equal(verifiesWith(tampered, issuer), false);
    assert.equal(verifiesWith(cert, issuer), true);
  });
});
