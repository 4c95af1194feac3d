import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Esa, esaClient, sdkError } from '../support/alibaba.js';
import { cli, serve, type ServeProcess } from '../support/cli.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

/**
 * Credentials revoked through the CLI binary are refused on the very next request by every server
 * sharing the database: two in the test process and one `certplane serve` process of its own.
 */
for (const engine of ENGINES) {
  describe(`revoked credentials on ${engine}, across server processes`, () => {
    let first: TestService;
    let twin: TestService;
    let child: ServeProcess;
    let env: Record<string, string>;
    let accountId: string;
    let projectId: string;
    const servers = () => [first.baseUrl, twin.baseUrl, child.baseUrl];

    before(async () => {
      first = await startService(engine);
      twin = await startService(engine, { testDb: first.testDb });
      env = { CERTPLANE_DATA_DIR: first.testDb.dataDir, DATABASE_URL: first.testDb.url, CERTPLANE_LOG_LEVEL: 'warn' };
      child = await serve(env);
      const account = run(['account', 'create', '--name', 'revoker']);
      accountId = String(account.accountId);
      projectId = String(account.projectId);
    });
    after(async () => {
      child.kill('SIGTERM');
      await child.exited;
      await twin.stop();
      await first.stop();
    });

    /** One CLI command that must succeed; its JSON. */
    function run(args: string[]): Record<string, unknown> {
      const result = cli(args, env);
      assert.equal(result.status, 0, result.stderr);
      return result.json!;
    }

    function cliError(args: string[]): string {
      const result = cli(args, env);
      assert.equal(result.status, 1, result.stdout);
      return (JSON.parse(result.stderr) as { error: { code: string } }).error.code;
    }

    const listSites = (baseUrl: string, credentials: { accessKeyId: string; accessKeySecret: string }) =>
      esaClient(baseUrl.replace('http://', ''), credentials).listSites(new Esa.ListSitesRequest({}));

    async function assertKeyRefused(credentials: { accessKeyId: string; accessKeySecret: string }) {
      for (const baseUrl of servers()) {
        const err = await sdkError(listSites(baseUrl, credentials));
        assert.deepEqual([err.statusCode, err.code], [403, 'Unauthorized.InvalidToken'], baseUrl);
      }
    }

    async function assertKeyWorks(credentials: { accessKeyId: string; accessKeySecret: string }) {
      for (const baseUrl of servers()) assert.equal((await listSites(baseUrl, credentials)).statusCode, 200, baseUrl);
    }

    async function apigStatus(baseUrl: string, token: string): Promise<[number, unknown]> {
      const res = await fetch(`${baseUrl}/v2/${projectId}/apigw/certificates`, { headers: { 'x-auth-token': token } });
      const body = (await res.json()) as { error_code?: string };
      return [res.status, body.error_code];
    }

    it('refuses a disabled key on every server at once, and takes it back once enabled', async () => {
      const key = run(['key', 'create', '--account', accountId]);
      const credentials = { accessKeyId: String(key.accessKeyId), accessKeySecret: String(key.accessKeySecret) };
      await assertKeyWorks(credentials);

      assert.deepEqual(run(['key', 'disable', '--id', credentials.accessKeyId]), { accessKeyId: credentials.accessKeyId, status: 'disabled' });
      await assertKeyRefused(credentials);

      const listed = cli(['key', 'list', '--account', accountId], env);
      assert.ok(!listed.stdout.includes(credentials.accessKeySecret), 'the list shows no secret');
      const entry = (listed.json!.accessKeys as Array<Record<string, unknown>>).find((k) => k.accessKeyId === credentials.accessKeyId);
      assert.deepEqual(Object.keys(entry!).sort(), ['accessKeyId', 'accountId', 'createdAt', 'status', 'userId']);
      assert.equal(entry!.status, 'disabled');

      assert.deepEqual(run(['key', 'enable', '--id', credentials.accessKeyId]), { accessKeyId: credentials.accessKeyId, status: 'active' });
      await assertKeyWorks(credentials);
    });

    it('refuses a deleted key for good: it cannot be enabled again', async () => {
      const key = run(['key', 'create', '--account', accountId]);
      const credentials = { accessKeyId: String(key.accessKeyId), accessKeySecret: String(key.accessKeySecret) };
      await assertKeyWorks(credentials);
      assert.deepEqual(run(['key', 'delete', '--id', credentials.accessKeyId]), { accessKeyId: credentials.accessKeyId, deleted: true });
      await assertKeyRefused(credentials);
      assert.equal(cliError(['key', 'enable', '--id', credentials.accessKeyId]), 'access_key.not_found');
      assert.equal(cliError(['key', 'delete', '--id', credentials.accessKeyId]), 'access_key.not_found');
      await assertKeyRefused(credentials);
      const keys = run(['key', 'list', '--account', accountId]).accessKeys as Array<{ accessKeyId: string }>;
      assert.ok(!keys.some((k) => k.accessKeyId === credentials.accessKeyId));
    });

    it('refuses a revoked token on every server at once with APIG.1002', async () => {
      const created = run(['token', 'create', '--account', accountId, '--ttl', '1h']);
      const token = String(created.token);
      const tokenId = String(created.tokenId);
      assert.match(tokenId, /^tok-[0-9a-f]{20}$/);
      for (const baseUrl of servers()) assert.deepEqual(await apigStatus(baseUrl, token), [200, undefined], baseUrl);

      const listed = cli(['token', 'list', '--account', accountId], env);
      assert.ok(!listed.stdout.includes(token), 'the list shows no token');
      assert.ok(!listed.stdout.includes(createHash('sha256').update(token).digest('hex')), 'nor its hash');
      const entry = (listed.json!.tokens as Array<Record<string, unknown>>).find((t) => t.tokenId === tokenId);
      assert.equal(entry?.status, 'active');

      const revoked = run(['token', 'revoke', '--id', tokenId]);
      assert.equal(revoked.status, 'revoked');
      for (const baseUrl of servers()) assert.deepEqual(await apigStatus(baseUrl, token), [401, 'APIG.1002'], baseUrl);

      const again = run(['token', 'revoke', '--id', tokenId]);
      assert.equal(again.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
      const after = (run(['token', 'list', '--account', accountId]).tokens as Array<Record<string, unknown>>).find((t) => t.tokenId === tokenId);
      assert.deepEqual([after?.status, after?.revokedAt], ['revoked', revoked.revokedAt]);
      assert.equal(cliError(['token', 'revoke', '--id', 'tok-00000000000000000000']), 'token.not_found');
    });
  });
}
