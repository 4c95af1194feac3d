import type { Kysely } from 'kysely';

/**
 * A deploy target may hold a managed client CA's certificate and CRL (`deploy add --client-ca`):
 * `client_ca_id` names the CA (its `site_id` is the CA's site, so the scope check of migration 016
 * still holds); the target goes with the CA.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('deploy_targets').addColumn('client_ca_id', 'text', (c) => c.references('client_cas.id').onDelete('cascade')).execute();
  await db.schema.createIndex('deploy_targets_client_ca').on('deploy_targets').column('client_ca_id').execute();
}
