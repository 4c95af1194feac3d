/**
 * The APIG routes driven by Huawei Cloud's official Node SDK core with AK/SK, and every way a signed
 * request can be wrong, each with its documented code and nothing stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../../src/kernel/clock.js';
import { formatSdkDate } from '../../src/http/huawei-rest/signature.js';
import { Esa, esaClient, send } from '../support/alibaba.js';
import { apigClient, certName, countRows } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { huaweiClient, sdkCall, signRaw, statusAndCode, type AkSk } from '../support/huawei.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

const MINUTE = 60_000;

for (const engine of ENGINES) {
  describe(`APIG with AK/SK signatures through the official SDK core on ${engine}`, () => {
    const clock = fixedClock(new Date());
    let service: TestService;
    let alice: Awaited<ReturnType<typeof tenant>>;
    let bob: Awaited<ReturnType<typeof tenant>>;
    let aliceKey: AkSk & { id: string };
    let bobKey: AkSk;
    const chain = makeChain('p256');
    const form = (name: string) => ({ name, cert_content: chain.chainPem, private_key: chain.key });
    const base = () => `/v2/${alice.projectId}/apigw/certificates`;

    before(async () => {
      service = await startService(engine, { clock });
      alice = await tenant(service, 'alice');
      bob = await tenant(service, 'bob');
      const a = await service.app.accounts.createAccessKey(alice.accountId);
      aliceKey = { id: a.key.id, ak: a.key.id, sk: a.secret, projectId: alice.projectId };
      const b = await service.app.accounts.createAccessKey(bob.accountId);
      bobKey = { ak: b.key.id, sk: b.secret, projectId: bob.projectId };
    });
    after(() => service.stop());

    /** What a refused request must leave behind: exactly what was there. */
    async function stored() {
      return {
        certificates: await countRows(service, 'certificates'),
        keys: await countRows(service, 'private_keys'),
        domains: await countRows(service, 'certificate_domains'),
        audit: (await service.app.audit.list(alice.accountId, 1000)).length,
      };
    }

    it('uploads, lists, shows, updates, binds, unbinds and deletes a certificate', async () => {
      const client = huaweiClient(service.baseUrl, aliceKey);
      const name = certName('aksk');
      const created = await sdkCall(client, { method: 'POST', data: form(name) });
      assert.equal(created.status, 200, JSON.stringify(created));
      const id = String(created.body.id);
      assert.equal(created.body.name, name);
      assert.equal(created.body.project_id, alice.projectId);
      assert.deepEqual(created.body.san, ['p256.example.com']);

      const listed = await sdkCall(client, { method: 'GET', queryParams: { limit: 10, name } });
      assert.equal(listed.status, 200);
      assert.equal(listed.body.total, 1);
      assert.deepEqual((listed.body.certs as Array<{ id: string }>).map((c) => c.id), [id]);

      const shown = await sdkCall(client, { method: 'GET', path: '/{certificate_id}', certificateId: id });
      assert.deepEqual([shown.status, shown.body.id, shown.body.name], [200, id, name]);

      const renamed = certName('aksk_renamed');
      const updated = await sdkCall(client, { method: 'PUT', path: '/{certificate_id}', certificateId: id, data: form(renamed) });
      assert.deepEqual([updated.status, updated.body.name], [200, renamed]);

      const domains = { domains: [{ domain: 'p256.example.com' }] };
      const attached = await sdkCall(client, { method: 'POST', path: '/{certificate_id}/domains/attach', certificateId: id, data: domains });
      assert.equal(attached.status, 204);
      const bound = await sdkCall(client, { method: 'GET', path: '/{certificate_id}/attached-domains', certificateId: id, queryParams: { limit: 5 } });
      assert.equal(bound.status, 200);
      assert.deepEqual((bound.body.bound_domains as Array<{ url_domain: string }>).map((d) => d.url_domain), ['p256.example.com']);
      const detached = await sdkCall(client, { method: 'POST', path: '/{certificate_id}/domains/detach', certificateId: id, data: domains });
      assert.equal(detached.status, 204);

      const deleted = await sdkCall(client, { method: 'DELETE', path: '/{certificate_id}', certificateId: id });
      assert.equal(deleted.status, 204);
      const gone = await sdkCall(client, { method: 'GET', path: '/{certificate_id}', certificateId: id });
      assert.deepEqual([gone.status, gone.errorCode], [404, 'APIG.3021']);

      const events = (await service.app.audit.list(alice.accountId, 1000)).filter((e) => e.resource.endsWith(`:certificate:${id}`));
      // The clock stands still here, so the events are compared as a set.
      assert.deepEqual(
        events.map((e) => [e.action, e.actor, e.outcome].join(' ')).sort(),
        ['attach', 'create', 'delete', 'detach', 'update'].map((a) => `apig:certificate:${a} key:${aliceKey.id} success`),
      );
    });

    it('answers an SDK error in its documented shape, with the request id', async () => {
      const client = huaweiClient(service.baseUrl, aliceKey);
      const res = await sdkCall(client, { method: 'POST', data: { ...form(certName('bad')), private_key: makeChain('rsa').key } });
      assert.deepEqual([res.status, res.errorCode, res.errorMsg], [400, 'APIG.2101', 'The certificate and private key do not match']);
      assert.ok(res.requestId, 'the SDK reads the request id from X-Request-Id');
    });

    it('takes one access key for both dialects, and X-Auth-Token beside it', async () => {
      const esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: aliceKey.ak, accessKeySecret: aliceKey.sk });
      const sites = await esa.listSites(new Esa.ListSitesRequest({}));
      assert.equal(sites.statusCode, 200);
      const viaKey = await sdkCall(huaweiClient(service.baseUrl, aliceKey), { method: 'GET' });
      const viaToken = await apigClient(service, alice.projectId, alice.token).list();
      assert.equal(viaKey.status, 200);
      assert.equal(viaToken.status, 200);
      assert.equal(viaKey.body.total, viaToken.body.total);
    });

    it("refuses a key on another account's project with APIG.1005, storing nothing", async () => {
      const before = await stored();
      for (const credentials of [{ ...bobKey, projectId: alice.projectId }, { ...aliceKey, projectId: bob.projectId }]) {
        const client = huaweiClient(service.baseUrl, credentials);
        assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'GET' })), [403, 'APIG.1005']);
        assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'POST', data: form(certName('stray')) })), [403, 'APIG.1005']);
      }
      // The signed X-Project-Id must name the path's project too.
      const raw = signRaw(service.baseUrl, aliceKey, { method: 'GET', path: base() });
      const other = signRaw(service.baseUrl, { ...aliceKey, projectId: bob.projectId }, { method: 'GET', path: base() });
      assert.equal((await send(service.baseUrl, raw)).status, 200);
      assert.deepEqual(wire(await send(service.baseUrl, other)), [403, 'APIG.1005']);
      assert.deepEqual(await stored(), before);
    });

    it('refuses a wrong secret and an unknown key with APIG.0301, storing nothing', async () => {
      const before = await stored();
      const wrongSecret = huaweiClient(service.baseUrl, { ...aliceKey, sk: `${aliceKey.sk}x` });
      const unknownKey = huaweiClient(service.baseUrl, { ...aliceKey, ak: 'CP0000000000000000000000' });
      for (const client of [wrongSecret, unknownKey]) {
        assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'POST', data: form(certName('never')) })), [401, 'APIG.0301']);
        assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'GET' })), [401, 'APIG.0301']);
      }
      const unknown = await sdkCall(unknownKey, { method: 'GET' });
      assert.match(String(unknown.errorMsg), /^Incorrect IAM authentication information: Get secretKey failed,ak:CP0+,err:ak not exist/);
      const wrong = await sdkCall(wrongSecret, { method: 'GET' });
      assert.equal(wrong.errorMsg, 'Incorrect IAM authentication information: verify aksk signature fail');
      assert.deepEqual(await stored(), before);
    });

    it('refuses a disabled and then a deleted key on its very next request', async () => {
      const { key, secret } = await service.app.accounts.createAccessKey(alice.accountId);
      const client = huaweiClient(service.baseUrl, { ak: key.id, sk: secret, projectId: alice.projectId });
      assert.equal((await sdkCall(client, { method: 'GET' })).status, 200);
      await service.app.accounts.setAccessKeyStatus(key.id, 'disabled');
      assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'GET' })), [401, 'APIG.0301']);
      await service.app.accounts.setAccessKeyStatus(key.id, 'active');
      assert.equal((await sdkCall(client, { method: 'GET' })).status, 200);
      await service.app.accounts.deleteAccessKey(key.id);
      assert.deepEqual(await statusAndCode(sdkCall(client, { method: 'GET' })), [401, 'APIG.0301']);
    });

    describe('requests signed by the SDK signer, then altered', () => {
      let victim: string;
      let spare: string;
      before(async () => {
        const client = huaweiClient(service.baseUrl, aliceKey);
        victim = String((await sdkCall(client, { method: 'POST', data: form(certName('victim')) })).body.id);
        spare = String((await sdkCall(client, { method: 'POST', data: form(certName('spare')) })).body.id);
      });

      it('accepts each of them unaltered', async () => {
        const create = signRaw(service.baseUrl, aliceKey, { method: 'POST', path: base(), data: form(certName('raw')) });
        assert.equal((await send(service.baseUrl, create)).status, 200);
        const list = signRaw(service.baseUrl, aliceKey, { method: 'GET', path: base(), query: { limit: '2', name: 'a b*~' } });
        assert.equal((await send(service.baseUrl, list)).status, 200);
      });

      it('refuses a changed body, path, query or signed header with APIG.0301, changing nothing', async () => {
        const before = await stored();
        const create = signRaw(service.baseUrl, aliceKey, { method: 'POST', path: base(), data: form(certName('signed')) });
        const body = { ...create, body: Buffer.from(JSON.stringify(form(certName('swapped')))) };
        const remove = signRaw(service.baseUrl, aliceKey, { method: 'DELETE', path: `${base()}/${spare}` });
        const path = { ...remove, url: `${base()}/${victim}` };
        const list = signRaw(service.baseUrl, aliceKey, { method: 'GET', path: base(), query: { limit: '1' } });
        const query = { ...list, url: `${base()}?limit=2` };
        const later = formatSdkDate(new Date(Date.parse(isoOf(String(create.headers['x-sdk-date']))) + 1000));
        const header = { ...create, headers: { ...create.headers, 'x-sdk-date': later } };
        const contentType = { ...create, headers: { ...create.headers, 'content-type': 'application/json;charset=latin1' } };
        const unsigned = {
          ...create,
          headers: { ...create.headers, authorization: String(create.headers.authorization).replace('content-type;', '') },
        };
        const mismatch = /^Incorrect IAM authentication information: verify aksk signature fail$/;
        const cases = { body, path, query, header, contentType };
        for (const [what, req] of Object.entries(cases)) assertRefused(await send(service.baseUrl, req), mismatch, what);
        assertRefused(await send(service.baseUrl, unsigned), /SignedHeaders lacks content-type/, 'unsigned content-type');
        assert.deepEqual(await stored(), before);
        const client = huaweiClient(service.baseUrl, aliceKey);
        for (const id of [victim, spare]) assert.equal((await sdkCall(client, { method: 'GET', path: '/{certificate_id}', certificateId: id })).status, 200);
      });

      it('takes a date within the skew window, replayed or not, and refuses a stale one with APIG.0301', async () => {
        const before = await stored();
        const now = clock.now().getTime();
        const stale = signRaw(service.baseUrl, aliceKey, {
          method: 'POST',
          path: base(),
          data: form(certName('stale')),
          date: formatSdkDate(new Date(now - 16 * MINUTE)),
        });
        const early = signRaw(service.baseUrl, aliceKey, { method: 'GET', path: base(), date: formatSdkDate(new Date(now + 16 * MINUTE)) });
        for (const req of [stale, early]) {
          const res = await send(service.baseUrl, req);
          assert.deepEqual(wire(res), [401, 'APIG.0301']);
          assert.match(String(res.json.error_msg), /X-Sdk-Date \d{8}T\d{6}Z is more than 900 s from the server's clock/);
        }
        assert.deepEqual(await stored(), before);

        // No nonce: the same signed read is taken again while its date is in the window, then never.
        const old = signRaw(service.baseUrl, aliceKey, { method: 'GET', path: base(), date: formatSdkDate(new Date(now - 14 * MINUTE)) });
        assert.equal((await send(service.baseUrl, old)).status, 200);
        assert.equal((await send(service.baseUrl, old)).status, 200);
        clock.set(new Date(now + 2 * MINUTE));
        try {
          assert.deepEqual(wire(await send(service.baseUrl, old)), [401, 'APIG.0301']);
        } finally {
          clock.set(new Date(now));
        }
      });

      it('refuses temporary credentials, a body marked unsigned, and both credentials at once', async () => {
        const before = await stored();
        const create = signRaw(service.baseUrl, aliceKey, { method: 'POST', path: base(), data: form(certName('odd')) });
        const withToken = { ...create, headers: { ...create.headers, 'x-auth-token': alice.token } };
        assertRefused(await send(service.baseUrl, withToken), /either X-Auth-Token or an AK\/SK signature/);
        const securityToken = signRaw(service.baseUrl, aliceKey, {
          method: 'POST',
          path: base(),
          data: form(certName('odd')),
          headers: { 'X-Security-Token': 'temporary' },
        });
        assertRefused(await send(service.baseUrl, securityToken), /temporary security credentials/);
        // Signed as the SDK signs non-JSON bodies: valid, but it leaves the body out.
        const unsignedPayload = signRaw(service.baseUrl, aliceKey, {
          method: 'POST',
          path: base(),
          data: form(certName('odd')),
          headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        });
        assertRefused(await send(service.baseUrl, unsignedPayload), /a request body must be signed/);
        const declared = signRaw(service.baseUrl, aliceKey, {
          method: 'POST',
          path: base(),
          data: form(certName('odd')),
          headers: { 'X-Sdk-Content-Sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
        });
        assertRefused(await send(service.baseUrl, declared), /X-Sdk-Content-Sha256 does not match the body/);
        assert.deepEqual(await stored(), before);
      });
    });
  });
}

function assertRefused(res: { status: number; json: Record<string, unknown> }, message: RegExp, what = ''): void {
  assert.deepEqual(wire(res), [401, 'APIG.0301'], `${what}: ${JSON.stringify(res.json)}`);
  assert.match(String(res.json.error_msg), message, what);
}

function wire(res: { status: number; json: Record<string, unknown> }): [number, unknown] {
  return [res.status, res.json.error_code];
}

/** `20261130T161025Z` → `2026-11-30T16:10:25Z`. */
function isoOf(sdkDate: string): string {
  return sdkDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
}
