import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { webhookSecretContext } from '../../src/core/webhooks/model.js';
import { AesGcmSealer } from '../../src/adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from '../../src/adapters/crypto/master-key.js';
import { openDatabase } from '../../src/adapters/db/database.js';
import { cli } from '../support/cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

for (const engine of ENGINES) {
  describe(`certplane webhook add|list|remove on ${engine}`, () => {
    let db: TestDatabase;
    let env: Record<string, string>;
    let accountId: string;
    before(async () => {
      db = await createTestDatabase(engine);
      env = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url };
      const account = cli(['account', 'create', '--name', 'hooks'], env);
      assert.equal(account.status, 0, account.stderr);
      accountId = String(account.json!.accountId);
    });
    after(() => db.drop());

    it('adds a webhook with a generated secret shown once, sealed at rest, listed without it, and removes it', async () => {
      const added = cli(['webhook', 'add', '--account', accountId, '--url', 'https://hooks.example.com/certplane', '--events', 'certificate.expiring,certificate.expired'], env);
      assert.equal(added.status, 0, added.stderr);
      const webhookId = String(added.json!.webhookId);
      assert.match(webhookId, /^[0-9a-f]{32}$/);
      assert.deepEqual(added.json!.events, ['certificate.expiring', 'certificate.expired']);
      assert.equal(added.json!.url, 'https://hooks.example.com/certplane');
      const secret = String(added.json!.secret);
      assert.match(secret, /^[0-9a-f]{64}$/);

      // At rest the secret is sealed: not in the row, and the master key opens it to the one printed.
      const database = openDatabase(db.database, () => undefined);
      try {
        const row = await database.db.selectFrom('webhooks').selectAll().where('id', '=', webhookId).executeTakeFirstOrThrow();
        assert.ok(!row.secret_sealed.includes(secret));
        const sealer = new AesGcmSealer(loadMasterKeys([], db.dataDir));
        assert.equal(sealer.open(row.secret_sealed, webhookSecretContext(webhookId)), secret);
      } finally {
        await database.close();
      }

      const all = cli(['webhook', 'add', '--account', accountId, '--url', 'http://127.0.0.1:9/hook', '--secret', 'a-secret-of-my-own-choosing'], env);
      assert.equal(all.status, 0, all.stderr);
      assert.equal(all.json!.secret, 'a-secret-of-my-own-choosing');
      assert.deepEqual(all.json!.events, ['*']);

      const listed = cli(['webhook', 'list', '--account', accountId], env);
      assert.equal(listed.status, 0, listed.stderr);
      const hooks = listed.json!.webhooks as Array<Record<string, unknown>>;
      assert.deepEqual(hooks.map((h) => h.webhookId).sort(), [webhookId, String(all.json!.webhookId)].sort());
      assert.ok(!listed.stdout.includes(secret) && !listed.stdout.includes('a-secret-of-my-own-choosing'), 'no secret in the list');
      assert.ok(hooks.every((h) => !('secret' in h)));

      const removed = cli(['webhook', 'remove', '--account', accountId, '--id', webhookId], env);
      assert.equal(removed.status, 0, removed.stderr);
      assert.deepEqual(removed.json, { webhookId, removed: true });
      assert.deepEqual((cli(['webhook', 'list', '--account', accountId], env).json!.webhooks as unknown[]).length, 1);

      const again = cli(['webhook', 'remove', '--account', accountId, '--id', webhookId], env);
      assert.equal(again.status, 1);
      assert.equal(JSON.parse(again.stderr).error.code, 'webhook.not_found');

      // The operator's changes are on record (the refused removal is not), and no secret is.
      const audit = cli(['audit', 'list', '--account', accountId], env);
      const events = (audit.json!.events as Array<Record<string, unknown>>).filter((e) => String(e.action).includes('Webhook')).reverse();
      assert.deepEqual(
        events.map((e) => [e.actor, e.action, String(e.resource).split(':').pop()]),
        [
          ['operator:cli', 'certplane:AddWebhook', `webhook/${webhookId}`],
          ['operator:cli', 'certplane:AddWebhook', `webhook/${String(all.json!.webhookId)}`],
          ['operator:cli', 'certplane:RemoveWebhook', `webhook/${webhookId}`],
        ],
      );
      assert.ok(!audit.stdout.includes(secret) && !audit.stdout.includes('a-secret-of-my-own-choosing'));
    });

    it('refuses a URL that is not http(s), unknown event types, a short secret and an unknown account, with clear codes', () => {
      const refusals: Array<[string[], string, RegExp]> = [
        [['--url', 'ftp://example.com/x'], 'request.invalid_parameter', /url: must be an http:\/\/ or https:\/\/ URL/],
        [['--url', 'not a url'], 'request.invalid_parameter', /url: "not a url" is not a URL/],
        [['--url', 'https://example.com/x', '--events', 'certificate.expiring,cert.exploded'], 'request.invalid_parameter', /events: unknown event type cert\.exploded/],
        [['--url', 'https://example.com/x', '--secret', 'short'], 'request.invalid_parameter', /secret: must be 16 to 256 characters/],
      ];
      for (const [args, code, message] of refusals) {
        const res = cli(['webhook', 'add', '--account', accountId, ...args], env);
        assert.equal(res.status, 1, args.join(' '));
        const error = JSON.parse(res.stderr).error as { code: string; message: string };
        assert.equal(error.code, code);
        assert.match(error.message, message);
      }
      const unknown = cli(['webhook', 'add', '--account', '999999999999999', '--url', 'https://example.com/x'], env);
      assert.equal(JSON.parse(unknown.stderr).error.code, 'account.not_found');
      assert.equal((cli(['webhook', 'list', '--account', accountId], env).json!.webhooks as unknown[]).length, 1, 'nothing stored by a refusal');
    });
  });
}
