import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ESA_VERSION } from '../../src/http/aliyun-rpc/action.js';
import { INTERNAL_MESSAGE } from '../../src/http/aliyun-rpc/errors.js';
import { signAcs3, type Acs3Request } from '../support/acs3.js';
import { Esa, esaClient, recordingProxy, send } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`RPC transport on ${engine}`, () => {
    let service: TestService;
    let twin: TestService;
    let credentials: { accessKeyId: string; accessKeySecret: string };
    let instanceId: string;
    let host: string;
    before(async () => {
      service = await startService(engine, {
        logLevel: 'info',
        dns: {
          description: 'a resolver that throws',
          resolveNs: async () => {
            throw new Error('resolver exploded');
          },
          resolveTxt: async () => [],
        },
      });
      twin = await startService(engine, { testDb: service.testDb });
      host = service.baseUrl.replace('http://', '');
      const account = await service.app.accounts.createAccount('transport');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      credentials = { accessKeyId: key.id, accessKeySecret: secret };
      instanceId = (await service.app.plans.grant(account.id, 'enterprise')).id;
    });
    after(async () => {
      await twin.stop();
      await service.stop();
    });

    const call = (req: Omit<Acs3Request, 'host' | 'version'>, options: { chunked?: boolean; target?: TestService } = {}) =>
      send((options.target ?? service).baseUrl, signAcs3({ host, version: ESA_VERSION, ...req }, credentials), options);

    it('agrees with the SDK: a request signed by the test signer is accepted', async () => {
      const res = await call({ method: 'GET', action: 'ListSites', query: { PageSize: '5' } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.PageSize, 5);
    });

    it('merges parameters from a chunked form body with no Content-Length', async () => {
      const res = await call(
        { method: 'POST', action: 'CreateSite', query: { InstanceId: instanceId }, form: { SiteName: 'formbody.com', AccessType: 'NS', Coverage: 'global' } },
        { chunked: true },
      );
      assert.equal(res.status, 200, res.body);
      assert.equal(typeof res.json.SiteId, 'number');
      assert.equal(typeof res.json.RequestId, 'string');
    });

    it('rejects a parameter given both in the query and in the body', async () => {
      const res = await call({
        method: 'POST',
        action: 'CreateSite',
        query: { SiteName: 'twice.com', InstanceId: instanceId },
        form: { SiteName: 'twice.com', AccessType: 'NS', Coverage: 'global' },
      });
      assert.deepEqual([res.status, res.json.Code], [400, 'InvalidParameter.SiteName']);
    });

    it('rejects an x-acs-* header added without being signed', async () => {
      const signed = signAcs3({ host, version: ESA_VERSION, method: 'GET', action: 'ListSites' }, credentials);
      const res = await send(service.baseUrl, { ...signed, headers: { ...signed.headers, 'x-acs-extra': '1' } });
      assert.deepEqual([res.status, res.json.Code], [403, 'Unauthorized.InvalidToken']);
    });

    it('answers an unknown action with InvalidAction.NotFound before anything else', async () => {
      const res = await call({ method: 'GET', action: 'BuyEverything' });
      assert.deepEqual([res.status, res.json.Code], [404, 'InvalidAction.NotFound']);
      assert.deepEqual(Object.keys(res.json).sort(), ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    });

    it('shares nonces between two servers on one database: a request replayed to the other is refused', async () => {
      const proxy = await recordingProxy(service.baseUrl);
      try {
        await esaClient(proxy.endpoint, credentials).listSites(new Esa.ListSitesRequest({}));
        const replay = await send(twin.baseUrl, proxy.requests.at(-1)!);
        assert.deepEqual([replay.status, replay.json.Code], [400, 'SignatureNonceUsed']);
        const fresh = await call({ method: 'GET', action: 'ListSites' }, { target: twin });
        assert.equal(fresh.status, 200, 'the twin serves fresh requests');
      } finally {
        await proxy.close();
      }
    });

    it('hides an internal error behind a fixed message and the request id', async () => {
      const created = await call({
        method: 'POST',
        action: 'CreateSite',
        query: { SiteName: 'internal.com', AccessType: 'NS', Coverage: 'global', InstanceId: instanceId },
      });
      const res = await call({ method: 'POST', action: 'VerifySite', query: { SiteId: String(created.json.SiteId) } });
      assert.deepEqual([res.status, res.json.Code, res.json.Message], [500, 'InternalError', INTERNAL_MESSAGE]);
      assert.ok(!res.body.includes('exploded'), 'the cause is not in the answer');
      assert.equal(typeof res.json.RequestId, 'string');
      const logged = service
        .logs()
        .map((line) => JSON.parse(line) as { requestId?: string; msg?: string; err?: { message?: string; stack?: string } })
        .find((line) => line.requestId === res.json.RequestId && line.msg === 'internal error');
      assert.ok(logged, 'the internal error is logged under the request id the caller got');
      assert.match(String(logged.err?.message), /resolver exploded/, 'the cause is in the log');
      assert.ok(logged.err?.stack, 'with its stack');
    });
  });
}
