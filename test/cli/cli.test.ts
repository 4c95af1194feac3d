import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { compose } from '../../src/main.js';
import { cli, serve } from '../support/cli.js';
import { leakedSecrets, pemBody } from '../support/leaks.js';
import { makeChain } from '../support/openssl.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

for (const engine of ENGINES) {
  describe(`CLI and serve on ${engine}`, () => {
    let db: TestDatabase;
    let env: Record<string, string>;
    before(async () => {
      db = await createTestDatabase(engine);
      env = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url, CERTPLANE_LOG_LEVEL: 'info' };
    });
    after(() => db.drop());

    it('creates an account, an access key, a token and an instance, each as one JSON object', () => {
      const account = cli(['account', 'create', '--name', 'acme'], env);
      assert.equal(account.status, 0, account.stderr);
      assert.match(String(account.json?.accountId), /^\d{15}$/);
      assert.match(String(account.json?.projectId), /^[0-9a-f]{32}$/);
      const accountId = String(account.json!.accountId);

      const key = cli(['key', 'create', '--account', accountId], env);
      assert.equal(key.status, 0, key.stderr);
      assert.match(String(key.json?.accessKeyId), /^CP[0-9A-F]{22}$/);
      assert.ok(String(key.json?.accessKeySecret).length >= 30);

      const token = cli(['token', 'create', '--account', accountId, '--ttl', '2h'], env);
      assert.equal(token.status, 0, token.stderr);
      assert.match(String(token.json?.token), /^cpt_/);
      assert.match(String(token.json?.tokenId), /^tok-[0-9a-f]{20}$/);
      const expiresIn = Date.parse(String(token.json?.expiresAt)) - Date.now();
      assert.ok(expiresIn > 7_100_000 && expiresIn <= 7_200_000, `expires in ${expiresIn} ms`);

      const instance = cli(['instance', 'create', '--account', accountId, '--name', 'gw1'], env);
      assert.equal(instance.status, 0, instance.stderr);
      assert.match(String(instance.json?.instanceId), /^[0-9a-f]{32}$/);

      // Every change of credentials is the operator's, on record in the account's audit log.
      const keyId = String(key.json!.accessKeyId);
      const tokenId = String(token.json!.tokenId);
      for (const args of [['key', 'disable', '--id', keyId], ['key', 'enable', '--id', keyId], ['token', 'revoke', '--id', tokenId], ['token', 'revoke', '--id', tokenId], ['key', 'delete', '--id', keyId]]) {
        const done = cli(args, env);
        assert.equal(done.status, 0, `${args.join(' ')}: ${done.stderr}`);
      }
      assert.equal(cli(['key', 'delete', '--id', keyId], env).status, 1, 'gone already: nothing to record');
      const events = (cli(['audit', 'list', '--account', accountId], env).json!.events as Array<Record<string, unknown>>).reverse();
      const region = 'cn-hangzhou';
      assert.deepEqual(
        events.map((e) => [e.actor, e.action, e.resource, e.outcome]),
        [
          ['operator:cli', 'certplane:CreateAccount', `certplane:${region}:${accountId}:account`, 'success'],
          ['operator:cli', 'certplane:CreateAccessKey', `certplane:${region}:${accountId}:access-key/${keyId}`, 'success'],
          ['operator:cli', 'certplane:CreateToken', `certplane:${region}:${accountId}:token/${tokenId}`, 'success'],
          ['operator:cli', 'certplane:CreateInstance', `certplane:${region}:${accountId}:instance/${String(instance.json!.instanceId)}`, 'success'],
          ['operator:cli', 'certplane:DisableAccessKey', `certplane:${region}:${accountId}:access-key/${keyId}`, 'success'],
          ['operator:cli', 'certplane:EnableAccessKey', `certplane:${region}:${accountId}:access-key/${keyId}`, 'success'],
          ['operator:cli', 'certplane:RevokeToken', `certplane:${region}:${accountId}:token/${tokenId}`, 'success'],
          ['operator:cli', 'certplane:DeleteAccessKey', `certplane:${region}:${accountId}:access-key/${keyId}`, 'success'],
        ],
        'the second revocation changed nothing and is not recorded',
      );
      assert.ok(!JSON.stringify(events).includes(String(key.json!.accessKeySecret)) && !JSON.stringify(events).includes(String(token.json!.token)), 'no secret on record');
    });

    it('manages users, policies, plan grants and reads the audit log', () => {
      const accountId = String(cli(['account', 'create', '--name', 'iam'], env).json!.accountId);
      const user = cli(['user', 'create', '--account', accountId, '--name', 'deployer'], env);
      assert.equal(user.status, 0, user.stderr);
      const userId = String(user.json!.userId);
      const users = cli(['user', 'list', '--account', accountId], env);
      assert.deepEqual(
        (users.json!.users as Array<Record<string, unknown>>).map((u) => [u.userId, u.name, u.accountId]),
        [[userId, 'deployer', accountId]],
      );
      const accounts = cli(['account', 'list'], env).json!.accounts as Array<Record<string, unknown>>;
      assert.deepEqual(accounts.find((a) => a.accountId === accountId)?.name, 'iam');
      const document = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'esa:Get*', Resource: '*' }] });
      const policy = cli(['policy', 'create', '--account', accountId, '--name', 'readers', '--document', document], env);
      assert.equal(policy.status, 0, policy.stderr);
      const policyId = String(policy.json!.policyId);
      const attach = cli(['policy', 'attach', '--account', accountId, '--user', userId, '--policy', policyId], env);
      assert.deepEqual(attach.json, { userId, policyId, attached: true });
      const key = cli(['key', 'create', '--account', accountId, '--user', userId], env);
      assert.equal(key.json!.userId, userId);
      const detach = cli(['policy', 'detach', '--account', accountId, '--user', userId, '--policy', policyId], env);
      assert.deepEqual(detach.json, { userId, policyId, detached: true });
      const again = cli(['policy', 'detach', '--account', accountId, '--user', userId, '--policy', policyId], env);
      assert.equal(again.status, 1);

      const bad = cli(['policy', 'create', '--account', accountId, '--name', 'broken', '--document', '{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}'], env);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /Effect/);
      const strangerKey = cli(['key', 'create', '--account', accountId, '--user', 'u-nobody'], env);
      assert.equal((JSON.parse(strangerKey.stderr) as { error: { code: string } }).error.code, 'user.not_found');

      const grant = cli(['plan', 'grant', '--account', accountId, '--plan', 'enterprise'], env);
      assert.equal(grant.status, 0, grant.stderr);
      assert.match(String(grant.json!.instanceId), /^esa-site-[0-9a-f]{16}$/);
      const unknownPlan = cli(['plan', 'grant', '--account', accountId, '--plan', 'platinum'], env);
      assert.equal((JSON.parse(unknownPlan.stderr) as { error: { code: string } }).error.code, 'plan.not_found');

      const audit = cli(['audit', 'list', '--account', accountId], env);
      assert.equal(audit.status, 0, audit.stderr);
      // The operator's changes, oldest first; the refused commands left nothing.
      const events = (audit.json!.events as Array<Record<string, unknown>>).reverse();
      const keyId = String(key.json!.accessKeyId);
      assert.deepEqual(
        events.map((e) => [e.actor, e.action, String(e.resource).split(':').pop()]),
        [
          ['operator:cli', 'certplane:CreateAccount', 'account'],
          ['operator:cli', 'certplane:CreateUser', `user/${userId}`],
          ['operator:cli', 'certplane:CreatePolicy', `policy/${policyId}`],
          ['operator:cli', 'certplane:AttachPolicy', `user/${userId}/policy/${policyId}`],
          ['operator:cli', 'certplane:CreateAccessKey', `access-key/${keyId}`],
          ['operator:cli', 'certplane:DetachPolicy', `user/${userId}/policy/${policyId}`],
          ['operator:cli', 'certplane:GrantPlan', `plan-instance/${String(grant.json!.instanceId)}`],
        ],
      );
    });

    it('refuses a policy document over limits.policyDocumentCharacters, naming it, and takes the limit from --config', () => {
      const accountId = String(cli(['account', 'create', '--name', 'big-policy'], env).json!.accountId);
      const documentOf = (length: number) => {
        const shell = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'esa:Get*', Resource: 'acs:esa:*:1:site/' }] });
        const padding = '1'.repeat(length - shell.length);
        return JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'esa:Get*', Resource: `acs:esa:*:1:site/${padding}` }] });
      };
      const atLimit = cli(['policy', 'create', '--account', accountId, '--name', 'at-limit', '--document', documentOf(6144)], env);
      assert.equal(atLimit.status, 0, atLimit.stderr);
      const over = cli(['policy', 'create', '--account', accountId, '--name', 'over', '--document', documentOf(7000)], env);
      assert.equal(over.status, 1);
      const error = (JSON.parse(over.stderr) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'request.invalid_parameter');
      assert.match(error.message, /7000 characters long, more than the 6144 accepted \(limits\.policyDocumentCharacters\)/);
      const configFile = join(db.dataDir, 'limits.json');
      writeFileSync(configFile, JSON.stringify({ limits: { policyDocumentCharacters: 8000 } }));
      const raised = cli(['--config', configFile, 'policy', 'create', '--account', accountId, '--name', 'over', '--document', documentOf(7000)], env);
      assert.equal(raised.status, 0, raised.stderr);
    });

    it('answers an unknown account and a bad ttl with a JSON error and a non-zero exit', () => {
      const missing = cli(['key', 'create', '--account', '999999999999999'], env);
      assert.equal(missing.status, 1);
      assert.equal(missing.stdout, '');
      assert.equal((JSON.parse(missing.stderr) as { error: { code: string } }).error.code, 'account.not_found');
      const account = cli(['account', 'create', '--name', 'ttl'], env);
      const badTtl = cli(['token', 'create', '--account', String(account.json!.accountId), '--ttl', 'forever'], env);
      assert.equal(badTtl.status, 1);
      assert.match(badTtl.stderr, /ttl/);
    });

    it('refuses to start on invalid settings, naming each one', () => {
      const result = cli(['serve'], {
        ...env,
        CERTPLANE_PORT: '70000',
        CERTPLANE_HOST: 'no host',
        CERTPLANE_LOG_LEVEL: 'chatty',
        DATABASE_URL: 'mysql://db/certs',
        CERTPLANE_MASTER_KEY: 'abc',
      });
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
      for (const setting of ['CERTPLANE_PORT', 'CERTPLANE_HOST', 'CERTPLANE_LOG_LEVEL', 'DATABASE_URL', 'CERTPLANE_MASTER_KEY']) {
        assert.match(result.stderr, new RegExp(`^  - ${setting}: `, 'm'), `${setting} is named`);
      }
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    });

    it('serves health probes, logs JSON lines with request ids, and drains in-flight requests on SIGTERM', async () => {
      const proc = await serve(env);
      assert.deepEqual(await (await fetch(`${proc.baseUrl}/healthz`)).json(), { status: 'ok' });
      const ready = await fetch(`${proc.baseUrl}/readyz`);
      assert.equal(ready.status, 200);
      const requestId = ready.headers.get('x-request-id');
      assert.ok(requestId);

      // Start a request whose body is still arriving, then ask the server to stop.
      const url = new URL(`${proc.baseUrl}/v2/p/apigw/certificates`);
      const pending = new Promise<number>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.write('{"name":');
        setTimeout(() => proc.kill('SIGTERM'), 200);
        setTimeout(() => req.end('"late"}'), 600);
      });
      assert.equal(await pending, 401, 'the in-flight request still got its answer');
      assert.equal(await proc.exited, 0);

      const logs = proc.logs().map((line) => JSON.parse(line) as Record<string, unknown>);
      const requestLines = logs.filter((l) => l.requestId !== undefined);
      assert.ok(requestLines.some((l) => l.requestId === requestId), 'the request id is on its log lines');
      assert.ok(logs.every((l) => typeof l.level === 'number' && typeof l.time === 'number'));
    });
  });
}

describe('master key rotation', () => {
  it('reseals every private key and secret under the new key, after which the old key can go', async () => {
    const db = await createTestDatabase('sqlite');
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const withKeys = (keys: string) => ({ CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url, CERTPLANE_MASTER_KEY: keys });
    try {
      // Under the old key: an access-key secret, and an uploaded private key.
      const account = cli(['account', 'create', '--name', 'rot'], withKeys(oldKey)).json!;
      const accountId = String(account.accountId);
      const key = cli(['key', 'create', '--account', accountId], withKeys(oldKey)).json!;
      const token = String(cli(['token', 'create', '--account', accountId], withKeys(oldKey)).json!.token);
      const chain = makeChain('p256');
      const proc = await serve({ ...withKeys(oldKey), CERTPLANE_LOG_LEVEL: 'trace' });
      const res = await fetch(`${proc.baseUrl}/v2/${String(account.projectId)}/apigw/certificates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': token },
        body: JSON.stringify({ name: 'rotated_cert', cert_content: chain.chainPem, private_key: chain.key }),
      });
      assert.equal(res.status, 200);
      const otherKey = makeChain('rsa').key;
      const bad = await fetch(`${proc.baseUrl}/v2/${String(account.projectId)}/apigw/certificates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': token },
        body: JSON.stringify({ name: 'mismatched', cert_content: chain.chainPem, private_key: otherKey }),
      });
      assert.equal(bad.status, 400);
      proc.kill('SIGTERM');
      await proc.exited;
      const logs = proc.logs().join('\n');
      assert.ok(logs.includes('APIG.2101'), 'the rejected upload was logged');
      assert.ok(logs.includes('/apigw/certificates'), 'both uploads are on request lines');
      // What the server was sent: the token on both requests, a private key in each body.
      assert.deepEqual(leakedSecrets(logs, { token, 'uploaded key': pemBody(chain.key), 'rejected key': pemBody(otherKey) }), []);

      const rotated = cli(['master-key', 'reseal'], withKeys(`${newKey},${oldKey}`));
      assert.equal(rotated.status, 0, rotated.stderr);
      assert.deepEqual([rotated.json!.resealed, rotated.json!.total], [2, 2]);
      assert.equal(cli(['master-key', 'reseal'], withKeys(`${newKey},${oldKey}`)).json!.resealed, 0, 'nothing left to do');

      // With only the new key, both still open.
      const app = await compose({ ...loadConfig({ env: withKeys(newKey) }), logLevel: 'silent' });
      try {
        assert.equal((await app.accounts.accessKeyWithSecret(String(key.accessKeyId)))?.secret, key.accessKeySecret);
        const row = await app.database.db.selectFrom('private_keys').select(['id', 'sealed']).executeTakeFirstOrThrow();
        assert.equal(app.sealer.open(row.sealed, `private_key:${row.id}`).trim(), chain.key.trim());
      } finally {
        await app.close();
      }
    } finally {
      await db.drop();
    }
  });
});
