/**
 * The CSRs certplane sends to finalize an ACME order, checked by openssl and by our own CSR reader:
 * the signature verifies with the key inside, CN is the first name, every name is a dNSName.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { certificateKeys } from '../../src/adapters/crypto/key-pairs.js';
import type { IssuanceKeyType } from '../../src/core/issuance/model.js';
import { buildCsr, csrPem, parseCsr } from '../../src/pki/index.js';
import { opensslOk } from '../support/pki.js';

describe('CSR writer', () => {
  for (const [type, algorithm] of [['EC256', 'ECDSA-SHA256'], ['EC384', 'ECDSA-SHA384'], ['RSA2048', 'SHA256-RSA']] as Array<[IssuanceKeyType, string]>) {
    it(`${type}: openssl verifies it; CN the first name, SAN every name`, async () => {
      const { privateKeyPem } = await certificateKeys.generate(type);
      const names = ['*.example.com', 'example.com', 'www.example.com'];
      const pem = csrPem(buildCsr(createPrivateKey(privateKeyPem), names));
      const text = opensslOk(['req', '-verify', '-noout', '-text'], pem);
      assert.match(text, /Subject: CN\s?=\s?\*\.example\.com/);
      assert.match(text, /DNS:\*\.example\.com, DNS:example\.com, DNS:www\.example\.com/);
      const parsed = parseCsr(pem);
      assert.equal(parsed.commonName, '*.example.com');
      assert.equal(parsed.signatureAlgorithm, algorithm);
      assert.deepEqual(parsed.publicKey.spki, createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' }));
    });
  }

  it('leaves CN out when the first name is longer than 64 characters', async () => {
    const { privateKeyPem } = await certificateKeys.generate('EC256');
    const long = `${'a'.repeat(60)}.example.com`;
    const pem = csrPem(buildCsr(createPrivateKey(privateKeyPem), [long]));
    assert.equal(parseCsr(pem).commonName, '');
    assert.match(opensslOk(['req', '-verify', '-noout', '-text'], pem), new RegExp(`DNS:${long}`));
    assert.throws(() => buildCsr(createPrivateKey(privateKeyPem), []), /at least one name/);
  });
});
