/**
 * What users actually paste: DER, bare base64, random text, broken armour,
 * CRLF, JSON-escaped newlines, chains with commentary. And: malformed input
 * only ever produces PkiError, never a raw exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCertificate, parseCertificateChain, parsePrivateKey, PkiError, type PkiFailure } from '../../src/pki/index.js';
import { makeChain, toDer } from '../support/openssl.js';

function failureOf(fn: () => unknown): PkiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PkiError, `expected PkiError, got ${err instanceof Error ? err.stack : String(err)}`);
    return err;
  }
  assert.fail('expected a PkiError');
}

function assertFailure(fn: () => unknown, failure: PkiFailure, index?: number): void {
  const err = failureOf(fn);
  assert.equal(err.failure, failure, err.message);
  if (index !== undefined) assert.equal(err.index, index, err.message);
}

const armour = (label: string, b64: string) => `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;

describe('PEM input handling', () => {
  it('DER certificate (bytes, latin1 text, utf8-mangled text) → pem.der', () => {
    const der = toDer(makeChain('rsa').leaf.certPem);
    assertFailure(() => parseCertificateChain(der), 'pem.der');
    assertFailure(() => parseCertificateChain(new Uint8Array(der)), 'pem.der');
    assertFailure(() => parseCertificateChain(der.toString('latin1')), 'pem.der');
    assertFailure(() => parseCertificateChain(der.toString('utf8')), 'pem.der');
  });

  it('base64 DER without armour → pem.der', () => {
    const b64 = toDer(makeChain('p256').leaf.certPem).toString('base64');
    assertFailure(() => parseCertificateChain(b64), 'pem.der');
    assertFailure(() => parseCertificateChain(b64.replace(/(.{64})/g, '$1\n')), 'pem.der');
  });

  it('random text, empty input, binary noise → pem.invalid', () => {
    assertFailure(() => parseCertificateChain('hello, this is my certificate'), 'pem.invalid');
    assertFailure(() => parseCertificateChain(''), 'pem.invalid');
    assertFailure(() => parseCertificateChain('   \n\n'), 'pem.invalid');
    assertFailure(() => parseCertificateChain(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])), 'pem.invalid');
    assertFailure(() => parseCertificateChain('aGVsbG8gd29ybGQ='), 'pem.invalid'); // base64 of text, not DER
  });

  it('garbage inside CERTIFICATE armour → certificate.invalid; broken base64 → pem.invalid', () => {
    const junk = Buffer.from('definitely not a certificate, only words').toString('base64');
    assertFailure(() => parseCertificateChain(armour('CERTIFICATE', junk)), 'certificate.invalid', 0);
    assertFailure(() => parseCertificateChain(armour('CERTIFICATE', 'MIIB!!notbase64$$')), 'pem.invalid');
    assertFailure(() => parseCertificateChain(armour('CERTIFICATE', '')), 'pem.invalid');
  });

  it('broken armour → pem.invalid', () => {
    const pem = makeChain('rsa').leaf.certPem;
    assertFailure(() => parseCertificateChain(pem.replace('-----END CERTIFICATE-----', '')), 'pem.invalid');
    assertFailure(() => parseCertificateChain(pem.replace('END CERTIFICATE', 'END PRIVATE KEY')), 'pem.invalid');
    assertFailure(() => parseCertificateChain(pem + '-----BEGIN CERTIFICATE-----\nMIIB\n'), 'pem.invalid');
  });

  it('a broken certificate in a chain reports its index', () => {
    const { leaf, intermediate } = makeChain('p256');
    const junk = armour('CERTIFICATE', Buffer.from('x'.repeat(90)).toString('base64'));
    assertFailure(() => parseCertificateChain(leaf.certPem + junk + intermediate.certPem), 'certificate.invalid', 1);
  });

  it('ignores text and other blocks between certificates; accepts CRLF and JSON-escaped newlines', () => {
    const { leaf, intermediate, key } = makeChain('p256');
    const messy = `Subject: leaf\r\n${leaf.certPem.replace(/\n/g, '\r\n')}\r\n# intermediate below\r\n${key}\n${intermediate.certPem}trailing words`;
    const chain = parseCertificateChain(messy);
    assert.deepEqual(chain.map((c) => c.pem), [leaf.certPem, intermediate.certPem]);
    const escaped = JSON.stringify(leaf.certPem).slice(1, -1);
    assert.ok(escaped.includes('\\n'));
    assert.equal(parseCertificate(escaped).pem, leaf.certPem);
  });

  it('re-wraps odd line lengths into normalised PEM', () => {
    const { leaf } = makeChain('rsa');
    const b64 = toDer(leaf.certPem).toString('base64');
    const oneLine = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----`;
    assert.equal(parseCertificate(oneLine).pem, leaf.certPem);
    const indented = '   ' + leaf.certPem.split('\n').join('\n   ');
    assert.equal(parseCertificate(indented).pem, leaf.certPem);
  });

  it('parseCertificate wants exactly one certificate', () => {
    assertFailure(() => parseCertificate(makeChain('rsa').chainPem), 'pem.invalid');
  });

  it('a private key where certificates are expected → pem.invalid naming what was found', () => {
    const err = failureOf(() => parseCertificateChain(makeChain('rsa').key));
    assert.equal(err.failure, 'pem.invalid');
    assert.match(err.message, /PRIVATE KEY/);
  });
});

describe('malformed input never escapes as a raw exception', () => {
  /** Small deterministic PRNG so failures reproduce. */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  function mutate(der: Buffer, rand: () => number): Buffer {
    const out = Buffer.from(der);
    const kind = Math.floor(rand() * 3);
    if (kind === 0) return out.subarray(0, Math.floor(rand() * out.length)); // truncate
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
    if (kind === 2) out[Math.floor(rand() * Math.min(out.length, 12))] = 0x84 + Math.floor(rand() * 4); // damage a length
    return out;
  }

  for (const alg of ['rsa', 'p256', 'sm2'] as const) {
    it(`${alg}: 400 mutated certificates and keys`, () => {
      const { leaf, key } = makeChain(alg);
      const certDer = toDer(leaf.certPem);
      const keyDer = toDer(key, 'key');
      const rand = rng(alg.length * 7919);
      for (let i = 0; i < 200; i++) {
        const cert = armour('CERTIFICATE', mutate(certDer, rand).toString('base64'));
        try {
          parseCertificateChain(cert);
        } catch (err) {
          assert.ok(err instanceof PkiError, `certificate mutation ${i}: ${String(err)}`);
        }
        const pk = armour('PRIVATE KEY', mutate(keyDer, rand).toString('base64'));
        try {
          parsePrivateKey(pk);
        } catch (err) {
          assert.ok(err instanceof PkiError, `key mutation ${i}: ${String(err)}`);
        }
      }
    });
  }
});
