/**
 * Verifies requests captured from the unmodified official SDKs on a local node:http server, then
 * tampers with them one part at a time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import Esa from '@alicloud/esa20240910';
import Cas from '@alicloud/cas20200407';
import OpenApi from '@alicloud/openapi-core';
import { parseRpcParams } from '../../src/http/aliyun-rpc/decode-params.js';
import {
  RPC_V1_PROTOCOL_PARAMS,
  SignatureError,
  verifyRequest,
  type SignatureFailure,
  type SignedRequest,
  type VerifyOptions,
} from '../../src/http/aliyun-rpc/signature.js';
import { AppError } from '../../src/kernel/errors.js';
import { PreparedAcs3, signAcs3 } from '../support/acs3.js';

const KEY_ID = 'LTAI5tCertplaneTestKey';
const SECRET = 'c3VwZXItc2VjcmV0+/=&odd';
const MINUTE = 60_000;

/** A PEM-shaped blob: base64 lines (so '+', '/', '='), '\n' and spaces in the armour. */
function fakePem(label: string, bytes: number): string {
  const lines = randomBytes(bytes).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const CLIENT_CSR = fakePem('CERTIFICATE REQUEST', 700);
const CAS_CSR = fakePem('CERTIFICATE REQUEST', 2400);

interface Captured extends SignedRequest {
  url: string;
}

const captured = new Map<string, Captured>();
let server: http.Server;

function capture(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const retry = req.headers['x-acs-retry-attempts'] !== undefined;
    const name = `${req.headers['x-acs-action']}${url.includes('Signature=') ? ':v1' : ''}${retry ? ':retry' : ''}`;
    captured.set(name, {
      url,
      method: req.method ?? '',
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      headers: { ...req.headers },
      body: Buffer.concat(chunks),
    });
    res.setHeader('content-type', 'application/json');
    // VerifySite fails once so that the SDK retries it and the retry headers can be seen.
    if (name === 'VerifySite') res.statusCode = 503;
    res.end(JSON.stringify({ RequestId: 'captured', Code: res.statusCode === 503 ? 'ServiceUnavailable' : undefined }));
  });
}

/** Plain objects in the shape @darabonba/typescript's RetryOptions reads: retry 503s once, 1 ms apart. */
const RETRY_ONCE = {
  retryable: true,
  noRetryCondition: [],
  retryCondition: [
    { maxAttempts: 2, exception: [], errorCode: ['ServiceUnavailable'], backoff: { policy: 'Fixed', getDelayTime: () => 1 } },
  ],
};

function config(endpoint: string, extra: Record<string, unknown> = {}): OpenApi.$OpenApiUtil.Config {
  return new OpenApi.$OpenApiUtil.Config({
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    endpoint,
    protocol: 'http',
    regionId: 'cn-hangzhou',
    ...extra,
  });
}

before(async () => {
  server = http.createServer(capture);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const esa = new Esa.default(config(endpoint));
  await esa.getSite(new Esa.GetSiteRequest({ siteId: 1234567890123 }));
  await esa.createClientCertificate(
    new Esa.CreateClientCertificateRequest({ siteId: 1234567890123, CSR: CLIENT_CSR, validityDays: 365, pkeyType: 'RSA' }),
  );
  await esa.listSites(
    new Esa.ListSitesRequest({
      siteName: "a b!'()*~",
      tagFilter: [new Esa.ListSitesRequestTagFilter({ key: 'env', value: 'prod' })],
    }),
  );
  const cas = new Cas.default(config(endpoint));
  await cas.createCertificateWithCsrRequest(
    new Cas.CreateCertificateWithCsrRequestRequest({ csr: CAS_CSR, email: 'ops@example.com', validateType: 'DNS' }),
  );
  const retrying = new Esa.default(config(endpoint, { retryOptions: RETRY_ONCE }));
  await retrying.verifySite(new Esa.VerifySiteRequest({ siteId: 1234567890123 }));
  const v1 = new Esa.default(config(endpoint, { signatureAlgorithm: 'v2' }));
  await v1.getSite(new Esa.GetSiteRequest({ siteId: 1234567890123 }));
  await v1.createClientCertificate(
    new Esa.CreateClientCertificateRequest({ siteId: 1234567890123, CSR: CLIENT_CSR, validityDays: 30 }),
  );
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(name: string): Captured {
  const req = captured.get(name);
  assert.ok(req, `the SDK sent no ${name} request`);
  return req;
}

/** The request's own signing time, so the tests do not depend on the wall clock. */
function signedAt(req: SignedRequest): Date {
  const date = req.headers['x-acs-date'] ?? parseRpcParams(req.rawQuery, Buffer.alloc(0), undefined).get('Timestamp');
  return new Date(String(date));
}

function options(req: SignedRequest, overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    now: signedAt(req),
    maxSkewMs: 15 * MINUTE,
    secretFor: async (id) => (id === KEY_ID ? SECRET : undefined),
    ...overrides,
  };
}

async function rejects(req: SignedRequest, failure: SignatureFailure, overrides: Partial<VerifyOptions> = {}) {
  await assert.rejects(verifyRequest(req, options(req, overrides)), (err: unknown) => {
    assert.ok(err instanceof SignatureError, `expected SignatureError, got ${String(err)}`);
    assert.equal(err.failure, failure, err.message);
    return true;
  });
}

function withHeaders(req: Captured, headers: Record<string, string | undefined>): Captured {
  return { ...req, headers: { ...req.headers, ...headers } };
}

const V3_OPERATIONS = ['GetSite', 'CreateClientCertificate', 'ListSites', 'CreateCertificateWithCsrRequest'];

describe('what the SDK sends (ACS3-HMAC-SHA256)', () => {
  it('signs host, content-type and every x-acs-* header it sends, and nothing else', () => {
    const post = get('CreateClientCertificate');
    assert.match(
      String(post.headers.authorization),
      /^ACS3-HMAC-SHA256 Credential=LTAI5tCertplaneTestKey,SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=[0-9a-f]{64}$/,
    );
    assert.match(String(get('GetSite').headers.authorization), /SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,/);
    assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(post.headers['transfer-encoding'], 'chunked');
    assert.equal(post.headers['x-acs-credentials-provider'], 'static_ak');
  });

  it('signs the retry headers it adds when it retries', async () => {
    const req = get('VerifySite:retry');
    assert.equal(req.headers['x-acs-retry-attempts'], '1');
    assert.equal(req.headers['x-acs-retry-delay'], '1');
    assert.match(String(req.headers.authorization), /SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-retry-attempts;x-acs-retry-delay;x-acs-signature-nonce;x-acs-version,/);
    await verifyRequest(req, options(req));
  });

  it('puts the big CAS CSR in the query and the ESA CSR in a form body, both decodable', () => {
    const cas = get('CreateCertificateWithCsrRequest');
    assert.ok(cas.url.length > 3000, `URL is ${cas.url.length} bytes`);
    assert.equal(cas.body.length, 0);
    assert.equal(parseRpcParams(cas.rawQuery, cas.body, undefined).get('Csr'), CAS_CSR);
    const esa = get('CreateClientCertificate');
    const params = parseRpcParams(esa.rawQuery, esa.body, String(esa.headers['content-type']));
    assert.deepEqual(Object.fromEntries(params), { SiteId: '1234567890123', CSR: CLIENT_CSR, PkeyType: 'RSA', ValidityDays: '365' });
  });

  it('sends ListSites TagFilter as one JSON string', () => {
    const req = get('ListSites');
    const params = parseRpcParams(req.rawQuery, req.body, undefined);
    assert.equal(params.get('TagFilter'), '[{"Key":"env","Value":"prod"}]');
    assert.equal(params.get('SiteName'), "a b!'()*~");
    // querystring.stringify escapes the apostrophe but leaves !()*~ raw.
    assert.match(req.rawQuery, /SiteName=a%20b!%27\(\)\*~(&|$)/);
  });
});

describe('verifyRequest with ACS3-HMAC-SHA256', () => {
  for (const name of V3_OPERATIONS) {
    it(`accepts the SDK's ${name} request`, async () => {
      const req = get(name);
      const verified = await verifyRequest(req, options(req));
      assert.equal(verified.scheme, 'ACS3-HMAC-SHA256');
      assert.equal(verified.accessKeyId, KEY_ID);
      assert.equal(verified.action, name);
      assert.equal(verified.version, name === 'CreateCertificateWithCsrRequest' ? '2020-04-07' : '2024-09-10');
      assert.equal(verified.nonce, req.headers['x-acs-signature-nonce']);
      assert.equal(verified.date.getTime(), signedAt(req).getTime());
    });
  }

  it('rejects a wrong secret', async () => {
    await rejects(get('GetSite'), 'mismatch', { secretFor: async () => 'not-the-secret' });
  });

  it('rejects an unknown AccessKeyId', async () => {
    await rejects(get('GetSite'), 'unknown_key', { secretFor: async () => undefined });
  });

  it('rejects a tampered query value', async () => {
    const req = get('GetSite');
    await rejects({ ...req, rawQuery: req.rawQuery.replace('SiteId=1234567890123', 'SiteId=1234567890124') }, 'mismatch');
    const cas = get('CreateCertificateWithCsrRequest');
    await rejects({ ...cas, rawQuery: cas.rawQuery.replace('Email=ops', 'Email=ops2') }, 'mismatch');
  });

  it('rejects an added query parameter', async () => {
    const req = get('GetSite');
    await rejects({ ...req, rawQuery: `${req.rawQuery}&OwnerId=1` }, 'mismatch');
  });

  it('rejects a tampered body, and a tampered body with a matching hash header', async () => {
    const req = get('CreateClientCertificate');
    const body = Buffer.from(req.body.toString().replace('ValidityDays=365', 'ValidityDays=3650'));
    await rejects({ ...req, body }, 'body_hash');
    const hash = createHash('sha256').update(body).digest('hex');
    await rejects(withHeaders({ ...req, body }, { 'x-acs-content-sha256': hash }), 'mismatch');
  });

  it('rejects a changed method', async () => {
    await rejects({ ...get('GetSite'), method: 'POST' }, 'mismatch');
    await rejects({ ...get('CreateClientCertificate'), method: 'GET' }, 'mismatch');
  });

  it('rejects a changed signed header', async () => {
    await rejects(withHeaders(get('GetSite'), { host: 'certplane.example.com' }), 'mismatch');
    await rejects(withHeaders(get('GetSite'), { 'x-acs-action': 'DeleteSite' }), 'mismatch');
  });

  it('allows up to the clock skew on either side, and no more', async () => {
    const req = get('GetSite');
    const at = signedAt(req).getTime();
    await verifyRequest(req, options(req, { now: new Date(at + 14 * MINUTE) }));
    await verifyRequest(req, options(req, { now: new Date(at - 14 * MINUTE) }));
    await rejects(req, 'stale_date', { now: new Date(at + 16 * MINUTE) });
    await rejects(req, 'stale_date', { now: new Date(at - 16 * MINUTE) });
  });

  it('rejects an x-acs-* header added after signing', async () => {
    await rejects(withHeaders(get('GetSite'), { 'x-acs-security-token': 'sneaky' }), 'unsigned_header');
    await rejects(withHeaders(get('GetSite'), { 'content-type': 'application/json' }), 'unsigned_header');
  });

  it('ignores headers the SDK does not sign', async () => {
    const req = withHeaders(get('GetSite'), { 'user-agent': 'curl/8', accept: '*/*', 'x-forwarded-for': '10.0.0.1' });
    await verifyRequest(req, options(req));
  });

  it('rejects a request without Authorization', async () => {
    await rejects(withHeaders(get('GetSite'), { authorization: undefined }), 'missing');
  });

  it('rejects other algorithms', async () => {
    const req = get('GetSite');
    const auth = String(req.headers.authorization);
    await rejects(withHeaders(req, { authorization: auth.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3') }), 'algorithm');
    await rejects(withHeaders(req, { authorization: 'Bearer abc' }), 'algorithm');
  });

  it('rejects a malformed Authorization or SignedHeaders', async () => {
    const req = get('GetSite');
    const auth = String(req.headers.authorization);
    const cases = [
      auth.replace(/Signature=[0-9a-f]+/, 'Signature=abc'),
      auth.replace('Credential=', 'Cred='),
      `${auth},Credential=other`,
      auth.replace('host;x-acs-action', 'x-acs-action;host'),
      auth.replace('host;x-acs-action', 'Host;x-acs-action'),
      auth.replace('x-acs-date;', ''),
    ];
    for (const authorization of cases) await rejects(withHeaders(req, { authorization }), 'malformed');
    await rejects(withHeaders(req, { 'x-acs-date': '2024-01-01 00:00:00' }), 'malformed');
  });

  it('requires content-type to be signed when there is a body', async () => {
    const req = get('CreateClientCertificate');
    const auth = String(req.headers.authorization).replace('content-type;', '');
    await rejects(withHeaders(req, { authorization: auth, 'content-type': undefined }), 'malformed');
  });

  it('rejects a query that cannot be decoded or repeats a key', async () => {
    const req = get('GetSite');
    await rejects({ ...req, rawQuery: `${req.rawQuery}&Bad=%E0%A4` }, 'malformed');
    await rejects({ ...req, rawQuery: `${req.rawQuery}&SiteId=1` }, 'malformed');
  });
});

describe('PreparedAcs3 (the load generator\'s signer)', () => {
  const request = {
    method: 'POST' as const,
    host: '127.0.0.1:9',
    action: 'CreateClientCertificate',
    version: '2024-09-10',
    query: { SiteId: '42' },
    form: { CSR: CLIENT_CSR, ValidityDays: '30' },
  };
  const credentials = { accessKeyId: KEY_ID, accessKeySecret: SECRET };
  const asSigned = (out: ReturnType<PreparedAcs3['sign']>): SignedRequest => ({ method: out.method, rawQuery: out.url.slice(2), headers: out.headers, body: out.body });

  it('signs exactly as signAcs3 for the same date and nonce', () => {
    const date = new Date('2026-03-04T05:06:07Z');
    assert.deepEqual(new PreparedAcs3(request, credentials).sign(date, 'n-1'), signAcs3({ ...request, date, nonce: 'n-1' }, credentials));
  });

  it('makes requests verifyRequest accepts, each with a nonce of its own', async () => {
    const signer = new PreparedAcs3(request, credentials);
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const req = asSigned(signer.sign());
      const verified = await verifyRequest(req, options(req));
      assert.equal(verified.action, 'CreateClientCertificate');
      nonces.add(verified.nonce);
    }
    assert.equal(nonces.size, 3);
  });
});

describe('verifyRequest with the legacy v1 signature', () => {
  it('accepts the SDK requests made with signatureAlgorithm v2, query-only and with a form body', async () => {
    for (const name of ['GetSite:v1', 'CreateClientCertificate:v1']) {
      const req = get(name);
      assert.equal(req.headers.authorization, undefined);
      const verified = await verifyRequest(req, options(req));
      assert.equal(verified.scheme, 'v1');
      assert.equal(verified.accessKeyId, KEY_ID);
      assert.equal(verified.action, name.replace(':v1', ''));
      assert.equal(verified.version, '2024-09-10');
      const params = parseRpcParams(req.rawQuery, Buffer.alloc(0), undefined);
      assert.equal(verified.nonce, params.get('SignatureNonce'));
    }
  });

  it('leaves only the operation input after removing the protocol parameters', () => {
    const req = get('CreateClientCertificate:v1');
    const params = parseRpcParams(req.rawQuery, req.body, String(req.headers['content-type']));
    for (const key of RPC_V1_PROTOCOL_PARAMS) params.delete(key);
    assert.deepEqual(Object.fromEntries(params), { SiteId: '1234567890123', CSR: CLIENT_CSR, ValidityDays: '30' });
  });

  it('rejects a tampered query, body, method or secret', async () => {
    const req = get('CreateClientCertificate:v1');
    await rejects({ ...req, rawQuery: req.rawQuery.replace('SiteId=1234567890123', 'SiteId=1') }, 'mismatch');
    await rejects({ ...req, body: Buffer.from(req.body.toString().replace('ValidityDays=30', 'ValidityDays=31')) }, 'mismatch');
    await rejects({ ...req, method: 'GET' }, 'mismatch');
    await rejects(req, 'mismatch', { secretFor: async () => 'wrong' });
  });

  it('rejects a stale Timestamp and an unknown key', async () => {
    const req = get('GetSite:v1');
    await rejects(req, 'stale_date', { now: new Date(signedAt(req).getTime() + 16 * MINUTE) });
    await rejects(req, 'unknown_key', { secretFor: async () => undefined });
  });

  it('rejects x-acs-action or x-acs-version headers that contradict the signed query', async () => {
    await rejects(withHeaders(get('GetSite:v1'), { 'x-acs-action': 'DeleteSite' }), 'unsigned_header');
    await rejects(withHeaders(get('GetSite:v1'), { 'x-acs-version': '2020-04-07' }), 'unsigned_header');
  });

  it('rejects a NUL in AccessKeyId or SignatureNonce before the key is looked up', async () => {
    const req = get('GetSite:v1');
    const lookUp = async (): Promise<string> => assert.fail('the key was looked up');
    for (const key of ['AccessKeyId', 'SignatureNonce']) {
      const rawQuery = req.rawQuery.replace(new RegExp(`(^|&)${key}=`), `$1${key}=%00`);
      assert.notEqual(rawQuery, req.rawQuery);
      await assert.rejects(verifyRequest({ ...req, rawQuery }, options(req, { secretFor: lookUp })), (err: unknown) => {
        assert.ok(err instanceof SignatureError, String(err));
        assert.equal(err.failure, 'malformed');
        assert.equal(err.message, `${key} must not contain a NUL character (U+0000)`);
        return true;
      });
    }
  });

  it('rejects another SignatureMethod', async () => {
    const req = get('GetSite:v1');
    await rejects({ ...req, rawQuery: req.rawQuery.replace('SignatureMethod=HMAC-SHA1', 'SignatureMethod=HMAC-SHA256') }, 'algorithm');
  });
});

describe('parseRpcParams', () => {
  const form = 'application/x-www-form-urlencoded; charset=utf-8';

  it('merges the query with a form body, reading + as a space', () => {
    const params = parseRpcParams('A=1+2&B=%2B', Buffer.from('C=x%20y&D='), form);
    assert.deepEqual(Object.fromEntries(params), { A: '1 2', B: '+', C: 'x y', D: '' });
  });

  it('ignores a body that is not a form', () => {
    assert.deepEqual(Object.fromEntries(parseRpcParams('A=1', Buffer.from('{"B":2}'), 'application/json')), { A: '1' });
  });

  it('rejects a key in both the query and the body, naming it', () => {
    assert.throws(
      () => parseRpcParams('SiteId=1', Buffer.from('SiteId=2'), form),
      (err: unknown) => err instanceof AppError && err.code === 'request.invalid_parameter' && err.details.parameter === 'SiteId',
    );
  });

  it('rejects broken percent-encoding and invalid UTF-8', () => {
    const malformed = (err: unknown) => err instanceof AppError && err.code === 'request.malformed_body';
    assert.throws(() => parseRpcParams('A=%zz', Buffer.alloc(0), undefined), malformed);
    assert.throws(() => parseRpcParams('', Buffer.from([0x41, 0x3d, 0xff]), form), malformed);
  });

  it('keeps a __proto__ key as data', () => {
    const params = parseRpcParams('__proto__=x', Buffer.alloc(0), undefined);
    assert.equal(params.get('__proto__'), 'x');
  });
});
