import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The private CA of ESA client certificates: client CAs (each site's managed CA, with its sealed
 * key, and CAs uploaded to be trusted) and the client certificates the managed CAs issue. A
 * certificate's row exists from before it is signed (`issuing`), so every serial a CA may have
 * signed is on record; deleting a certificate only hides it (`deleted_at`), so revocations outlive it.
 * Each CA row has room for its latest CRL (`crl_*`), which the revocation work fills.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // DER bytes: bytea on PostgreSQL, blob on SQLite; both drivers hand back a Buffer.
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? sql`bytea` : sql`blob`;
  await db.schema
    .createTable('client_cas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('key_sealed', 'text')
    .addColumn('common_name', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('fingerprint_sha256', 'text', (c) => c.notNull())
    .addColumn('signature_algorithm', 'text', (c) => c.notNull())
    .addColumn('public_key_algorithm', 'text', (c) => c.notNull())
    .addColumn('san', 'text', (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .addColumn('hostnames', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('crl_number', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('crl_der', binary)
    .addColumn('crl_this_update', 'text')
    .addColumn('crl_next_update', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // One managed CA per site: the race to create it on first use is decided here.
  await db.schema
    .createIndex('client_cas_site_managed')
    .on('client_cas')
    .column('site_id')
    .unique()
    .where(sql.ref('kind'), '=', 'managed')
    .execute();
  await db.schema.createIndex('client_cas_site_created').on('client_cas').columns(['site_id', 'created_at']).execute();

  await db.schema
    .createTable('client_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('ca_id', 'text', (c) => c.notNull().references('client_cas.id').onDelete('cascade'))
    .addColumn('serial_number', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('common_name', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('public_key_algorithm', 'text', (c) => c.notNull())
    .addColumn('key_generated', 'integer', (c) => c.notNull())
    .addColumn('key_sealed', 'text')
    .addColumn('certificate_pem', 'text')
    .addColumn('fingerprint_sha256', 'text')
    .addColumn('signature_algorithm', 'text')
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .addColumn('validity_days', 'integer', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('deleted_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // OCSP and CRLs look certificates up by (CA, serial); a serial is never used twice by a CA.
  await db.schema
    .createIndex('client_certificates_ca_serial')
    .on('client_certificates')
    .columns(['ca_id', 'serial_number'])
    .unique()
    .execute();
  await db.schema
    .createIndex('client_certificates_site_created')
    .on('client_certificates')
    .columns(['site_id', 'created_at'])
    .execute();
  // Partial: only issuances in flight (or abandoned), which the voiding of abandoned ones scans.
  await db.schema
    .createIndex('client_certificates_issuing')
    .on('client_certificates')
    .column('created_at')
    .where(sql.ref('status'), '=', 'issuing')
    .execute();
}
