import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Cas from '@alicloud/cas20200407';
import OpenApi from '@alicloud/openapi-core';
import { apigClient, certName } from '../support/apig.js';
import { Esa, esaClient, recordingProxy, sdkError, type RecordedRequest } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { leakedSecrets, pemBody } from '../support/leaks.js';
import { generateKey, makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/** Sends raw bytes and waits for the server to close the connection (requests no HTTP client would send). */
function sendRaw(baseUrl: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** The signature a recorded RPC request carries: ACS3 in `Authorization`, v1 as the `Signature` parameter. */
function signatureOf(req: RecordedRequest): string {
  const acs3 = /Signature=([0-9a-f]{64})/.exec(String(req.headers.authorization ?? ''));
  if (acs3) return acs3[1]!;
  const v1 = new URL(req.url, 'http://x').searchParams.get('Signature');
  assert.ok(v1, `no signature in ${req.method} ${req.url.slice(0, 80)}`);
  return v1;
}

for (const engine of ENGINES) {
  describe(`no secret in the log at trace level on ${engine}`, () => {
    let service: TestService;
    let credentials: { accessKeyId: string; accessKeySecret: string };
    before(async () => {
      service = await startService(engine, { logLevel: 'trace' });
      const account = await service.app.accounts.createAccount('logs');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      credentials = { accessKeyId: key.id, accessKeySecret: secret };
    });
    after(() => service.stop());

    it('finds a key when it is there, however the request spelled it', () => {
      const key = makeChain('p256').key;
      const spellings = [
        JSON.stringify({ body: key }),
        JSON.stringify({ url: `/?Key=${encodeURIComponent(key)}` }),
        JSON.stringify({ err: { rawPacket: Buffer.from(`GET /?Key=${encodeURIComponent(key)} HTTP/1.1`) } }),
        key,
      ];
      for (const line of spellings) assert.deepEqual(leakedSecrets(line, { key: pemBody(key) }), ['key']);
    });

    /** RPC: a private key as a query parameter of signed requests (v1 GET, ACS3, CAS v1 POST); returns their signatures. */
    async function sendRpc(key: string, otherKey: string, chainPem: string): Promise<Record<string, string>> {
      const proxy = await recordingProxy(service.baseUrl);
      try {
        const v1 = esaClient(proxy.endpoint, credentials, { signatureAlgorithm: 'v2' });
        const listed = await sdkError(v1.listSites(new Esa.ListSitesRequest({ siteName: key })));
        assert.equal(listed.code, 'InvalidParameter.SiteName', 'the signed v1 request was verified and answered');
        await sdkError(esaClient(proxy.endpoint, credentials).listSites(new Esa.ListSitesRequest({ siteName: otherKey })));
        const cas = new Cas.default(
          new OpenApi.$OpenApiUtil.Config({ ...credentials, endpoint: proxy.endpoint, protocol: 'http', regionId: 'cn-hangzhou', signatureAlgorithm: 'v2' }),
        );
        // CAS: the key in the query string of an accepted and of a refused upload, and in the answer of a detail read.
        const uploaded = await cas.uploadUserCertificate(new Cas.UploadUserCertificateRequest({ name: 'logged', cert: chainPem, key }));
        const certId = uploaded.body!.certId!;
        assert.equal((await cas.getUserCertificateDetail(new Cas.GetUserCertificateDetailRequest({ certId }))).body!.key, key);
        const refused = await sdkError(cas.uploadUserCertificate(new Cas.UploadUserCertificateRequest({ name: 'logged-other', cert: chainPem, key: otherKey })));
        assert.equal(refused.code, 'CertificateKeyMismatch');
      } finally {
        await proxy.close();
      }
      assert.ok(proxy.requests.some((r) => r.method === 'GET' && r.url.includes('Signature=')), 'a v1-signed GET was sent');
      return Object.fromEntries(proxy.requests.map((r, i) => [`signature ${i}`, signatureOf(r)]));
    }

    /** Requests Node refuses itself: a key in an over-long URL, the token in a request that does not parse. */
    async function sendRefused(key: string, projectId: string, token: string): Promise<void> {
      const longUrl = await fetch(`${service.baseUrl}/?Action=ListSites&SiteName=${encodeURIComponent(key)}${'a'.repeat(100_000)}`);
      assert.ok([414, 431].includes(longUrl.status), `status ${longUrl.status}`);
      const head = `POST /v2/${projectId}/apigw/certificates?k=${encodeURIComponent(key)} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}`;
      assert.match(await sendRaw(service.baseUrl, `${head}\r\nBad Header: 1\r\n\r\n`), /^HTTP\/1\.1 400 /);
    }

    it('logs method, path and action, and none of the private keys, token or signatures sent', async () => {
      const chain = makeChain('rsa');
      const otherKey = generateKey('rsa');
      const signatures = await sendRpc(chain.key, otherKey, chain.chainPem);
      // APIG: the private key in the body of an accepted and of a rejected upload, the token in a header.
      const t = await tenant(service);
      const api = apigClient(service, t.projectId, t.token);
      const good = await api.create({ name: certName('logged'), cert_content: chain.chainPem, private_key: chain.key });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      const bad = await api.create({ name: certName('logged'), cert_content: chain.chainPem, private_key: otherKey });
      assert.deepEqual([bad.status, bad.body.error_code], [400, 'APIG.2101']);
      await sendRefused(otherKey, t.projectId, t.token);
      const stray = { authorization: credentials.accessKeySecret, 'x-auth-token': t.token };
      service.server.log.info({ req: { method: 'GET', url: '/', headers: stray }, request: { headers: stray, query: { Signature: signatures['signature 0'] } } }, 'stray');

      // The controls: what the log must hold, so that finding no secret in it means something.
      const lines = service.logs().map((l) => JSON.parse(l) as { msg?: string; req?: Record<string, unknown>; wireCode?: string });
      const requestLines = lines.filter((l) => l.msg === 'incoming request').map((l) => l.req);
      assert.ok(requestLines.some((r) => r?.method === 'GET' && r.path === '/' && r.action === 'ListSites'), 'the v1 GET is on a request line');
      assert.ok(requestLines.some((r) => r?.method === 'POST' && r.path === '/' && r.action === 'UploadUserCertificate'));
      assert.ok(requestLines.some((r) => r?.action === 'GetUserCertificateDetail'));
      assert.ok(lines.some((l) => l.wireCode === 'CertificateKeyMismatch'), 'the refused CAS upload is logged');
      assert.ok(requestLines.some((r) => r?.method === 'POST' && r.path === `/v2/${t.projectId}/apigw/certificates`));
      assert.ok(lines.some((l) => l.wireCode === 'APIG.2101'), 'the rejected upload is logged');
      assert.equal(lines.filter((l) => l.msg === 'request refused by the HTTP parser').length, 2, 'both refusals are logged');
      const strayLine = lines.find((l) => l.msg === 'stray') as unknown as Record<string, unknown>;
      assert.deepEqual(strayLine.req, { method: 'GET', path: '/' }, 'a request object shows no headers');
      const redacted = { authorization: '[redacted]', 'x-auth-token': '[redacted]' };
      assert.deepEqual(strayLine.request, { headers: redacted, query: { Signature: '[redacted]' } }, 'credentials are redacted');

      const secrets = {
        'the uploaded key': pemBody(chain.key),
        'the other key': pemBody(otherKey),
        token: t.token,
        'access key secret': credentials.accessKeySecret,
        ...signatures,
      };
      assert.deepEqual(leakedSecrets(service.logs().join(''), secrets), []);
    });
  });
}
