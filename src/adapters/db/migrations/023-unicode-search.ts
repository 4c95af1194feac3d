import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The case fold of the list filters for text beyond ASCII (like.ts): on PostgreSQL a SQL function
 * over `lower()`, which PostgreSQL inlines, so `certplane_fold(name)` is `lower(name)` to the planner
 * and the trigram indexes of migration 019 still serve it. SQLite has no stored functions: each
 * connection registers its own (database.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql.raw(`CREATE OR REPLACE FUNCTION certplane_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT lower($1)'`).execute(db);
}
