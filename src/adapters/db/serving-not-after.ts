import { sql, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

/**
 * The notAfter of the certificate a site certificate serves, as an SQL expression on a
 * `site_certificates` row (both engines): a free certificate's issuance once it is `valid`, any
 * other type's inventory certificate; NULL when it serves none yet. Listing filters read the stored
 * copy (`site_certificates.not_after`, migration 019) so they need no join.
 */
export const SERVING_NOT_AFTER = `CASE WHEN site_certificates.type = 'free'
  THEN (SELECT i.not_after FROM acme_issuances i WHERE i.id = site_certificates.issuance_id AND i.state = 'valid')
  ELSE (SELECT c.not_after FROM certificates c WHERE c.id = site_certificates.certificate_id) END`;

/**
 * The served certificate's common name and SANs (`cn|san`) as an SQL expression on a
 * `site_certificates` row, stored in `served_names` beside not_after: a Keyword matches it, the
 * row's name and its domain without joining the certificate tables.
 */
export const SERVED_NAMES = `CASE WHEN site_certificates.type = 'free'
  THEN (SELECT coalesce(i.common_name, '') || '|' || coalesce(i.san, '') FROM acme_issuances i WHERE i.id = site_certificates.issuance_id)
  ELSE (SELECT c.common_name || '|' || c.san FROM certificates c WHERE c.id = site_certificates.certificate_id) END`;

/**
 * Recomputes `site_certificates.not_after` for the rows that serve this issuance, this inventory
 * certificate or that have this id, in the caller's transaction: call it wherever what a site
 * certificate serves changes (an issuance becomes valid, a renewal switches over, SetCertificate,
 * an inventory certificate's content is replaced).
 */
export async function refreshServingNotAfter(tx: Transaction<Schema>, by: { issuanceId: string } | { certificateId: string } | { siteCertificateId: string }): Promise<void> {
  const [column, value] = 'issuanceId' in by ? ['issuance_id', by.issuanceId] : 'certificateId' in by ? ['certificate_id', by.certificateId] : ['id', by.siteCertificateId];
  await sql`UPDATE site_certificates SET not_after = ${sql.raw(SERVING_NOT_AFTER)}, served_names = ${sql.raw(SERVED_NAMES)} WHERE ${sql.ref(column)} = ${value}`.execute(tx);
}
