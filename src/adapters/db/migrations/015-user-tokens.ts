import type { Kysely } from 'kysely';

/**
 * A token may speak for a user of its account (`certplane token create --user`), who then has only
 * the rights of the user's policies; a token without one is its account's root, as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('auth_tokens').addColumn('user_id', 'text').execute();
}
