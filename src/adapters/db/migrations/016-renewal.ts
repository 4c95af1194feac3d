import { sql, type Kysely } from 'kysely';

/**
 * Renewal of the certificates certplane obtained for ESA sites, and deploy targets.
 *
 * - `acme_issuances` gains what renewal needs: `renew_at` (when the `renewal.scan` job next looks
 *   at a valid issuance: its planned renewal, or the next ARI check; null for issuances nobody
 *   renews), `renewal_failures` (failed renewals since the last success, for the backoff),
 *   `renewed_by` (the renewal in progress, then the one that replaced it) and `retired_at` (when a
 *   renewal took its place), `ari_check_at` (with ACME Renewal Information: the CA's Retry-After,
 *   before which it is not asked again; a `renew_at` before it is the time chosen in its window). The partial index serves the scan's range on `renew_at`; site
 *   certificates are indexed by issuance for the scan and the switch-over.
 * - `deploy_targets`: a directory the current certificate and key of one site certificate (or of
 *   every free certificate of a site) are written into, and the command that reloads the server
 *   reading them (argv as JSON, run without a shell).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('acme_issuances').addColumn('renew_at', 'text').execute();
  await db.schema.alterTable('acme_issuances').addColumn('renewal_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('acme_issuances').addColumn('renewed_by', 'text').execute();
  await db.schema.alterTable('acme_issuances').addColumn('retired_at', 'text').execute();
  await db.schema.alterTable('acme_issuances').addColumn('ari_check_at', 'text').execute();
  await db.schema
    .createIndex('acme_issuances_renew_at')
    .on('acme_issuances')
    .column('renew_at')
    .where(sql.ref('renew_at'), 'is not', null)
    .execute();
  await db.schema.createIndex('acme_issuances_renewed_by').on('acme_issuances').column('renewed_by').execute();
  // The scan's "is it a site's certificate" and the switch-over both look site certificates up by issuance.
  await db.schema.createIndex('site_certificates_issuance').on('site_certificates').column('issuance_id').execute();

  await db.schema
    .createTable('deploy_targets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.references('sites.id').onDelete('cascade'))
    .addColumn('site_certificate_id', 'text', (c) => c.references('site_certificates.id').onDelete('cascade'))
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('reload_command', 'text')
    .addColumn('reload_timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('deploy_targets_scope', sql`(site_id is null) <> (site_certificate_id is null)`)
    .execute();
  await db.schema.createIndex('deploy_targets_account').on('deploy_targets').column('account_id').execute();
  await db.schema.createIndex('deploy_targets_site').on('deploy_targets').column('site_id').execute();
  await db.schema.createIndex('deploy_targets_site_certificate').on('deploy_targets').column('site_certificate_id').execute();
}
