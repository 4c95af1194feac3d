import type { Insertable, Selectable } from 'kysely';
import type { CaKind, ClientCa, ClientCertificate, ClientCertificateStatus, PublicKeyAlgorithm } from '../../core/private-ca/model.js';
import type { ClientCasTable, ClientCertificatesTable } from './schema.js';

/** Rows are not domain objects: the mappers between the private CA's tables and its models. */

/** The columns a CA is read with: never its sealed key, nor its CRL. */
export const CA_COLUMNS = [
  'id',
  'account_id',
  'site_id',
  'kind',
  'name',
  'certificate_pem',
  'common_name',
  'issuer',
  'serial_number',
  'fingerprint_sha256',
  'signature_algorithm',
  'public_key_algorithm',
  'san',
  'not_before',
  'not_after',
  'hostnames',
  'created_at',
  'updated_at',
] as const;

/** The columns a certificate is read with: never its sealed key. */
export const CERTIFICATE_COLUMNS = [
  'id',
  'account_id',
  'site_id',
  'ca_id',
  'serial_number',
  'status',
  'common_name',
  'issuer',
  'public_key_algorithm',
  'key_generated',
  'certificate_pem',
  'fingerprint_sha256',
  'signature_algorithm',
  'not_before',
  'not_after',
  'validity_days',
  'revoked_at',
  'created_at',
  'updated_at',
] as const;

type CaRow = Pick<Selectable<ClientCasTable>, (typeof CA_COLUMNS)[number]>;
type CertificateRow = Pick<Selectable<ClientCertificatesTable>, (typeof CERTIFICATE_COLUMNS)[number]>;

export function caToRow(ca: ClientCa, sealedKey: string | null): Insertable<ClientCasTable> {
  return {
    id: ca.id,
    account_id: ca.accountId,
    site_id: ca.siteId,
    kind: ca.kind,
    name: ca.name,
    certificate_pem: ca.certificatePem,
    key_sealed: sealedKey,
    common_name: ca.commonName,
    issuer: ca.issuer,
    serial_number: ca.serialNumber,
    fingerprint_sha256: ca.fingerprintSha256,
    signature_algorithm: ca.signatureAlgorithm,
    public_key_algorithm: ca.publicKeyAlgorithm,
    san: ca.san,
    not_before: ca.notBefore.toISOString(),
    not_after: ca.notAfter.toISOString(),
    hostnames: JSON.stringify(ca.hostnames),
    created_at: ca.createdAt.toISOString(),
    updated_at: ca.updatedAt.toISOString(),
  };
}

export function caFromRow(row: CaRow): ClientCa {
  return {
    id: row.id,
    accountId: row.account_id,
    siteId: row.site_id,
    kind: row.kind as CaKind,
    name: row.name,
    certificatePem: row.certificate_pem,
    commonName: row.common_name,
    issuer: row.issuer,
    serialNumber: row.serial_number,
    fingerprintSha256: row.fingerprint_sha256,
    signatureAlgorithm: row.signature_algorithm,
    publicKeyAlgorithm: row.public_key_algorithm as PublicKeyAlgorithm,
    san: row.san,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    hostnames: JSON.parse(row.hostnames) as string[],
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** A reservation's row: always the same columns in the same order (the insert is compiled once). */
export function certificateToRow(c: ClientCertificate): ClientCertificatesTable {
  return {
    id: c.id,
    account_id: c.accountId,
    site_id: c.siteId,
    ca_id: c.caId,
    serial_number: c.serialNumber,
    status: c.status,
    common_name: c.commonName,
    issuer: c.issuer,
    public_key_algorithm: c.publicKeyAlgorithm,
    key_generated: c.keyGenerated ? 1 : 0,
    key_sealed: null,
    certificate_pem: c.certificatePem,
    fingerprint_sha256: c.fingerprintSha256,
    signature_algorithm: c.signatureAlgorithm,
    not_before: c.notBefore.toISOString(),
    not_after: c.notAfter.toISOString(),
    validity_days: c.validityDays,
    revoked_at: c.revokedAt?.toISOString() ?? null,
    deleted_at: null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function certificateFromRow(row: CertificateRow): ClientCertificate {
  return {
    id: row.id,
    accountId: row.account_id,
    siteId: row.site_id,
    caId: row.ca_id,
    serialNumber: row.serial_number,
    status: row.status as ClientCertificateStatus,
    commonName: row.common_name,
    issuer: row.issuer,
    publicKeyAlgorithm: row.public_key_algorithm as 'RSA' | 'ECC',
    keyGenerated: Number(row.key_generated) === 1,
    certificatePem: row.certificate_pem,
    fingerprintSha256: row.fingerprint_sha256,
    signatureAlgorithm: row.signature_algorithm,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    validityDays: Number(row.validity_days),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
