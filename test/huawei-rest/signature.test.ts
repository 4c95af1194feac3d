/**
 * The AK/SK verifier against the official SDK core's own AKSKSigner, on the parts of the canonical
 * request that the API tests do not reach: escapes in the path, the trailing slash, repeated and
 * non-ASCII query parameters, header names in any case; then each refusal by its failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import huaweiCore from '@huaweicloud/huaweicloud-sdk-core';
import signer from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { HttpRequestImpl } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js';
import { AkSkError, formatSdkDate, verifyAkSk, type AkSkFailure, type AkSkRequest } from '../../src/http/huawei-rest/signature.js';

const { AKSKSigner } = signer;
const AK = 'CP0123456789ABCDEF012345';
const SK = 'a secret with +/= and ünïcode';
const NOW = new Date('2026-11-30T16:10:25Z');
const HOST = 'certplane.test:8080';

interface Signing {
  method?: string;
  /** The path the SDK signs (as in its endpoint URL). */
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  data?: unknown;
}

/** Signs with the SDK's signer and returns the request as the server sees it (lower-case header names). */
function signedBySdk(s: Signing, sk = SK): AkSkRequest {
  const request = new HttpRequestImpl();
  request.method = s.method ?? 'GET';
  request.endpoint = `http://${HOST}${s.path}`;
  request.queryParams = { ...s.query };
  request.headers = { 'X-Sdk-Date': formatSdkDate(NOW), 'X-Project-Id': 'p1', ...s.headers };
  if (s.data !== undefined) {
    request.headers['content-type'] = 'application/json';
    request.data = s.data;
  }
  const credential = new huaweiCore.BasicCredentials().withAk(AK).withSk(sk);
  const signed = AKSKSigner.sign(request, credential) as Record<string, string>;
  return {
    method: request.method,
    // The HTTP client sends the path without a trailing slash.
    rawPath: s.path.replace(/\/$/, ''),
    query: s.query ?? {},
    headers: Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(s.data === undefined ? '' : JSON.stringify(s.data)),
  };
}

const verify = (req: AkSkRequest, secrets: Record<string, string> = { [AK]: SK }) =>
  verifyAkSk(req, { now: NOW, maxSkewMs: 900_000, secretFor: async (id) => secrets[id] });

async function failure(req: AkSkRequest): Promise<AkSkFailure> {
  try {
    await verify(req);
  } catch (err) {
    if (err instanceof AkSkError) return err.failure;
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('AK/SK signatures as the SDK signer makes them', () => {
  it('verifies escapes in the path and a trailing slash, as the signer encodes them', async () => {
    for (const path of ['/v2/p1/apigw/certificates', '/v2/p1/apigw/certificates/', '/v2/p1/apigw/certificates/a%20b', '/v2/p1/x/~a.b_c-d']) {
      assert.equal((await verify(signedBySdk({ path }))).accessKeyId, AK, path);
    }
  });

  it('verifies sorted, repeated, empty and non-ASCII query parameters, and header names in any case', async () => {
    const req = signedBySdk({
      path: '/v2/p1/apigw/certificates',
      query: { name: 'a b*~', b: ['2', '10', '1'], 'é': 'ü/?&=', empty: '' },
      headers: { 'X-Custom-Thing': 'Mixed Case' },
    });
    assert.equal((await verify(req)).date.toISOString(), NOW.toISOString());
    assert.equal(await failure({ ...req, query: { ...req.query, b: ['2', '10'] } }), 'mismatch');
    assert.equal(await failure({ ...req, query: { ...req.query, extra: '1' } }), 'mismatch');
  });

  it('verifies a JSON body by its hash, or by the hash the client declared', async () => {
    const data = { name: 'cert_one', cert_content: '-----BEGIN CERTIFICATE-----\n…' };
    const plain = signedBySdk({ method: 'POST', path: '/v2/p1/apigw/certificates', data });
    await verify(plain);
    assert.equal(await failure({ ...plain, body: Buffer.from(JSON.stringify({ ...data, name: 'cert_two' })) }), 'mismatch');
    const declared = signedBySdk({
      method: 'POST',
      path: '/v2/p1/apigw/certificates',
      data,
      headers: { 'X-Sdk-Content-Sha256': '8C9A'.padEnd(64, '0') },
    });
    assert.equal(await failure(declared), 'body_hash');
    const empty = signedBySdk({ method: 'DELETE', path: '/v2/p1/apigw/certificates/c1', headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' } });
    await verify(empty);
  });

  it('names what is wrong with a refused request', async () => {
    const req = signedBySdk({ path: '/v2/p1/apigw/certificates' });
    const withHeader = (name: string, value: string | string[]) => ({ ...req, headers: { ...req.headers, [name]: value } });
    const auth = String(req.headers.authorization);
    const cases: Array<[string, AkSkRequest, AkSkFailure]> = [
      ['wrong secret', signedBySdk({ path: '/v2/p1/apigw/certificates' }, 'another secret'), 'mismatch'],
      ['unknown key', withHeader('authorization', auth.replace(AK, 'CPFFFFFFFFFFFFFFFFFFFFFF')), 'unknown_key'],
      ['other scheme', withHeader('authorization', auth.replace('SDK-HMAC-SHA256', 'V11-HMAC-SHA256')), 'algorithm'],
      ['no signature', withHeader('authorization', auth.replace(/, Signature=.*$/, '')), 'malformed'],
      ['short signature', withHeader('authorization', auth.replace(/Signature=(.*)$/, 'Signature=abc')), 'malformed'],
      ['unsorted headers', withHeader('authorization', auth.replace('host;x-project-id', 'x-project-id;host')), 'malformed'],
      ['host unsigned', withHeader('authorization', auth.replace('host;', '')), 'malformed'],
      ['project unsigned', withHeader('authorization', auth.replace(';x-project-id', '')), 'malformed'],
      ['signed header absent', { ...req, headers: { ...req.headers, 'x-project-id': undefined } }, 'malformed'],
      ['repeated header', withHeader('x-project-id', ['p1', 'p2']), 'malformed'],
      ['date format', withHeader('x-sdk-date', '2026-11-30T16:10:25Z'), 'malformed'],
      ['no such date', withHeader('x-sdk-date', '20260230T161025Z'), 'malformed'],
      ['stale', signedBySdk({ path: '/x', headers: { 'X-Sdk-Date': formatSdkDate(new Date(NOW.getTime() - 901_000)) } }), 'stale_date'],
      ['temporary credentials', signedBySdk({ path: '/x', headers: { 'X-Security-Token': 't' } }), 'unsupported'],
      ['unsigned body', { ...signedBySdk({ path: '/x', method: 'POST', headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' } }), body: Buffer.from('{}') }, 'malformed'],
    ];
    for (const [what, bad, expected] of cases) assert.equal(await failure(bad), expected, what);
    // Within the skew, on either side, is fine.
    await verify(signedBySdk({ path: '/x', headers: { 'X-Sdk-Date': formatSdkDate(new Date(NOW.getTime() + 899_000)) } }));
  });
});
