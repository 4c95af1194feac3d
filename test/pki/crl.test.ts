/**
 * CRLs judged by openssl: `openssl crl -verify` checks the signature and lists
 * what we wrote; `openssl verify -crl_check` refuses the revoked leaf and
 * accepts the other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCrl, PkiError, type CrlInput, type PkiFailure } from '../../src/pki/index.js';
import { colonHex, opensslKeyHash, opensslExtensions, runOpenssl, scratch, testCa, testKey, testLeaf, TEST_KEY_ALGS } from '../support/pki.js';

const OPENSSL_SIGNATURE = { rsa: 'sha256WithRSAEncryption', p256: 'ecdsa-with-SHA256', p384: 'ecdsa-with-SHA384' } as const;
const MINUTE = 60_000;
const DAY = 86400_000;

/** `openssl crl -text -verify` on the DER; returns everything openssl printed. */
function opensslCrl(der: Buffer, caPath: string): { status: number; output: string } {
  return runOpenssl(['crl', '-inform', 'DER', '-in', scratch('crl.der', der), '-text', '-noout', '-CAfile', caPath, '-verify']);
}

/** `openssl verify -crl_check` of a leaf with the CRL (PEM). */
function verifyWithCrl(caPath: string, crlPem: string, leafPath: string) {
  return runOpenssl(['verify', '-x509_strict', '-crl_check', '-CAfile', caPath, '-CRLfile', scratch('crl.pem', crlPem), leafPath]);
}

/** openssl's date format in -text output, e.g. 'Mar  5 07:08:09 2026 GMT'. */
function opensslDate(d: Date): string {
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${month} ${day} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
}

describe('buildCrl', () => {
  for (const alg of TEST_KEY_ALGS) {
    it(`${alg} CA: signature verifies, entries and extensions listed; verify -crl_check refuses only the revoked leaf`, () => {
      const ca = testCa(alg);
      const revoked = testLeaf(ca, testKey('p256'));
      const kept = testLeaf(ca, testKey('rsa'));
      const other = testLeaf(ca, testKey('p384'));
      const now = Math.floor(Date.now() / 1000) * 1000;
      const input: CrlInput = {
        issuer: ca.issuer,
        thisUpdate: new Date(now - MINUTE),
        nextUpdate: new Date(now + 7 * DAY),
        crlNumber: 42,
        revoked: [
          { serial: revoked.serial, revokedAt: new Date(now - 2 * MINUTE), reason: 'keyCompromise' },
          { serial: other.serial, revokedAt: new Date(now - 3 * MINUTE) },
        ],
      };
      const crl = buildCrl(input);
      assert.match(crl.pem, /^-----BEGIN X509 CRL-----\n/);
      const { status, output } = opensslCrl(crl.der, ca.certPath);
      assert.equal(status, 0, output);
      assert.match(output, /verify OK/);
      assert.match(output, /Version 2 \(0x1\)/);
      assert.match(output, new RegExp(`Signature Algorithm: ${OPENSSL_SIGNATURE[alg]}`));
      assert.match(output, new RegExp(`Last Update: ${opensslDate(input.thisUpdate)}`));
      assert.match(output, new RegExp(`Next Update: ${opensslDate(input.nextUpdate)}`));
      const ext = opensslExtensions(output, 'CRL extensions:');
      assert.deepEqual([...ext.keys()], ['X509v3 Authority Key Identifier', 'X509v3 CRL Number']);
      assert.deepEqual(ext.get('X509v3 CRL Number'), { critical: false, value: '42' });
      assert.deepEqual(ext.get('X509v3 Authority Key Identifier'), { critical: false, value: colonHex(opensslKeyHash(ca.certPath)) });
      const listed = output.slice(output.indexOf('Revoked Certificates:'));
      const entries = listed.split(/\n\s*Serial Number: /).slice(1);
      assert.equal(entries.length, 2);
      assert.match(entries[0]!, new RegExp(`^${revoked.serial.toString('hex').toUpperCase()}\\n\\s*Revocation Date: ${opensslDate(new Date(now - 2 * MINUTE))}`));
      assert.match(entries[0]!, /X509v3 CRL Reason Code: *\n\s*Key Compromise/);
      assert.match(entries[1]!, new RegExp(`^${other.serial.toString('hex').toUpperCase()}\\n\\s*Revocation Date: ${opensslDate(new Date(now - 3 * MINUTE))}`));
      assert.doesNotMatch(entries[1]!, /Reason Code/);

      const refused = verifyWithCrl(ca.certPath, crl.pem, revoked.path);
      assert.notEqual(refused.status, 0);
      assert.match(refused.output, /certificate revoked/);
      const accepted = verifyWithCrl(ca.certPath, crl.pem, kept.path);
      assert.equal(accepted.status, 0, accepted.output);
    });
  }

  it('an empty CRL lists nothing and lets every leaf through; a large CRL number is kept exactly', () => {
    const ca = testCa('p256');
    const now = Date.now();
    const crl = buildCrl({ issuer: ca.issuer, thisUpdate: new Date(now), nextUpdate: new Date(now + DAY), crlNumber: 2n ** 64n + 1n, revoked: [] });
    const { status, output } = opensslCrl(crl.der, ca.certPath);
    assert.equal(status, 0, output);
    assert.match(output, /No Revoked Certificates\./);
    assert.equal(opensslExtensions(output, 'CRL extensions:').get('X509v3 CRL Number')?.value, '18446744073709551617');
    const leaf = testLeaf(ca, testKey('p256'));
    assert.equal(verifyWithCrl(ca.certPath, crl.pem, leaf.path).status, 0);
  });

  it('a CRL from another key, or altered, does not verify', () => {
    const ca = testCa('p256');
    const other = testCa('p256', 'Another CA');
    const now = Date.now();
    const input: CrlInput = { issuer: ca.issuer, thisUpdate: new Date(now), nextUpdate: new Date(now + DAY), crlNumber: 7, revoked: [] };
    const altered = Buffer.from(buildCrl(input).der);
    const at = altered.indexOf(Buffer.from('020107', 'hex')); // the CRL number INTEGER 7
    altered[at + 2] = 8;
    assert.match(opensslCrl(altered, ca.certPath).output, /verify failure/);
    const foreign = buildCrl({ ...input, issuer: { ...other.issuer, name: ca.issuer.name } });
    assert.match(opensslCrl(foreign.der, ca.certPath).output, /verify failure/);
  });

  it('refuses what it cannot encode', () => {
    const ca = testCa('p256');
    const now = Date.now();
    const base: CrlInput = { issuer: ca.issuer, thisUpdate: new Date(now), nextUpdate: new Date(now + DAY), crlNumber: 1, revoked: [] };
    const refused = (over: Partial<CrlInput>, failure: PkiFailure, pattern: RegExp) =>
      assert.throws(() => buildCrl({ ...base, ...over }), (err: unknown) => err instanceof PkiError && err.failure === failure && pattern.test(err.message));
    const serial = Buffer.from('4abc', 'hex');
    refused({ nextUpdate: new Date(now) }, 'build.invalid', /nextUpdate must be later/);
    refused({ crlNumber: -1 }, 'build.invalid', /must not be negative/);
    refused({ crlNumber: 2n ** 160n }, 'build.invalid', /20 octets/);
    refused({ revoked: [{ serial, revokedAt: new Date(now) }, { serial, revokedAt: new Date(now) }] }, 'build.invalid', /serial 4abc is listed twice/);
    refused({ revoked: [{ serial: Buffer.from([0]), revokedAt: new Date(now) }] }, 'build.invalid', /must not be zero/);
  });
});
