import { sql, type Kysely } from 'kysely';

/**
 * CAS certificate orders and the resource packages they consume.
 *
 * - `cas_packages`: per (account, ProductCode), how many certificates the operator granted
 *   (`certplane package grant`). What is used is not stored but counted: the account's orders of
 *   that product whose issuance is neither `invalid` nor `canceled`; so a failed or cancelled order
 *   gives its unit back exactly once, by construction. A submission updates its package row first
 *   (the row lock on PostgreSQL, the write lock on SQLite), then counts, in one transaction.
 * - `cas_orders`: one order, numeric id (at most 15 digits), pointing at the `acme_issuances` row
 *   that fulfils it (placement `user`); the contact given, how control is proved (`DNS` | `FILE`),
 *   whether the key is the user's (`csr`) or certplane's, the deadline for the validation record
 *   to appear, and `deleted_at` once DeleteCertificateRequest removed it from view.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cas_packages')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('product_code', 'text', (c) => c.notNull())
    .addColumn('total_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cas_packages_pk', ['account_id', 'product_code'])
    .addCheckConstraint('cas_packages_total', sql`total_count >= 0`)
    .execute();

  await db.schema
    .createTable('cas_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('product_code', 'text', (c) => c.notNull())
    .addColumn('issuance_id', 'text', (c) => c.notNull().unique().references('acme_issuances.id'))
    .addColumn('validate_type', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('key_source', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('phone', 'text')
    .addColumn('email', 'text')
    .addColumn('company_name', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('deadline_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .addCheckConstraint('cas_orders_validate_type', sql`validate_type in ('DNS', 'FILE')`)
    .addCheckConstraint('cas_orders_key_source', sql`key_source in ('csr', 'certplane')`)
    .execute();
  await db.schema.createIndex('cas_orders_account_product').on('cas_orders').columns(['account_id', 'product_code']).execute();
  await db.schema.createIndex('cas_orders_account_created').on('cas_orders').columns(['account_id', 'created_at']).execute();
}
