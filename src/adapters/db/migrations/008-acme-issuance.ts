import { sql, type Kysely } from 'kysely';

/**
 * Certificates obtained through ACME, and what a site holds.
 *
 * - `acme_accounts`: one ACME account per (certplane account, issuer profile, directory URL), its
 *   key sealed; registered on first use, so the unique key decides a race between two workers.
 * - `acme_issuances`: one certificate to obtain from a CA, worked by the `acme.issue` job. It knows
 *   its profile, identifiers, how control is proved (`challenge_type`, and `placement`: certplane
 *   places the records itself, or the user does, for CAS orders), the CSR or the generated key, the
 *   order URL once ordered, per-authorization progress (`authorizations`, JSON), and the chain with
 *   its parsed facts once valid. `replaces` names the issuance it renews. The ESA and CAS sides point
 *   at issuances; the engine never needs to know which one asked.
 * - `http01_challenges`: the tokens certplane's http-01 responder answers, shared by every server
 *   process through the database.
 * - `site_certificates`: ESA's certificates of a site: `free` ones point at their issuance
 *   (`issuance_id`), uploaded ones (`upload`, `cas`) at the inventory (`certificate_id`). At most one
 *   free application per (site, domain) is in progress at a time (partial unique index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('acme_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('directory_url', 'text', (c) => c.notNull())
    .addColumn('key_sealed', 'text', (c) => c.notNull())
    .addColumn('account_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('acme_accounts_owner', ['account_id', 'profile', 'directory_url'])
    .execute();

  await db.schema
    .createTable('acme_issuances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('identifiers', 'text', (c) => c.notNull())
    .addColumn('challenge_type', 'text', (c) => c.notNull())
    .addColumn('placement', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('csr_pem', 'text')
    .addColumn('key_type', 'text')
    .addColumn('key_id', 'text', (c) => c.references('private_keys.id'))
    .addColumn('acme_account_id', 'text', (c) => c.references('acme_accounts.id'))
    .addColumn('order_url', 'text')
    .addColumn('authorizations', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('replaces', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_detail', 'text')
    .addColumn('chain_pem', 'text')
    .addColumn('common_name', 'text')
    .addColumn('san', 'text')
    .addColumn('serial_number', 'text')
    .addColumn('fingerprint_sha256', 'text')
    .addColumn('issuer', 'text')
    .addColumn('issuer_cn', 'text')
    .addColumn('public_key_algorithm', 'text')
    .addColumn('signature_algorithm', 'text')
    .addColumn('not_before', 'text')
    .addColumn('not_after', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addCheckConstraint('acme_issuances_state', sql`state in ('queued', 'ordered', 'validating', 'finalizing', 'valid', 'invalid', 'canceled')`)
    .addCheckConstraint('acme_issuances_challenge', sql`challenge_type in ('http-01', 'dns-01')`)
    .addCheckConstraint('acme_issuances_placement', sql`placement in ('certplane', 'user')`)
    .execute();
  await db.schema.createIndex('acme_issuances_account_state').on('acme_issuances').columns(['account_id', 'state']).execute();

  await db.schema
    .createTable('http01_challenges')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('key_authorization', 'text', (c) => c.notNull())
    .addColumn('issuance_id', 'text', (c) => c.notNull().references('acme_issuances.id').onDelete('cascade'))
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('http01_challenges_issuance').on('http01_challenges').column('issuance_id').execute();

  await db.schema
    .createTable('site_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('domain', 'text')
    .addColumn('issuer_profile', 'text')
    .addColumn('applying', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('issuance_id', 'text', (c) => c.references('acme_issuances.id'))
    .addColumn('certificate_id', 'text', (c) => c.references('certificates.id'))
    .addColumn('cas_id', 'text')
    .addColumn('region', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('site_certificates_type', sql`type in ('free', 'upload', 'cas')`)
    .execute();
  await db.schema.createIndex('site_certificates_site_created').on('site_certificates').columns(['site_id', 'created_at']).execute();
  // The race between two ApplyCertificate calls for one domain is decided here.
  await db.schema
    .createIndex('site_certificates_applying_domain')
    .on('site_certificates')
    .columns(['site_id', 'domain'])
    .unique()
    .where(sql.ref('applying'), '=', 1)
    .execute();
}
