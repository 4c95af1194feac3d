/**
 * The null-prefix trick: a name such as "www.bank.example\0.evil.example", which software reading
 * C strings takes for www.bank.example. No real name holds U+0000 (RFC 5280 names are printable
 * text or DNS names), so certplane refuses certificates and CSRs whose subject or subjectAltName
 * holds one, before anything is stored or shown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCertificate,
  buildCsr,
  csrPem,
  derOid,
  derSequence,
  derSetOf,
  derTlv,
  derUtf8String,
  newSerial,
  parseCertificate,
  parseCsr,
  PkiError,
} from '../../src/pki/index.js';
import { makeCa, makeLeaf } from '../support/openssl.js';
import { CLIENT_PROFILE, opensslOk, scratch, testCa, testKey } from '../support/pki.js';

const TRICK = 'www.bank.example\u0000.evil.example';
const DAY = 86_400_000;

/** A Name DER of UTF8String attributes, written byte for byte (openssl's -subj cannot write a NUL). */
function name(attributes: Array<[oid: string, value: string]>): Buffer {
  return derSequence(attributes.map(([oid, value]) => derSetOf([derSequence([derOid(oid), derUtf8String(value)])])));
}

/** A certificate openssl signs for a CSR of certplane's writer (CN = the first name), its extensions left out. */
function signedByOpenssl(cn: string): string {
  const ca = testCa('p256');
  const csr = scratch('nul.csr', csrPem(buildCsr(testKey('p256').privateKey, [cn])));
  return opensslOk(['x509', '-req', '-in', csr, '-CA', ca.certPath, '-CAkey', scratch('ca.key', ca.key.pem), '-days', '1']);
}

/** An openssl-made leaf whose subjectAltName is `[tag] IMPLICIT IA5String value`, as raw DER. */
function leafWithSan(tag: number, value: string): string {
  const san = derSequence([derTlv(tag, Buffer.from(value, 'latin1'))]);
  return makeLeaf({ issuer: makeCa({ alg: 'p256' }), cn: 'ok.example.com', sans: [], moreExtensions: [`2.5.29.17=DER:${san.toString('hex')}`] }).certPem;
}

function refused(parse: () => unknown, failure: string, message: RegExp): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(err instanceof PkiError, String(err));
    assert.equal(err.failure, failure);
    assert.match(err.message, message);
    return true;
  });
}

describe('names holding NUL (the null-prefix trick) are refused', () => {
  it('a subject CN holding NUL: certificate.invalid, naming the attribute', () => {
    assert.deepEqual(parseCertificate(signedByOpenssl('www.bank.example')).subject.commonName, ['www.bank.example']);
    refused(() => parseCertificate(signedByOpenssl(TRICK)), 'certificate.invalid', /the name's CN holds a NUL character \(U\+0000\)/);
  });

  it("certplane's own CA does not issue one: the check after building refuses it", () => {
    const now = Date.now();
    const build = (subject: Buffer) =>
      buildCertificate(testCa('p256').issuer, CLIENT_PROFILE, { subject, subjectSpki: testKey('p256').spki, serial: newSerial(), notBefore: new Date(now - 60_000), notAfter: new Date(now + DAY) });
    assert.ok(build(name([['2.5.4.10', 'Bank'], ['2.5.4.3', 'www.bank.example']])).pem);
    refused(() => build(name([['2.5.4.10', 'Bank\u0000Evil'], ['2.5.4.3', 'www.bank.example']])), 'build.invalid', /the name's O holds a NUL character/);
  });

  it('a subjectAltName dNSName, rfc822Name or URI holding NUL: certificate.invalid, naming its kind', () => {
    assert.deepEqual(parseCertificate(leafWithSan(0x82, 'www.bank.example')).dnsNames, ['www.bank.example']);
    refused(() => parseCertificate(leafWithSan(0x82, TRICK)), 'certificate.invalid', /a subjectAltName dNSName holds a NUL character/);
    refused(() => parseCertificate(leafWithSan(0x81, 'ceo@bank.example\u0000.evil.example')), 'certificate.invalid', /subjectAltName rfc822Name holds a NUL/);
    refused(() => parseCertificate(leafWithSan(0x86, 'https://bank.example\u0000.evil.example/')), 'certificate.invalid', /subjectAltName uniformResourceIdentifier holds a NUL/);
  });

  it('a CSR whose CN and dNSName hold NUL: csr.invalid', () => {
    const key = testKey('p256').privateKey;
    assert.equal(parseCsr(csrPem(buildCsr(key, ['www.bank.example'])), {}).commonName, 'www.bank.example');
    refused(() => parseCsr(csrPem(buildCsr(key, [TRICK])), {}), 'csr.invalid', /NUL character/);
  });
});
