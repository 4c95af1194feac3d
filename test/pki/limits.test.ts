import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PkiError, parseCertificateChain, parsePrivateKey } from '../../src/pki/index.js';
import { rsaCertificateOfSize, rsaPrivateKeyOfSize } from '../support/hostile.js';
import { makeChain } from '../support/openssl.js';

function failureOf(fn: () => unknown): PkiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PkiError, String(err));
    return err;
  }
  assert.fail('expected a PkiError');
}

describe('PKI limits are checked before the work they bound', () => {
  it('counts certificate blocks before decoding any', () => {
    // Blocks that would not even decode: only a count taken first can be what refuses them.
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'.repeat(11);
    assert.equal(failureOf(() => parseCertificateChain(garbage)).failure, 'certificate.invalid');
    const refused = failureOf(() => parseCertificateChain(garbage, { limits: { maxCertificates: 10 } }));
    assert.deepEqual([refused.failure, refused.limit], ['limit', 'maxCertificates']);
    assert.match(refused.message, /11 certificates, more than the 10 accepted/);
    assert.equal(parseCertificateChain(makeChain('p256').fullChainPem, { limits: { maxCertificates: 3 } }).length, 3);
  });

  it('measures an RSA private key before checking its components', () => {
    const huge = rsaPrivateKeyOfSize(65_536);
    assert.equal(failureOf(() => parsePrivateKey(huge)).failure, 'key.invalid', 'without a bound its components are checked');
    const refused = failureOf(() => parsePrivateKey(huge, { rsaMinBits: 2048, rsaMaxBits: 8192 }));
    assert.deepEqual([refused.failure, refused.limit], ['limit', 'rsaMaxBits']);
    assert.match(refused.message, /65536-bit RSA key, larger than the 8192 bits accepted/);
    const small = failureOf(() => parsePrivateKey(makeChain('rsa').key, { rsaMinBits: 3072 }));
    assert.deepEqual([small.failure, small.limit], ['limit', 'rsaMinBits']);
  });

  it('measures the RSA key of each certificate, naming its position', () => {
    const rsa = makeChain('rsa');
    const chain = rsa.leaf.certPem + rsaCertificateOfSize(16_384, rsa.root);
    const refused = failureOf(() => parseCertificateChain(chain, { limits: { rsaMaxBits: 8192 } }));
    assert.deepEqual([refused.failure, refused.limit, refused.index], ['limit', 'rsaMaxBits', 1]);
    assert.equal(parseCertificateChain(chain).length, 2, 'without a bound it parses');
  });
});
