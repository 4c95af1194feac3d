import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Listings that stay fast at 100,000 certificates (`npm run bench -- inventory`). Each list selects
 * the ids of one page through an index that holds its WHERE, its ORDER BY (newest first, id as the
 * tie-break, in that direction) and the columns its filters read, so a deep OFFSET walks index
 * entries only, never the wide rows; the page's rows are then read by id. COUNT uses the same index.
 * On PostgreSQL the columns only filtered on are INCLUDEd (index-only scans once vacuumed); SQLite
 * has no INCLUDE and takes them as trailing key columns. `IF [NOT] EXISTS` throughout: migrations
 * 016 and 017 (renewal, expiry) may have made or dropped an index of the same name already.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const index = async (name: string, table: string, keys: string, covered: string) => {
    const statement = postgres
      ? `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${keys}) INCLUDE (${covered})`
      : `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${keys}, ${covered})`;
    await sql.raw(statement).execute(db);
  };

  // The inventory (APIG list, CAS user certificates): its filters are these columns, the keyword aside.
  await index(
    'certificates_account_listing',
    'certificates',
    'account_id, created_at DESC, id',
    'not_after, signature_algorithm, algorithm_type, scope, instance_id, name, common_name',
  );
  await sql.raw('DROP INDEX IF EXISTS certificates_account_created').execute(db);
  // A site's certificates (ListCertificates), with the keys its joins follow.
  await index('site_certificates_listing', 'site_certificates', 'site_id, account_id, created_at DESC, id', 'type, issuance_id, certificate_id');
  // The joined rows' expiry, read without their wide rows (the chain PEM) when a listing filters on it.
  await index('certificates_id_expiry', 'certificates', 'id', 'not_after');
  await index('acme_issuances_id_expiry', 'acme_issuances', 'id', 'state, not_after');
  // Expiry and renewal scans: certificates by notAfter, issuances by state and notAfter.
  await sql.raw('CREATE INDEX IF NOT EXISTS certificates_not_after ON certificates (not_after)').execute(db);
  await sql.raw('CREATE INDEX IF NOT EXISTS client_certificates_not_after ON client_certificates (not_after)').execute(db);
  await sql.raw('CREATE INDEX IF NOT EXISTS acme_issuances_state_not_after ON acme_issuances (state, not_after)').execute(db);
}
