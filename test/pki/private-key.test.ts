/**
 * Private keys in every encoding users upload, and whether they match a
 * certificate: the right key must match and another key of the same type must not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCertificate, parsePrivateKey, PkiError, privateKeyMatches, type PkiFailure } from '../../src/pki/index.js';
import { convertKey, encryptKey, generateKey, KEY_ALGS, makeChain, makeSm2DualPair, openssl, toDer, type KeyAlg } from '../support/openssl.js';

function assertFailure(fn: () => unknown, failure: PkiFailure): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PkiError, `expected PkiError, got ${String(err)}`);
    assert.equal(err.failure, failure, err.message);
    return true;
  });
}

/** Encodings openssl can produce for each algorithm. */
const FORMATS: Record<KeyAlg, Array<'pkcs8' | 'pkcs1' | 'sec1'>> = {
  rsa: ['pkcs8', 'pkcs1'],
  p256: ['pkcs8', 'sec1'],
  p384: ['pkcs8', 'sec1'],
  ed25519: ['pkcs8'],
  sm2: ['pkcs8', 'sec1'],
};

const LABELS = { pkcs8: 'PRIVATE KEY', pkcs1: 'RSA PRIVATE KEY', sec1: 'EC PRIVATE KEY' } as const;

describe('parsePrivateKey + privateKeyMatches', () => {
  for (const alg of KEY_ALGS) {
    for (const format of FORMATS[alg]) {
      it(`${alg} ${format}: matches its certificate, not another key's`, () => {
        const { leaf, intermediate } = makeChain(alg);
        const cert = parseCertificate(leaf.certPem);
        const pem = convertKey(leaf.keyPem, format);
        const label = alg === 'sm2' && format === 'sec1' ? 'SM2 PRIVATE KEY' : LABELS[format];
        assert.ok(pem.startsWith(`-----BEGIN ${label}-----`), pem.split('\n')[0]);
        const key = parsePrivateKey(pem);
        assert.equal(key.format, format);
        assert.equal(key.algorithm, cert.publicKey.algorithm);
        assert.equal(key.curve, cert.publicKey.curve);
        assert.equal(key.bits, cert.publicKey.bits);
        assert.equal(key.pem, pem);
        assert.equal(privateKeyMatches(key, cert), true);
        // The intermediate has a key of the same type; so does a freshly generated one.
        assert.equal(privateKeyMatches(key, parseCertificate(intermediate.certPem)), false);
        const other = parsePrivateKey(convertKey(generateKey(alg), format));
        assert.equal(privateKeyMatches(other, cert), false);
      });
    }
  }

  it('keys of a different algorithm never match', () => {
    const rsaCert = parseCertificate(makeChain('rsa').leaf.certPem);
    const p256Cert = parseCertificate(makeChain('p256').leaf.certPem);
    const sm2Cert = parseCertificate(makeChain('sm2').leaf.certPem);
    assert.equal(privateKeyMatches(parsePrivateKey(makeChain('p256').key), rsaCert), false);
    assert.equal(privateKeyMatches(parsePrivateKey(makeChain('rsa').key), p256Cert), false);
    assert.equal(privateKeyMatches(parsePrivateKey(makeChain('p256').key), sm2Cert), false);
    assert.equal(privateKeyMatches(parsePrivateKey(makeChain('sm2').key), p256Cert), false);
  });

  it('SM2 dual certificates: each key matches its own certificate only', () => {
    const { sign, enc } = makeSm2DualPair();
    const signCert = parseCertificate(sign.certPem);
    const encCert = parseCertificate(enc.certPem);
    const signKey = parsePrivateKey(sign.keyPem);
    const encKey = parsePrivateKey(enc.keyPem);
    assert.deepEqual([signKey.algorithm, signKey.curve], ['SM2', 'SM2']);
    assert.equal(privateKeyMatches(signKey, signCert), true);
    assert.equal(privateKeyMatches(encKey, encCert), true);
    assert.equal(privateKeyMatches(signKey, encCert), false);
    assert.equal(privateKeyMatches(encKey, signCert), false);
  });

  it('SEC1 SM2 key labelled EC PRIVATE KEY, and SEC1 keys without the optional public key', () => {
    const { leaf } = makeChain('sm2');
    const cert = parseCertificate(leaf.certPem);
    const relabelled = convertKey(leaf.keyPem, 'sec1').replace(/SM2 PRIVATE KEY/g, 'EC PRIVATE KEY');
    assert.equal(privateKeyMatches(parsePrivateKey(relabelled), cert), true);
    assert.equal(privateKeyMatches(parsePrivateKey(convertKey(leaf.keyPem, 'sec1', { noPublic: true })), cert), true);
    const p256 = makeChain('p256');
    const bare = convertKey(p256.key, 'sec1', { noPublic: true });
    assert.equal(privateKeyMatches(parsePrivateKey(bare), parseCertificate(p256.leaf.certPem)), true);
  });

  it('openssl ecparam -genkey output (EC PARAMETERS block first)', () => {
    const pem = openssl(['ecparam', '-name', 'prime256v1', '-genkey']);
    assert.match(pem, /BEGIN EC PARAMETERS/);
    const key = parsePrivateKey(pem);
    assert.deepEqual([key.format, key.curve], ['sec1', 'P-256']);
    assert.ok(key.pem.startsWith('-----BEGIN EC PRIVATE KEY-----'));
  });

  it('plain objects (e.g. loaded from storage) still match', () => {
    const { leaf } = makeChain('rsa');
    const key = { ...parsePrivateKey(leaf.keyPem) };
    const cert = { ...parseCertificate(leaf.certPem) };
    assert.equal(privateKeyMatches(key, cert), true);
  });

  it('CRLF line endings are normalised in the returned pem', () => {
    const { leaf } = makeChain('p256');
    const key = parsePrivateKey(leaf.keyPem.replace(/\n/g, '\r\n'));
    assert.equal(key.pem, leaf.keyPem);
  });
});

describe('parsePrivateKey failures', () => {
  it('encrypted PKCS#8 → key.encrypted', () => {
    assertFailure(() => parsePrivateKey(encryptKey(makeChain('rsa').key, 'pkcs8')), 'key.encrypted');
    assertFailure(() => parsePrivateKey(encryptKey(makeChain('sm2').key, 'pkcs8')), 'key.encrypted');
  });

  it('legacy Proc-Type: 4,ENCRYPTED → key.encrypted', () => {
    for (const alg of ['rsa', 'p256'] as const) {
      const pem = encryptKey(makeChain(alg).key, 'legacy');
      assert.match(pem, /Proc-Type: 4,ENCRYPTED/);
      assertFailure(() => parsePrivateKey(pem), 'key.encrypted');
    }
  });

  it('EncryptedPrivateKeyInfo relabelled as PRIVATE KEY → key.encrypted', () => {
    const pem = encryptKey(makeChain('p256').key, 'pkcs8').replace(/ENCRYPTED PRIVATE KEY/g, 'PRIVATE KEY');
    assertFailure(() => parsePrivateKey(pem), 'key.encrypted');
  });

  it('unsupported algorithms and encodings → key.unsupported', () => {
    assertFailure(() => parsePrivateKey(openssl(['genpkey', '-algorithm', 'X25519'])), 'key.unsupported');
    assertFailure(() => parsePrivateKey(openssl(['genpkey', '-algorithm', 'ED448'])), 'key.unsupported');
    assertFailure(() => parsePrivateKey(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'])), 'key.unsupported');
    assertFailure(() => parsePrivateKey(convertKey(makeChain('p256').key, 'sec1', { explicitParams: true })), 'key.unsupported');
    assertFailure(() => parsePrivateKey(openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:512'])), 'key.unsupported');
    assertFailure(() => parsePrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n'), 'key.unsupported');
  });

  it('garbage inside the armour → key.invalid', () => {
    const junk = Buffer.from('this is not a key, just some bytes of text').toString('base64');
    for (const label of ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']) {
      assertFailure(() => parsePrivateKey(`-----BEGIN ${label}-----\n${junk}\n-----END ${label}-----\n`), 'key.invalid');
    }
  });

  it('a key whose parts disagree → key.invalid', () => {
    // RSA: swap the modulus for another key's; n no longer equals p·q.
    const a = toDer(convertKey(makeChain('rsa').key, 'pkcs1'), 'key');
    const b = toDer(convertKey(makeChain('rsa').intermediate.keyPem, 'pkcs1'), 'key');
    const spliced = spliceRsaModulus(a, b);
    assertFailure(() => parsePrivateKey(pem('RSA PRIVATE KEY', spliced)), 'key.invalid');
    // SEC1: the embedded public point belongs to a different key.
    const k1 = convertKey(makeChain('p256').key, 'sec1');
    const k2 = convertKey(makeChain('p256').intermediate.keyPem, 'sec1');
    const d1 = Buffer.from(body(k1), 'base64');
    const d2 = Buffer.from(body(k2), 'base64');
    const mixed = Buffer.concat([d1.subarray(0, d1.length - 65), d2.subarray(d2.length - 65)]);
    assertFailure(() => parsePrivateKey(pem('EC PRIVATE KEY', mixed)), 'key.invalid');
  });

  it('a certificate given as the key → pem.invalid; DER → pem.der; text → pem.invalid', () => {
    assertFailure(() => parsePrivateKey(makeChain('rsa').leaf.certPem), 'pem.invalid');
    assertFailure(() => parsePrivateKey(toDer(makeChain('rsa').key, 'key')), 'pem.der');
    assertFailure(() => parsePrivateKey(toDer(makeChain('p256').key, 'key').toString('latin1')), 'pem.der');
    assertFailure(() => parsePrivateKey('my key is in the other file'), 'pem.invalid');
    assertFailure(() => parsePrivateKey(''), 'pem.invalid');
  });
});

function body(pemText: string): string {
  return pemText.replace(/-----[^-]+-----|\s/g, '');
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
}

/** Both keys are RSA-2048 PKCS#1 with equal-length moduli at the same offset: 30 82 LL LL 02 01 00 02 82 01 01 <n>. */
function spliceRsaModulus(a: Buffer, b: Buffer): Buffer {
  const start = 4 + 3 + 4;
  const len = 257;
  assert.equal(a.readUInt16BE(start - 2), len);
  assert.equal(b.readUInt16BE(start - 2), len);
  const out = Buffer.from(a);
  b.copy(out, start, start, start + len);
  return out;
}
