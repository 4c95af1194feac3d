/**
 * Users' IAM policies on the APIG routes, by token and by AK/SK; a user's token made by the
 * operator's CLI (`certplane token create --user`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apigClient, certName, countRows } from '../support/apig.js';
import { auditOfRequest } from '../support/audit.js';
import { cli } from '../support/cli.js';
import { ENGINES } from '../support/databases.js';
import { huaweiClient, sdkCall, statusAndCode, type AkSk } from '../support/huawei.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

interface UserCredentials {
  userId: string;
  token: string;
  tokenId: string;
  key: AkSk;
}

for (const engine of ENGINES) {
  describe(`IAM policies on the APIG routes on ${engine}`, () => {
    let service: TestService;
    let owner: Awaited<ReturnType<typeof tenant>>;
    let env: Record<string, string>;
    let kept: string;
    let other: string;
    const chain = makeChain('p256');
    const form = (name: string) => ({ name, cert_content: chain.chainPem, private_key: chain.key });

    function run(args: string[]): Record<string, unknown> {
      const result = cli(args, env);
      assert.equal(result.status, 0, result.stderr);
      return result.json!;
    }

    /** A user with one policy, and a token and an access key of its own, made by the services the CLI calls. */
    async function userWith(name: string, statements: unknown[]): Promise<UserCredentials> {
      const { identity, accounts } = service.app;
      const user = await identity.createUser(owner.accountId, name);
      const policy = await identity.createPolicy(owner.accountId, `${name}-policy`, JSON.stringify({ Version: '1', Statement: statements }));
      await identity.attachPolicy(owner.accountId, user.id, policy.id);
      const token = await accounts.createToken(owner.accountId, 3_600_000, user.id);
      const key = await accounts.createAccessKey(owner.accountId, user.id);
      return {
        userId: user.id,
        token: token.token,
        tokenId: token.record.id,
        key: { ak: key.key.id, sk: key.secret, projectId: owner.projectId },
      };
    }

    before(async () => {
      service = await startService(engine);
      env = { CERTPLANE_DATA_DIR: service.testDb.dataDir, DATABASE_URL: service.testDb.url };
      owner = await tenant(service, 'owner');
      const root = apigClient(service, owner.projectId, owner.token);
      kept = String((await root.create(form(certName('kept')))).body.id);
      other = String((await root.create(form(certName('other')))).body.id);
    });
    after(() => service.stop());

    const resource = (id: string) => `apig:cn-hangzhou:${owner.projectId}:certificate:${id}`;

    /** Every denial of the user in the audit log, as `action resource`. */
    async function denials(userId: string): Promise<string[]> {
      const events = await service.app.audit.list(owner.accountId, 1000);
      return events.filter((e) => e.actor === `user:${userId}` && e.outcome === 'denied').map((e) => `${e.action} ${e.resource}`).sort();
    }

    it('lets a reader list and read by token and by AK/SK, but not upload or delete (403 APIG.1005, audited)', async () => {
      const reader = await userWith('reader', [{ Effect: 'Allow', Action: ['apig:certificate:get', 'apig:certificate:list'], Resource: 'apig:*:*:certificate:*' }]);
      const certificates = await countRows(service, 'certificates');

      const byToken = apigClient(service, owner.projectId, reader.token);
      assert.equal((await byToken.list()).status, 200);
      assert.equal((await byToken.list()).body.total, 2);
      assert.equal((await byToken.show(kept)).status, 200);
      assert.equal((await byToken.attached(kept)).status, 200);
      const upload = await byToken.create(form(certName('refused')));
      assert.deepEqual([upload.status, upload.body.error_code, upload.body.error_msg], [403, 'APIG.1005', 'No permissions to request this method']);
      const removal = await byToken.remove(kept);
      assert.deepEqual([removal.status, removal.body.error_code], [403, 'APIG.1005']);

      const byKey = huaweiClient(service.baseUrl, reader.key);
      const listed = await sdkCall(byKey, { method: 'GET', queryParams: { limit: 10 } });
      assert.deepEqual([listed.status, listed.body.total], [200, 2]);
      assert.equal((await sdkCall(byKey, { method: 'GET', path: '/{certificate_id}', certificateId: kept })).status, 200);
      const sdkUpload = await sdkCall(byKey, { method: 'POST', data: form(certName('refused')) });
      assert.deepEqual([sdkUpload.status, sdkUpload.errorCode], [403, 'APIG.1005']);
      const sdkRemoval = await sdkCall(byKey, { method: 'DELETE', path: '/{certificate_id}', certificateId: kept });
      assert.deepEqual([sdkRemoval.status, sdkRemoval.errorCode], [403, 'APIG.1005']);
      const [event] = await auditOfRequest(service, owner.accountId, String(sdkRemoval.requestId));
      assert.deepEqual(
        { actor: event?.actor, action: event?.action, resource: event?.resource, outcome: event?.outcome },
        { actor: `user:${reader.userId}`, action: 'apig:certificate:delete', resource: resource(kept), outcome: 'denied' },
      );

      assert.equal(await countRows(service, 'certificates'), certificates, 'nothing uploaded, nothing deleted');
      assert.deepEqual(await denials(reader.userId), [
        `apig:certificate:create ${resource('*')}`,
        `apig:certificate:create ${resource('*')}`,
        `apig:certificate:delete ${resource(kept)}`,
        `apig:certificate:delete ${resource(kept)}`,
      ]);
    });

    it('keeps listing apart from reading: get alone reads one certificate but lists nothing', async () => {
      const getter = await userWith('getter', [{ Effect: 'Allow', Action: 'apig:certificate:get', Resource: '*' }]);
      const byToken = apigClient(service, owner.projectId, getter.token);
      assert.equal((await byToken.show(kept)).status, 200);
      assert.deepEqual([(await byToken.list()).status, (await byToken.list()).body.error_code], [403, 'APIG.1005']);
      const byKey = huaweiClient(service.baseUrl, getter.key);
      assert.deepEqual(await statusAndCode(sdkCall(byKey, { method: 'GET' })), [403, 'APIG.1005']);
      assert.deepEqual(await denials(getter.userId), Array(3).fill(`apig:certificate:list ${resource('*')}`));
    });

    it('scopes a policy to the certificates its resource names, and lets a Deny win', async () => {
      const scoped = await userWith('scoped', [
        { Effect: 'Allow', Action: 'apig:certificate:*', Resource: `apig:*:${owner.projectId}:certificate:*` },
        { Effect: 'Deny', Action: 'apig:certificate:delete', Resource: resource(kept) },
      ]);
      const byKey = huaweiClient(service.baseUrl, scoped.key);
      const domains = { domains: [{ domain: 'p256.example.com' }] };
      const attach = await sdkCall(byKey, { method: 'POST', path: '/{certificate_id}/domains/attach', certificateId: other, data: domains });
      assert.equal(attach.status, 204);
      const detach = await sdkCall(byKey, { method: 'POST', path: '/{certificate_id}/domains/detach', certificateId: other, data: domains });
      assert.equal(detach.status, 204);
      assert.deepEqual(await statusAndCode(sdkCall(byKey, { method: 'DELETE', path: '/{certificate_id}', certificateId: kept })), [403, 'APIG.1005']);
      assert.equal((await sdkCall(byKey, { method: 'DELETE', path: '/{certificate_id}', certificateId: other })).status, 204);
      const events = (await service.app.audit.list(owner.accountId, 1000)).filter((e) => e.actor === `user:${scoped.userId}`);
      assert.deepEqual(
        events.map((e) => `${e.action} ${e.resource} ${e.outcome}`).sort(),
        [
          `apig:certificate:attach ${resource(other)} success`,
          `apig:certificate:delete ${resource(kept)} denied`,
          `apig:certificate:delete ${resource(other)} success`,
          `apig:certificate:detach ${resource(other)} success`,
        ].sort(),
      );

      const nowhere = await userWith('elsewhere', [{ Effect: 'Allow', Action: 'apig:*:*', Resource: 'apig:*:0123456789abcdef0123456789abcdef:certificate:*' }]);
      assert.deepEqual((await apigClient(service, owner.projectId, nowhere.token).show(kept)).status, 403, 'a policy naming another project grants nothing here');
    });

    it('makes a token for a user with certplane token create --user, which has only the user\'s rights', async () => {
      const user = await service.app.identity.createUser(owner.accountId, 'cli-user');
      const policy = await service.app.identity.createPolicy(
        owner.accountId,
        'cli-readers',
        JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'apig:certificate:list', Resource: '*' }] }),
      );
      await service.app.identity.attachPolicy(owner.accountId, user.id, policy.id);
      const made = run(['token', 'create', '--account', owner.accountId, '--user', user.id, '--ttl', '1h']);
      assert.equal(made.userId, user.id);
      const api = apigClient(service, owner.projectId, String(made.token));
      assert.equal((await api.list()).status, 200);
      assert.equal((await api.show(kept)).status, 403);

      const tokens = run(['token', 'list', '--account', owner.accountId]).tokens as Array<{ userId: string | null; tokenId: string }>;
      assert.equal(tokens.find((t) => t.tokenId === owner.tokenId)?.userId, null, 'an account token has no user');
      assert.equal(tokens.find((t) => t.tokenId === made.tokenId)?.userId, user.id);
      const stranger = cli(['token', 'create', '--account', owner.accountId, '--user', 'u-nobody'], env);
      assert.equal(stranger.status, 1);
      assert.equal((JSON.parse(stranger.stderr) as { error: { code: string } }).error.code, 'user.not_found');
    });
  });
}
