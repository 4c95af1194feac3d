import assert from 'node:assert/strict';
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { nodeKeyPairs } from '../../src/adapters/crypto/key-pairs.js';
import { p256Encodings } from '../../src/pki/index.js';
import { runOpenssl, scratch } from '../support/pki.js';

describe('generated client keys', () => {
  it('writes a P-256 key exactly as OpenSSL encodes it, short scalars included', () => {
    let short = 0;
    // A scalar with a leading zero byte comes about once in 256 keys: go on until three were written.
    for (let i = 0; short < 3 && i < 50_000; i++) {
      const ecdh = createECDH('prime256v1');
      const point = ecdh.generateKeys();
      const scalar = ecdh.getPrivateKey();
      if (scalar.length < 32) short++;
      else if (i % 40 !== 0) continue;
      const { pkcs8, spki } = p256Encodings(scalar, point);
      const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      assert.deepEqual(pkcs8, privateKey.export({ type: 'pkcs8', format: 'der' }));
      assert.deepEqual(spki, createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    }
    assert.equal(short, 3, 'fewer than three short scalars in 50,000 keys');
  });

  for (const type of ['ECC', 'RSA'] as const) {
    it(`gives a ${type} key as PKCS#8 PEM that openssl reads, with its own public key`, async () => {
      const { privateKeyPem, spki } = await nodeKeyPairs.generate(type);
      assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PRIVATE KEY-----\n$/);
      const key = createPrivateKey(privateKeyPem);
      assert.equal(key.export({ type: 'pkcs8', format: 'pem' }), privateKeyPem);
      assert.deepEqual(createPublicKey(key).export({ type: 'spki', format: 'der' }), spki);
      const check = runOpenssl(['pkey', '-in', scratch('key.pem', privateKeyPem), '-check', '-noout']);
      assert.equal(check.status, 0, check.output);
      assert.match(check.output, /valid/i);
      assert.equal(key.asymmetricKeyType, type === 'ECC' ? 'ec' : 'rsa');
      assert.equal(type === 'ECC' ? key.asymmetricKeyDetails?.namedCurve : key.asymmetricKeyDetails?.modulusLength, type === 'ECC' ? 'prime256v1' : 2048);
    });
  }
});
