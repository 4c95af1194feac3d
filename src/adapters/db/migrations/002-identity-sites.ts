import { sql, type Kysely } from 'kysely';

/**
 * Users and their policies, signature nonces, the audit log, plan instances and ESA sites;
 * certificates learn which site they were obtained for.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('users_account_name', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('policies_account_name', ['account_id', 'name'])
    .execute();

  await db.schema
    .createTable('user_policies')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('policy_id', 'text', (c) => c.notNull().references('policies.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_policies_pk', ['user_id', 'policy_id'])
    .execute();

  // A nonce is remembered until its request could no longer pass the date check.
  await db.schema
    .createTable('signature_nonces')
    .addColumn('access_key_id', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('signature_nonces_pk', ['access_key_id', 'nonce'])
    .execute();
  await db.schema.createIndex('signature_nonces_expiry').on('signature_nonces').column('expires_at').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_account_at').on('audit_events').columns(['account_id', 'at']).execute();

  await db.schema
    .createTable('plan_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('access_type', 'text', (c) => c.notNull())
    .addColumn('coverage', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull().references('plan_instances.id'))
    .addColumn('resource_group_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('verify_code', 'text', (c) => c.notNull())
    .addColumn('name_servers', 'text', (c) => c.notNull())
    .addColumn('cname_zone', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('verified_at', 'text')
    .addUniqueConstraint('sites_account_name', ['account_id', 'name'])
    .execute();
  await db.schema.createIndex('sites_instance').on('sites').column('instance_id').execute();

  // Certificates certplane obtains for a site (ESA free certificates) point back at it.
  await db.schema.alterTable('certificates').addColumn('site_id', 'text').execute();
  await db.schema.alterTable('certificates').addColumn('source', 'text', (c) => c.notNull().defaultTo('upload')).execute();
  // Partial: uploaded certificates (most rows) have no site and cost this index nothing.
  await db.schema
    .createIndex('certificates_site')
    .on('certificates')
    .column('site_id')
    .where(sql.ref('site_id'), 'is not', null)
    .execute();
}
