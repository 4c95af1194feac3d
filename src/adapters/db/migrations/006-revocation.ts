import { sql, type Kysely } from 'kysely';
import { ocspIssuerIds } from '../../../core/private-ca/revocation.js';
import { parseCertificate } from '../../../pki/index.js';

/**
 * Revocation for the managed CAs. Each CA counts the changes of what its CRL lists
 * (`revocation_version`, raised in the same transaction as each change) and remembers which of
 * them its stored CRL reflects (`crl_revocation_version`): a CRL behind the count is reissued when
 * next served, even if the process that made the change died before reissuing it. And each managed
 * CA keeps the ids OCSP CertIDs name it by (`ocsp_sha1`, `ocsp_sha256`), indexed, computed here
 * for the CAs made before this migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('client_cas').addColumn('revocation_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('client_cas').addColumn('crl_revocation_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('client_cas').addColumn('ocsp_sha1', 'text').execute();
  await db.schema.alterTable('client_cas').addColumn('ocsp_sha256', 'text').execute();
  const managed = await sql<{ id: string; certificate_pem: string }>`select id, certificate_pem from client_cas where kind = 'managed'`.execute(db);
  for (const row of managed.rows) {
    const ids = ocspIssuerIds(parseCertificate(row.certificate_pem));
    await sql`update client_cas set ocsp_sha1 = ${ids.sha1}, ocsp_sha256 = ${ids.sha256} where id = ${row.id}`.execute(db);
  }
  await db.schema.createIndex('client_cas_ocsp_sha1').on('client_cas').column('ocsp_sha1').execute();
  await db.schema.createIndex('client_cas_ocsp_sha256').on('client_cas').column('ocsp_sha256').execute();
}
