import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Esa, esaClient, sdkError } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { startService, tenant, type TestService } from '../support/service.js';

const APIG_KEYS = ['error_code', 'error_msg', 'request_id'];
const RPC_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId'];

interface Answer {
  status: number;
  requestId: string | null;
  json: Record<string, unknown>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    assert.fail(`status ${res.status}: the body is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, requestId: res.headers.get('x-request-id'), json };
}

/** An APIG error: the dialect's fields, its code, and the request id of the header. */
function assertApig(a: Answer, status: number, code: string): void {
  assert.equal(a.status, status, JSON.stringify(a.json));
  for (const key of APIG_KEYS) assert.ok(key in a.json, `APIG field ${key} in ${JSON.stringify(a.json)}`);
  assert.equal(a.json.error_code, code);
  assert.equal(a.json.request_id, a.requestId);
}

function assertRpc(a: Answer, status: number, code: string): void {
  assert.equal(a.status, status, JSON.stringify(a.json));
  for (const key of RPC_KEYS) assert.ok(key in a.json, `RPC field ${key} in ${JSON.stringify(a.json)}`);
  assert.equal(a.json.Code, code);
  assert.equal(a.json.RequestId, a.requestId);
}

/** Writes raw bytes to the server and returns what it answered, for requests no HTTP client would send. */
function rawRequest(baseUrl: string, bytes: string): Promise<{ status: number; headers: string; json: Record<string, unknown> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, json: JSON.parse(body) as Record<string, unknown> });
    });
  });
}

for (const engine of ENGINES) {
  describe(`requests refused before any handler, in the dialect's JSON, on ${engine}`, () => {
    let service: TestService;
    let apig: string;
    let token: string;
    before(async () => {
      service = await startService(engine);
      const t = await tenant(service);
      token = t.token;
      apig = `${service.baseUrl}/v2/${t.projectId}/apigw/certificates`;
    });
    after(() => service.stop());

    const post = (url: string, contentType: string, body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': contentType, 'x-auth-token': token }, body }).then(answer);

    it('an unknown or malformed Content-Type, a bad or empty JSON body', async () => {
      for (const type of ['text/plain', 'application/xml', 'json', ';', 'application/json, text/plain']) {
        const a = await post(apig, type, '{"name":"abcd"}');
        assertApig(a, 400, 'APIG.2000');
        assert.match(String(a.json.error_msg), /Content-Type/);
        const r = await post(`${service.baseUrl}/`, type, 'a=b');
        assert.notEqual(r.json.Code, 'InternalError', `RPC with Content-Type ${type}`);
      }
      for (const type of ['json', ';', '/', 'application/json, text/plain']) {
        assertRpc(await post(`${service.baseUrl}/`, type, 'a=b'), 400, 'InvalidParameter');
      }
      assertApig(await post(apig, 'application/json', '{"name": "abcd", '), 400, 'APIG.2000');
      assertApig(await post(apig, 'application/json', ''), 400, 'APIG.2000');
      assertApig(await post(apig, 'application/json; charset=utf-8', '[1, 2]'), 400, 'APIG.2000');
    });

    it('a body over the limit: 413 in each dialect', async () => {
      const big = 'x'.repeat(service.app.config.bodyLimitBytes + 1);
      assertApig(await post(apig, 'application/json', JSON.stringify({ name: big })), 413, 'APIG.2000');
      assertRpc(await post(`${service.baseUrl}/`, 'application/x-www-form-urlencoded', `SiteName=${big}`), 413, 'RequestTooLarge');
    });

    it('a URL path that is not valid percent-encoding, a path segment too long, an unknown path', async () => {
      assertApig(await fetch(`${service.baseUrl}/v2/%zz/apigw/certificates`).then(answer), 400, 'APIG.2000');
      assertRpc(await fetch(`${service.baseUrl}/%zz`).then(answer), 400, 'InvalidParameter');
      assertApig(await fetch(`${apig}/${'a'.repeat(300)}`, { headers: { 'x-auth-token': token } }).then(answer), 414, 'APIG.2000');
      assertRpc(await fetch(`${service.baseUrl}/nothing/here?Signature=x`).then(answer), 404, 'InvalidAction.NotFound');
      assertApig(await fetch(`${service.baseUrl}/v2/nothing`).then(answer), 404, 'APIG.0101');
    });

    it('an over-long URL through the official SDK: a JSON error with a code, not a SyntaxError', async () => {
      const account = await service.app.accounts.createAccount('long-url');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      const esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
      const err = await sdkError(esa.listSites(new Esa.ListSitesRequest({ siteName: 'a'.repeat(110 * 1024) })));
      assert.ok(
        (err.statusCode === 414 && err.code === 'RequestURITooLong') || (err.statusCode === 431 && err.code === 'RequestHeaderFieldsTooLarge'),
        `${err.statusCode} ${err.code}: ${err.message}`,
      );
    });

    it('an over-long URL or header, refused by Node itself, still answers JSON with the dialect’s fields', async () => {
      for (const size of [110 * 1024, 1024 * 1024]) {
        const longUrl = await fetch(`${apig}?name=${'a'.repeat(size)}`, { headers: { 'x-auth-token': token } }).then(answer);
        assert.ok([414, 431].includes(longUrl.status), `status ${longUrl.status}`);
        assertApig(longUrl, longUrl.status, 'APIG.2000');
        const longHeader = await fetch(apig, { headers: { 'x-auth-token': token, 'x-padding': 'p'.repeat(size) } }).then(answer);
        assertApig(longHeader, 431, 'APIG.2000');
        const rpcUrl = await fetch(`${service.baseUrl}/?Action=ListSites&SiteName=${'a'.repeat(size)}`).then(answer);
        assertRpc(rpcUrl, rpcUrl.status, rpcUrl.status === 414 ? 'RequestURITooLong' : 'RequestHeaderFieldsTooLarge');
        assertRpc(await fetch(`${service.baseUrl}/`, { headers: { 'x-padding': 'p'.repeat(size) } }).then(answer), 431, 'RequestHeaderFieldsTooLarge');
      }
    });

    it('a request that is not valid HTTP: 400 in the dialect of its request line', async () => {
      const apigRaw = await rawRequest(service.baseUrl, 'GET /v2/p/apigw/certificates HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n');
      assert.equal(apigRaw.status, 400);
      assert.deepEqual(Object.keys(apigRaw.json).sort(), APIG_KEYS);
      assert.equal(apigRaw.json.error_code, 'APIG.2000');
      const rpcRaw = await rawRequest(service.baseUrl, 'GET /?Action=ListSites HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n');
      assert.equal(rpcRaw.status, 400);
      assert.deepEqual(Object.keys(rpcRaw.json).sort(), RPC_KEYS);
      assert.equal(rpcRaw.json.Code, 'InvalidParameter');
      assert.match(rpcRaw.headers, new RegExp(`X-Request-Id: ${String(rpcRaw.json.RequestId)}`));
    });

    it('uses a client X-Request-Id only when it is short and plain', async () => {
      for (const given of ['req-1234.abc_DEF', 'a'.repeat(64)]) {
        const a = await fetch(apig, { headers: { 'x-request-id': given } }).then(answer);
        assert.deepEqual([a.requestId, a.json.request_id], [given, given]);
        const r = await fetch(`${service.baseUrl}/`, { headers: { 'x-request-id': given } }).then(answer);
        assert.deepEqual([r.requestId, r.json.RequestId], [given, given]);
      }
      for (const given of ['a'.repeat(65), 'has space', 'quote"', 'semi;colon', 'ünïcode', '']) {
        const a = await fetch(apig, { headers: { 'x-request-id': given } }).then(answer);
        assert.notEqual(a.requestId, given);
        assert.match(String(a.requestId), /^[0-9a-f-]{36}$/);
        assert.equal(a.json.request_id, a.requestId);
        const r = await fetch(`${service.baseUrl}/`, { headers: { 'x-request-id': given } }).then(answer);
        assert.match(String(r.json.RequestId), /^[0-9a-f-]{36}$/);
      }
    });
  });
}
