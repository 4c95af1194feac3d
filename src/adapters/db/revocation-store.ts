import type { CrlState, ListedSerial, NewCrl, OcspSubject, RevocationStore } from '../../core/private-ca/ports.js';
import type { SerialRecord } from '../../core/private-ca/revocation.js';
import type { ClientCertificateStatus } from '../../core/private-ca/model.js';
import type { OcspHash } from '../../pki/index.js';
import type { Db } from './database.js';

/** Statuses a CRL lists: revoked, and void (the serial may have been signed). */
const LISTED: ClientCertificateStatus[] = ['revoked', 'void'];

/** The managed CAs' CRLs (`client_cas.crl_*`) and the OCSP lookups, over the private CA's tables. */
export class SqlRevocationStore implements RevocationStore {
  constructor(private readonly db: Db) {}

  async crlState(caId: string): Promise<CrlState | undefined> {
    const row = await this.db
      .selectFrom('client_cas')
      .select(['crl_number', 'crl_der', 'crl_next_update', 'revocation_version', 'crl_revocation_version'])
      .where('id', '=', caId)
      .where('kind', '=', 'managed')
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      number: Number(row.crl_number),
      der: row.crl_der ? Buffer.from(row.crl_der) : null,
      nextUpdate: row.crl_next_update ? new Date(row.crl_next_update) : null,
      version: Number(row.revocation_version),
      listedVersion: Number(row.crl_revocation_version),
    };
  }

  async listedSerials(caId: string): Promise<ListedSerial[]> {
    // Deleted certificates included: a revocation outlives the certificate's place in the API.
    const rows = await this.db
      .selectFrom('client_certificates')
      .select(['serial_number', 'status', 'revoked_at', 'created_at', 'deleted_at'])
      .where('ca_id', '=', caId)
      .where('status', 'in', LISTED)
      .orderBy('serial_number')
      .execute();
    return rows.map((row) => ({ serialNumber: row.serial_number, ...recordOf(row) }));
  }

  async publishCrl(caId: string, previous: number, crl: NewCrl): Promise<boolean> {
    const result = await this.db
      .updateTable('client_cas')
      .set({
        crl_number: crl.number,
        crl_der: crl.der,
        crl_this_update: crl.thisUpdate.toISOString(),
        crl_next_update: crl.nextUpdate.toISOString(),
        crl_revocation_version: crl.listedVersion,
      })
      .where('id', '=', caId)
      .where('crl_number', '=', previous)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async ocspSubject(hash: OcspHash, issuerId: string, serialHex: string): Promise<OcspSubject | undefined> {
    const column = hash === 'sha1' ? 'ca.ocsp_sha1' : 'ca.ocsp_sha256';
    const row = await this.db
      .selectFrom('client_cas as ca')
      .leftJoin('client_certificates as c', (join) => join.onRef('c.ca_id', '=', 'ca.id').on('c.serial_number', '=', serialHex))
      .select(['ca.id as ca_id', 'c.status', 'c.revoked_at', 'c.created_at', 'c.deleted_at'])
      .where(column, '=', issuerId)
      .where('ca.kind', '=', 'managed')
      .executeTakeFirst();
    if (!row) return undefined;
    const { status, created_at } = row;
    return { caId: row.ca_id, record: status !== null && created_at !== null ? recordOf({ ...row, status, created_at }) : undefined };
  }
}

function recordOf(row: { status: string; revoked_at: string | null; created_at: string; deleted_at: string | null }): SerialRecord {
  return {
    status: row.status as ClientCertificateStatus,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    createdAt: new Date(row.created_at),
    deleted: row.deleted_at !== null,
  };
}
