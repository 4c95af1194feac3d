/**
 * The GET form of OCSP (RFC 6960 appendix A.1): the path after /pki/ocsp/ is URL-decoded, then
 * base64-decoded, whichever of '+', '/' and '=' a client escaped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFromPath } from '../../src/http/pki/ocsp.js';

describe('requestFromPath', () => {
  // Bytes whose base64 holds '+', '/' and '=' padding.
  const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x3e, 0x01]);
  const base64 = bytes.toString('base64');

  it('decodes the request however its base64 was escaped', () => {
    assert.equal(base64, '+/+/PgE=');
    for (const path of [base64, encodeURIComponent(base64), '%2B%2f%2B%2FPgE%3d', '+/+/PgE', ' /+/PgE=', '-_-_PgE=']) {
      assert.deepEqual(requestFromPath(`/pki/ocsp/${path}`), bytes, path);
    }
    assert.deepEqual(requestFromPath(`/pki/ocsp/${base64}?ignored=1`), bytes, 'a query string is not part of it');
  });

  it('refuses what is not base64 of at most 16 KiB', () => {
    for (const path of ['', '%zz', 'abc!', 'A', 'AAAAA', '====', 'A'.repeat(30_000), '%00AA']) {
      assert.equal(requestFromPath(`/pki/ocsp/${path}`), undefined, path.slice(0, 20));
    }
    assert.equal(requestFromPath('/pki/other/AAAA'), undefined);
  });
});
