import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * Tokens get an id an operator can name (`token revoke --id`) and a revocation time; tokens made
 * before this migration get ids too, so they keep working and can be revoked like any other.
 * `service_facts` keeps facts about the installation itself, such as the master-key canary.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('auth_tokens').addColumn('id', 'text').execute();
  await db.schema.alterTable('auth_tokens').addColumn('revoked_at', 'text').execute();
  const existing = await sql<{ token_hash: string }>`select token_hash from auth_tokens`.execute(db);
  for (const row of existing.rows) {
    await sql`update auth_tokens set id = ${newTokenId()} where token_hash = ${row.token_hash}`.execute(db);
  }
  await db.schema.createIndex('auth_tokens_id').on('auth_tokens').column('id').unique().execute();
  await db.schema.createIndex('auth_tokens_account').on('auth_tokens').column('account_id').execute();

  await db.schema
    .createTable('service_facts')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

/** The same shape `AccountsService` gives new tokens. */
function newTokenId(): string {
  return `tok-${randomBytes(10).toString('hex')}`;
}
