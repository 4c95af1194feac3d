import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { pino } from 'pino';
import { openDatabase } from '../../src/adapters/db/database.js';
import { migrationProvider } from '../../src/adapters/db/migrations/index.js';
import { compose } from '../../src/main.js';
import { ENGINES, createTestDatabase } from '../support/databases.js';
import { testConfig } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`migration 004 on ${engine}`, () => {
    it('gives tokens made before it an id, and they keep working and can be revoked', async () => {
      const testDb = await createTestDatabase(engine);
      try {
        // A database as the previous version left it: migrated to 002, one account, one token.
        const old = openDatabase(testDb.database);
        const { error } = await new Migrator({ db: old.db, provider: migrationProvider }).migrateTo('002-identity-sites');
        assert.equal(error, undefined);
        const token = 'cpt_made-by-the-previous-version';
        const now = new Date();
        await sql`insert into accounts (id, name, project_id, created_at) values ('100000000000001', 'old', ${'a'.repeat(32)}, ${now.toISOString()})`.execute(old.db);
        await sql`insert into auth_tokens (token_hash, account_id, expires_at, created_at)
          values (${createHash('sha256').update(token).digest('hex')}, '100000000000001', ${new Date(now.getTime() + 3_600_000).toISOString()}, ${now.toISOString()})`.execute(old.db);
        await old.close();

        const app = await compose(testConfig(testDb), { logger: pino({ level: 'silent' }) });
        try {
          assert.equal((await app.accounts.authenticateToken(token)).accountId, '100000000000001');
          const [listed] = await app.accounts.listTokens('100000000000001');
          assert.match(listed!.id, /^tok-[0-9a-f]{20}$/);
          await app.accounts.revokeToken(listed!.id);
          await assert.rejects(app.accounts.authenticateToken(token), /revoked/);
        } finally {
          await app.close();
        }
      } finally {
        await testDb.drop();
      }
    });
  });
}
