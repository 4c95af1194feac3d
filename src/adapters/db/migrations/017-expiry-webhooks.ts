import type { Kysely } from 'kysely';

/**
 * Expiry statuses and webhooks.
 *
 * - Indexes on `not_after` of every kind of certificate (inventory, ACME issuances, client
 *   certificates): listings filter on the expiry status as a range of notAfter, and the
 *   `expiry.scan` job reads only the notAfter values that crossed a threshold since its last run.
 *   Indexes on when rows last changed let the scan also see certificates that arrived (or were
 *   replaced) already inside the window.
 * - `webhooks`: an account's HTTP endpoints, the event types each wants (JSON list; empty: all),
 *   and the signing secret sealed by the Sealer (context `webhook_secret:{id}`).
 *
 * The scan's watermark is a `service_facts` row (`expiry_scan_watermark`), written by the scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const indexes: Array<[name: string, table: string, columns: string[]]> = [
    ['certificates_account_not_after', 'certificates', ['account_id', 'not_after']],
    ['certificates_not_after', 'certificates', ['not_after']],
    ['certificates_updated_at', 'certificates', ['updated_at']],
    ['acme_issuances_not_after', 'acme_issuances', ['not_after']],
    ['acme_issuances_finished_at', 'acme_issuances', ['finished_at']],
    // The scan reports an issuance as the site certificate holding it.
    ['site_certificates_issuance', 'site_certificates', ['issuance_id']],
    ['client_certificates_site_not_after', 'client_certificates', ['site_id', 'not_after']],
    ['client_certificates_not_after', 'client_certificates', ['not_after']],
    ['client_certificates_updated_at', 'client_certificates', ['updated_at']],
  ];
  for (const [name, table, columns] of indexes) {
    await db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();
  }

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhooks_account').on('webhooks').column('account_id').execute();
}
