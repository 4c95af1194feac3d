import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * A site certificate's filters (ValidOnly, Status) without joins: `site_certificates.not_after` holds
 * the notAfter of the certificate the site serves — its issuance's when the certificate is free and
 * the issuance is `valid`, its inventory certificate's otherwise, NULL when there is none yet. The
 * stores keep it current in the transaction that changes what is served (serving-not-after.ts); here
 * it is filled in for the rows that exist. A filtered count reads a range of
 * `site_certificates_not_after`; a filtered page walks `site_certificates_listing`, which now covers
 * not_after too, in list order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('site_certificates').addColumn('not_after', 'text').execute();
  await db.schema.alterTable('site_certificates').addColumn('served_names', 'text').execute();
  // The same expression as serving-not-after.ts, copied: a migration does not change with the code.
  await sql
    .raw(
      `UPDATE site_certificates SET not_after = CASE WHEN site_certificates.type = 'free'
        THEN (SELECT i.not_after FROM acme_issuances i WHERE i.id = site_certificates.issuance_id AND i.state = 'valid')
        ELSE (SELECT c.not_after FROM certificates c WHERE c.id = site_certificates.certificate_id) END,
        served_names = CASE WHEN site_certificates.type = 'free'
        THEN (SELECT coalesce(i.common_name, '') || '|' || coalesce(i.san, '') FROM acme_issuances i WHERE i.id = site_certificates.issuance_id)
        ELSE (SELECT c.common_name || '|' || c.san FROM certificates c WHERE c.id = site_certificates.certificate_id) END`,
    )
    .execute(db);
  await sql.raw('DROP INDEX IF EXISTS site_certificates_listing').execute(db);
  await sql
    .raw(
      postgres
        ? 'CREATE INDEX site_certificates_listing ON site_certificates (site_id, account_id, created_at DESC, id) INCLUDE (type, issuance_id, certificate_id, not_after)'
        : 'CREATE INDEX site_certificates_listing ON site_certificates (site_id, account_id, created_at DESC, id, type, issuance_id, certificate_id, not_after)',
    )
    .execute(db);
  await sql.raw('CREATE INDEX site_certificates_not_after ON site_certificates (site_id, account_id, not_after)').execute(db);
  if (postgres) await trigramIndexes(db);
}

/**
 * On PostgreSQL with the pg_trgm extension available (it is a trusted extension: the database's
 * owner may create it), trigram GIN indexes serve the inventory's substring filters
 * (`lower(x) LIKE '%…%'`, APIG `common_name` and `name`, ESA `Keyword`) unchanged. Without it, or without the
 * right to create it, these filters read every row of the account, as on SQLite.
 */
async function trigramIndexes(db: Kysely<unknown>): Promise<void> {
  const available = await sql<{ name: string }>`SELECT name FROM pg_available_extensions WHERE name = 'pg_trgm'`.execute(db);
  if (available.rows.length === 0) return;
  await sql`SAVEPOINT pg_trgm`.execute(db);
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  } catch {
    await sql`ROLLBACK TO SAVEPOINT pg_trgm`.execute(db);
    return;
  }
  await sql`RELEASE SAVEPOINT pg_trgm`.execute(db);
  await sql`CREATE INDEX certificates_common_name_trgm ON certificates USING gin (lower(common_name) gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX certificates_name_trgm ON certificates USING gin (lower(name) gin_trgm_ops)`.execute(db);
  // ESA ListCertificates' Keyword: the row's name, its domain and the served certificate's names.
  for (const column of ['name', 'domain', 'served_names']) {
    await sql`CREATE INDEX ${sql.raw(`site_certificates_${column}_trgm`)} ON site_certificates USING gin (lower(${sql.raw(column)}) gin_trgm_ops)`.execute(db);
  }
}
