import { sql, type Kysely } from 'kysely';

/**
 * CAS uploads carry a resource group and tags (`UploadUserCertificate` ResourceGroupId and Tags):
 * `certificates.resource_group_id` (NULL: in no group) and `certificates.tags` (a JSON array of
 * {key, value}). Certificates that exist are in no group and have no tags.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('certificates').addColumn('resource_group_id', 'text').execute();
  await db.schema.alterTable('certificates').addColumn('tags', 'text', (c) => c.notNull().defaultTo(sql`'[]'`)).execute();
}
