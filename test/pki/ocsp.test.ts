/**
 * OCSP against the openssl client: requests written by `openssl ocsp
 * -reqout` are parsed, and responses built for them are checked by `openssl
 * ocsp -respin` (status, times, signature, nonce), signed by the CA or by a
 * delegated responder.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildCertificate,
  buildOcspResponse,
  certIdMatchesIssuer,
  issuerFromCertificate,
  newSerial,
  ocspErrorResponse,
  ocspIssuerHashes,
  parseOcspRequest,
  PkiError,
  type OcspErrorStatus,
  type OcspRequest,
  type OcspSingleResponse,
  type SigningIssuer,
} from '../../src/pki/index.js';
import { opensslOk, runOpenssl, scratch, testCa, testKey, testLeaf, TEST_KEY_ALGS, type TestCa } from '../support/pki.js';

const MINUTE = 60_000;

/** `openssl ocsp -reqout` for the given leaves; returns the request DER and the request file. */
function opensslRequest(ca: TestCa, leafPaths: string[], extra: string[] = []): { der: Buffer; path: string; text: string } {
  const path = scratch('req.der');
  // openssl wants the digest before the -cert options it applies to.
  const text = opensslOk(['ocsp', ...extra, '-issuer', ca.certPath, ...leafPaths.flatMap((p) => ['-cert', p]), '-reqout', path, '-req_text']);
  return { der: readFileSync(path), path, text };
}

/**
 * `openssl ocsp -respin` twice: with the request (-reqin), so openssl compares
 * the nonce and verifies the signature; and with -issuer/-cert, so openssl
 * computes the leaf's CertID itself and prints its status line. (Given -cert,
 * openssl builds a fresh request and ignores -reqin, hence two runs.)
 */
function opensslCheck(ca: TestCa, leafPath: string, response: Buffer, reqPath: string): { status: number; output: string } {
  const respPath = scratch('resp.der', response);
  // -issuer also tells openssl where to look for the signer when the CA signs itself.
  const withRequest = runOpenssl(['ocsp', '-respin', respPath, '-reqin', reqPath, '-issuer', ca.certPath, '-CAfile', ca.certPath, '-resp_text']);
  const withCert = runOpenssl(['ocsp', '-respin', respPath, '-issuer', ca.certPath, '-cert', leafPath, '-CAfile', ca.certPath, '-no_nonce']);
  return { status: withRequest.status || withCert.status, output: withRequest.output + withCert.output };
}

/** A one-certificate response for `request`, with the CA as responder unless given. */
function respond(ca: TestCa, request: OcspRequest, status: OcspSingleResponse, responder: SigningIssuer = ca.issuer, certificates?: Buffer[]): Buffer {
  return buildOcspResponse({ responder, certificates, producedAt: new Date(), nonce: request.nonce, responses: [status] });
}

function opensslTime(d: Date): string {
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
}

describe('parseOcspRequest reads what openssl ocsp sends', () => {
  it('without a nonce: one SHA-1 CertID naming the CA and the leaf serial', () => {
    const ca = testCa('p256');
    const leaf = testLeaf(ca, testKey('p256'));
    const { der, text } = opensslRequest(ca, [leaf.path], ['-no_nonce']);
    const request = parseOcspRequest(der);
    assert.equal(request.nonce, undefined);
    assert.equal(request.signed, false);
    assert.equal(request.certIds.length, 1);
    const [id] = request.certIds;
    assert.equal(id!.hashAlgorithm, 'sha1');
    assert.deepEqual(id!.serial, leaf.serial);
    assert.match(text, new RegExp(`Issuer Name Hash: ${id!.issuerNameHash.toString('hex').toUpperCase()}`));
    assert.match(text, new RegExp(`Issuer Key Hash: ${id!.issuerKeyHash.toString('hex').toUpperCase()}`));
    assert.ok(certIdMatchesIssuer(id!, ocspIssuerHashes(ca.issuer)));
    assert.ok(!certIdMatchesIssuer(id!, ocspIssuerHashes(testCa('p256', 'Another CA').issuer)));
  });

  it('with a nonce, SHA-256 CertIDs, several certificates and a signature', () => {
    const ca = testCa('rsa');
    const leaves = [testLeaf(ca, testKey('p256')), testLeaf(ca, testKey('rsa'))];
    const { der, text } = opensslRequest(ca, leaves.map((l) => l.path), ['-sha256', '-signer', ca.certPath, '-signkey', scratch('key.pem', ca.key.pem)]);
    const request = parseOcspRequest(der);
    assert.equal(request.signed, true);
    assert.deepEqual(request.certIds.map((c) => c.serial), leaves.map((l) => l.serial));
    assert.deepEqual(request.certIds.map((c) => c.hashAlgorithm), ['sha256', 'sha256']);
    assert.ok(request.certIds.every((c) => certIdMatchesIssuer(c, ocspIssuerHashes(ca.issuer))));
    const nonceHex = /OCSP Nonce: *\n\s*([0-9A-F]+)/.exec(text)![1]!;
    assert.equal(request.nonce!.toString('hex').toUpperCase(), nonceHex);
  });

  it('refuses junk with ocsp.invalid, saying why', () => {
    const ca = testCa('p256');
    const leaf = testLeaf(ca, testKey('p256'));
    const { der } = opensslRequest(ca, [leaf.path]);
    const refused = (input: Buffer, pattern: RegExp, limits?: Parameters<typeof parseOcspRequest>[1]) =>
      assert.throws(() => parseOcspRequest(input, limits), (err: unknown) => err instanceof PkiError && err.failure === 'ocsp.invalid' && pattern.test(err.message));
    refused(Buffer.alloc(0), /empty OCSP request/);
    refused(Buffer.from('GET / HTTP/1.1\r\n\r\n'), /expected OCSPRequest/);
    refused(der.subarray(0, der.length - 3), /DER length runs past its container|truncated/);
    refused(Buffer.concat([der, Buffer.from([0])]), /trailing data/);
    refused(ca.cert.der, /expected|unexpected/);
    refused(Buffer.alloc(20_000, 0x30), /20000 bytes; at most 16384/);
    const two = opensslRequest(ca, [leaf.path, leaf.path]).der;
    refused(two, /more than 1 certificates/, { maxRequests: 1 });
    const md5 = opensslRequest(ca, [leaf.path], ['-md5']).der;
    refused(md5, /hash algorithm 1\.2\.840\.113549\.2\.5 is not supported/);
  });
});

describe('buildOcspResponse, judged by openssl ocsp', () => {
  for (const alg of TEST_KEY_ALGS) {
    it(`${alg} CA: good, revoked (time and reason), unknown; signature and nonce verify`, () => {
      const ca = testCa(alg);
      const leaf = testLeaf(ca, testKey('p256'));
      const req = opensslRequest(ca, [leaf.path]);
      const request = parseOcspRequest(req.der);
      const certId = request.certIds[0]!;
      const now = Math.floor(Date.now() / 1000) * 1000;
      const times = { thisUpdate: new Date(now - MINUTE), nextUpdate: new Date(now + 60 * MINUTE) };

      const good = opensslCheck(ca, leaf.path, respond(ca, request, { certId, status: 'good', ...times }), req.path);
      assert.equal(good.status, 0, good.output.slice(-600));
      assert.match(good.output, /Response verify OK/);
      assert.match(good.output, new RegExp(`: good\\n\\s*This Update: ${opensslTime(times.thisUpdate)}\\n\\s*Next Update: ${opensslTime(times.nextUpdate)}`));
      assert.doesNotMatch(good.output, /WARNING|Nonce Verify error|Failure/);
      assert.match(good.output, /Response Extensions:\n\s*OCSP Nonce/);

      const revokedAt = new Date(now - 5 * MINUTE);
      const revoked = opensslCheck(ca, leaf.path, respond(ca, request, { certId, status: 'revoked', revokedAt, reason: 'keyCompromise', ...times }), req.path);
      assert.match(revoked.output, /Response verify OK/);
      assert.match(revoked.output, new RegExp(`: revoked\\n[\\s\\S]*Reason: keyCompromise\\n\\s*Revocation Time: ${opensslTime(revokedAt)}`));

      const unknown = opensslCheck(ca, leaf.path, respond(ca, request, { certId, status: 'unknown', ...times }), req.path);
      assert.match(unknown.output, /Response verify OK/);
      assert.match(unknown.output, /: unknown\n/);
    });
  }

  it('the nonce is checked: a response with another nonce or none draws openssl warnings', () => {
    const ca = testCa('p256');
    const leaf = testLeaf(ca, testKey('p256'));
    const req = opensslRequest(ca, [leaf.path]);
    const request = parseOcspRequest(req.der);
    const single: OcspSingleResponse = { certId: request.certIds[0]!, status: 'good', thisUpdate: new Date() };
    const other = Buffer.from(request.nonce!);
    other[other.length - 1]! ^= 1;
    const wrong = opensslCheck(ca, leaf.path, buildOcspResponse({ responder: ca.issuer, producedAt: new Date(), nonce: other, responses: [single] }), req.path);
    assert.match(wrong.output, /Nonce Verify error/);
    const none = opensslCheck(ca, leaf.path, buildOcspResponse({ responder: ca.issuer, producedAt: new Date(), responses: [single] }), req.path);
    assert.match(none.output, /WARNING: no nonce in response/);
  });

  it('a delegated responder certificate, included in certs, verifies through the CA; another key does not', () => {
    const ca = testCa('rsa');
    const leaf = testLeaf(ca, testKey('rsa'));
    const responderKey = testKey('p256', true);
    const now = Date.now();
    const responderCert = buildCertificate(ca.issuer, { kind: 'ocspResponder' }, {
      subject: { organization: 'certplane', commonName: 'OCSP responder' },
      subjectSpki: responderKey.spki,
      serial: newSerial(),
      notBefore: new Date(now - MINUTE),
      notAfter: new Date(now + 86400_000),
    });
    const responder = issuerFromCertificate(responderCert.der, responderKey.privateKey);
    const req = opensslRequest(ca, [leaf.path]);
    const request = parseOcspRequest(req.der);
    const single: OcspSingleResponse = { certId: request.certIds[0]!, status: 'good', thisUpdate: new Date(now) };
    const delegated = opensslCheck(ca, leaf.path, respond(ca, request, single, responder, [responderCert.der]), req.path);
    assert.equal(delegated.status, 0, delegated.output);
    assert.match(delegated.output, /Response verify OK/);
    assert.match(delegated.output, /: good\n/);
    assert.match(delegated.output, /Certificate:[\s\S]*Subject: O=certplane, CN=OCSP responder/);
    // The same response without the responder certificate leaves openssl nothing to verify with.
    const bare = opensslCheck(ca, leaf.path, respond(ca, request, single, responder), req.path);
    assert.match(bare.output, /Response Verify Failure/);
    // Signed by a key the CA never certified.
    const stranger = testCa('p256', 'Stranger');
    const forged = opensslCheck(ca, leaf.path, respond(ca, request, single, stranger.issuer, [stranger.cert.der]), req.path);
    assert.match(forged.output, /Response Verify Failure/);
  });

  it('refuses what it cannot answer', () => {
    const ca = testCa('p256');
    const certId = { der: Buffer.from('3000', 'hex') };
    const refused = (fn: () => unknown, pattern: RegExp) =>
      assert.throws(fn, (err: unknown) => err instanceof PkiError && err.failure === 'build.invalid' && pattern.test(err.message));
    const now = new Date();
    refused(() => buildOcspResponse({ responder: ca.issuer, producedAt: now, responses: [] }), /at least one CertID/);
    refused(() => buildOcspResponse({ responder: ca.issuer, producedAt: now, responses: [{ certId, status: 'good', thisUpdate: now, nextUpdate: now }] }), /nextUpdate must be later/);
    refused(() => ocspErrorResponse('successful' as OcspErrorStatus), /unknown OCSP response status/);
  });

  it('error responses are unsigned statuses openssl names', () => {
    const names: Record<OcspErrorStatus, string> = {
      malformedRequest: 'malformedrequest (1)',
      internalError: 'internalerror (2)',
      tryLater: 'trylater (3)',
      sigRequired: 'sigrequired (5)',
      unauthorized: 'unauthorized (6)',
    };
    for (const [status, printed] of Object.entries(names) as [OcspErrorStatus, string][]) {
      const out = runOpenssl(['ocsp', '-respin', scratch('err.der', ocspErrorResponse(status)), '-resp_text', '-noverify']);
      assert.match(out.output, new RegExp(`Responder Error: ${printed.replace(/[()]/g, '\\$&')}`), status);
    }
  });
});
