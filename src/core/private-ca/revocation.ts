/**
 * What a managed CA says about its certificates to relying parties, in its CRL and through OCSP:
 * the same answer in both, derived from the inventory's record of each serial.
 */
import { ocspIssuerHashesOf, type OcspHash, type ParsedCertificate, type RevocationReason } from '../../pki/index.js';
import type { ClientCertificateStatus } from './model.js';

/** How long CRLs and OCSP answers hold (`clientCa.crlValidityHours`, `clientCa.ocspValidityMinutes`). */
export interface RevocationSettings {
  crlValidityHours: number;
  ocspValidityMinutes: number;
}

/** What the CRL and OCSP need of one certificate record (deleted ones included). */
export interface SerialRecord {
  status: ClientCertificateStatus;
  revokedAt: Date | null;
  /** When the serial was reserved, before anything was signed. */
  createdAt: Date;
  /** Taken out of the API (DeleteClientCertificate): it can never be activated again. */
  deleted: boolean;
}

export interface Revocation {
  revokedAt: Date;
  reason: RevocationReason;
}

/**
 * The revocation a record stands for, or undefined while the certificate is not revoked.
 *
 * - `revoked`, still in the API: `certificateHold` at the revocation time. ActivateClientCertificate
 *   can take it back, and RFC 5280 §5.3.1 allows only a hold to come off a CRL again.
 * - `revoked` and deleted: it can no longer come back, so the reason becomes permanent,
 *   `cessationOfOperation`, at the same time.
 * - `void` (an issuance that failed or was abandoned after its serial was recorded): nothing was
 *   handed out, but a certificate may have been signed, so the serial is revoked
 *   (`cessationOfOperation`) from the moment it was reserved: a date that never changes between CRLs.
 */
export function revocationOf(record: SerialRecord): Revocation | undefined {
  if (record.status === 'revoked') {
    return { revokedAt: record.revokedAt ?? record.createdAt, reason: record.deleted ? 'cessationOfOperation' : 'certificateHold' };
  }
  if (record.status === 'void') return { revokedAt: record.createdAt, reason: 'cessationOfOperation' };
  return undefined;
}

/**
 * How a CertID names a CA, per hash: the issuer name hash and key hash, hex, one after the other.
 * Computed once, when the CA is stored, and kept (indexed) beside it.
 */
export type OcspIssuerIds = Record<OcspHash, string>;

export function ocspIssuerIds(ca: ParsedCertificate): OcspIssuerIds {
  const hashes = ocspIssuerHashesOf(ca);
  const id = (h: OcspHash) => hashes[h].nameHash.toString('hex') + hashes[h].keyHash.toString('hex');
  return { sha1: id('sha1'), sha256: id('sha256') };
}

/** A CRL is reissued when it is served with less than this share of its validity left. */
export const CRL_REFRESH_SHARE = 0.5;

/** Bytes of one OCSP request (the POST body, or the GET path decoded): many CertIDs fit in far less. */
export const OCSP_REQUEST_MAX_BYTES = 16 * 1024;

export const HOUR_MS = 3_600_000;
