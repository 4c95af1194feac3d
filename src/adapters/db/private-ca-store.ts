import { sql, type Transaction, type WhereInterface } from 'kysely';
import type { NewJob } from '../../core/jobs/ports.js';
import { randomIds, type IdGenerator } from '../../kernel/ids.js';
import { enqueueWith } from './job-store.js';
import type { ExpiryFilter } from '../../core/certificates/expiry.js';
import { notAfterMatches } from './expiry-filter.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import type { ClientCa, ClientCertificate, ClientCertificateStatus, Page } from '../../core/private-ca/model.js';
import { ManagedCaExists, UnknownCa, type DeleteCaOutcome, type PrivateCaStore, type SignedRecord } from '../../core/private-ca/ports.js';
import type { OcspIssuerIds } from '../../core/private-ca/revocation.js';
import type { CaKeySource } from '../ca/node-signer.js';
import { auditRow } from './audit-log.js';
import { CompiledQueries } from './compiled.js';
import { isUniqueViolation, type Database, type Db } from './database.js';
import { CA_COLUMNS, CERTIFICATE_COLUMNS, caFromRow, caToRow, certificateFromRow, certificateToRow } from './private-ca-rows.js';
import type { Schema } from './schema.js';

/** Statuses that keep a CA from being deleted: certificates in use, or about to be. */
const LIVE: ClientCertificateStatus[] = ['active', 'issuing'];

export class SqlPrivateCaStore implements PrivateCaStore, CaKeySource {
  private readonly compiled = new CompiledQueries();
  private readonly db: Db;

  constructor(
    private readonly database: Database,
    private readonly ids: IdGenerator = randomIds,
  ) {
    this.db = database.db;
  }

  async findCa(accountId: string, siteId: string, id: string): Promise<ClientCa | undefined> {
    const row = await this.cas(accountId, siteId).where('id', '=', id).executeTakeFirst();
    return row && caFromRow(row);
  }

  async findManagedCa(siteId: string): Promise<ClientCa | undefined> {
    const row = await this.db.selectFrom('client_cas').select(CA_COLUMNS).where('site_id', '=', siteId).where('kind', '=', 'managed').executeTakeFirst();
    return row && caFromRow(row);
  }

  async managedCaCertificate(id: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('client_cas').select('certificate_pem').where('id', '=', id).where('kind', '=', 'managed').executeTakeFirst();
    return row?.certificate_pem;
  }

  /** For the signer only: the one read of a sealed CA key. */
  async caKey(caId: string): Promise<{ certificatePem: string; sealedKey: string } | undefined> {
    const row = await this.db.selectFrom('client_cas').select(['certificate_pem', 'key_sealed']).where('id', '=', caId).where('kind', '=', 'managed').executeTakeFirst();
    return row?.key_sealed ? { certificatePem: row.certificate_pem, sealedKey: row.key_sealed } : undefined;
  }

  async insertManagedCa(ca: ClientCa, sealedKey: string, issuerIds: OcspIssuerIds, audit: AuditEvent): Promise<void> {
    try {
      await this.db.transaction().execute(async (tx) => {
        await tx.insertInto('client_cas').values({ ...caToRow(ca, sealedKey), ocsp_sha1: issuerIds.sha1, ocsp_sha256: issuerIds.sha256 }).execute();
        await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ManagedCaExists(`site ${ca.siteId} has a managed CA already`, { cause: err });
      throw err;
    }
  }

  async insertUploadedCa(ca: ClientCa, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('client_cas').values(caToRow(ca, null)).execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async listCas(accountId: string, siteId: string, page: Page): Promise<{ total: number; items: ClientCa[] }> {
    const counted = await this.db
      .selectFrom('client_cas')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('account_id', '=', accountId)
      .where('site_id', '=', siteId)
      .executeTakeFirstOrThrow();
    const rows = await this.cas(accountId, siteId).orderBy('created_at', 'desc').orderBy('id').limit(page.size).offset((page.number - 1) * page.size).execute();
    return { total: Number(counted.n), items: rows.map(caFromRow) };
  }

  async deleteCa(accountId: string, siteId: string, id: string, audit: AuditEvent): Promise<DeleteCaOutcome | undefined> {
    return this.db.transaction().execute(async (tx) => {
      if (!(await this.lockCa(tx, accountId, siteId, id))) return undefined;
      const live = await tx
        .selectFrom('client_certificates')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('ca_id', '=', id)
        .where('status', 'in', LIVE)
        .executeTakeFirstOrThrow();
      if (Number(live.n) > 0) return { deleted: false, active: Number(live.n) };
      // The certificates' records go with their CA (cascade): without it, no CRL or OCSP answer exists for them.
      await tx.deleteFrom('client_cas').where('id', '=', id).execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return { deleted: true };
    });
  }

  async setHostnames(accountId: string, siteId: string, id: string, hostnames: string[], at: Date, audit: AuditEvent): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('client_cas')
        .set({ hostnames: JSON.stringify(hostnames), updated_at: at.toISOString() })
        .where('account_id', '=', accountId)
        .where('site_id', '=', siteId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
  }

  async reserve(certificate: ClientCertificate): Promise<void> {
    try {
      // Through writeAll: on SQLite it runs synchronously on the connection, sparing the async driver path.
      await this.database.writeAll([this.compiled.insert(this.db, 'client_certificates', { ...certificateToRow(certificate) })]);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new UnknownCa(`CA ${certificate.caId} no longer exists`, { cause: err });
      throw err;
    }
  }

  /**
   * Not conditional on `issuing`: were a record voided as abandoned while its issuance was in fact
   * still running, the certificate it releases makes it active, which is what it then is.
   */
  async complete(id: string, signed: SignedRecord, audit: AuditEvent): Promise<void> {
    const at = signed.at.toISOString();
    const update = this.compiled.query(
      'complete',
      () =>
        this.db
          .updateTable('client_certificates')
          .set({ status: '', certificate_pem: '', fingerprint_sha256: '', signature_algorithm: '', key_sealed: '', updated_at: '' })
          .where('id', '=', ''),
      ['active', signed.certificatePem, signed.fingerprintSha256, signed.signatureAlgorithm, signed.sealedKey, at, id],
    );
    await this.database.writeAll([update, this.compiled.insert(this.db, 'audit_events', { ...auditRow(audit) })]);
  }

  /** A void serial is on its CA's CRL: the CA's revocation version moves with it. */
  async voidIssuing(id: string, at: Date): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await bumpRevocationVersion(tx, <Q extends WhereBuilder>(q: Q) => q.where('id', '=', id).where('status', '=', 'issuing') as Q);
      const result = await tx
        .updateTable('client_certificates')
        .set({ status: 'void', updated_at: at.toISOString() })
        .where('id', '=', id)
        .where('status', '=', 'issuing')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  async voidAbandoned(before: Date, at: Date, siteId?: string): Promise<number> {
    const abandoned = <Q extends WhereBuilder>(q: Q): Q => {
      const old = q.where('status', '=', 'issuing').where('created_at', '<', before.toISOString()) as Q;
      return siteId === undefined ? old : (old.where('site_id', '=', siteId) as Q);
    };
    return this.db.transaction().execute(async (tx) => {
      // Versions first (CA rows, then certificates, the order deleteCa locks in); no row can join
      // the set in between, as only records made before `before` qualify.
      await bumpRevocationVersion(tx, abandoned);
      const result = await abandoned(tx.updateTable('client_certificates').set({ status: 'void', updated_at: at.toISOString() })).executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  async findCertificate(accountId: string, siteId: string, id: string): Promise<ClientCertificate | undefined> {
    const row = await this.certificates(accountId, siteId).where('id', '=', id).executeTakeFirst();
    return row && certificateFromRow(row);
  }

  async listCertificates(accountId: string, siteId: string, page: Page, expiry?: ExpiryFilter): Promise<{ total: number; items: ClientCertificate[] }> {
    const counted = await this.db
      .selectFrom('client_certificates')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('account_id', '=', accountId)
      .where('site_id', '=', siteId)
      .where('deleted_at', 'is', null)
      .$if(expiry !== undefined, (q) => q.where(notAfterMatches('not_after', expiry!)))
      .executeTakeFirstOrThrow();
    const rows = await this.certificates(accountId, siteId)
      .$if(expiry !== undefined, (q) => q.where(notAfterMatches('not_after', expiry!)))
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(page.size)
      .offset((page.number - 1) * page.size)
      .execute();
    return { total: Number(counted.n), items: rows.map(certificateFromRow) };
  }

  async changeStatus(
    accountId: string,
    siteId: string,
    id: string,
    change: { from: ClientCertificateStatus; to: ClientCertificateStatus; at: Date; event?: NewJob | undefined },
    audit: AuditEvent,
  ): Promise<boolean> {
    const at = change.at.toISOString();
    const event = change.event;
    const target = <Q extends WhereBuilder>(q: Q): Q =>
      q.where('account_id', '=', accountId).where('site_id', '=', siteId).where('id', '=', id).where('status', '=', change.from).where('deleted_at', 'is', null) as Q;
    return this.changeOne(audit, async (tx) => {
      // The CA's row first, as deleteCa locks them; a bump for a change that then loses a race only costs a reissue.
      await bumpRevocationVersion(tx, target);
      const changed = await target(tx.updateTable('client_certificates').set({ status: change.to, revoked_at: change.to === 'revoked' ? at : null, updated_at: at })).executeTakeFirst();
      // The event (certificate.revoked) exists exactly when the change does.
      if (event && Number(changed.numUpdatedRows) > 0) await enqueueWith(tx, event, change.at, this.ids.hex32());
      return changed;
    });
  }

  async deleteCertificate(accountId: string, siteId: string, id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    // The generated key goes (nobody can fetch it any more); serial, status and revocation time stay.
    // The CRL's reason for it becomes permanent (revocationOf), so the CA's revocation version moves.
    const target = <Q extends WhereBuilder>(q: Q): Q =>
      q.where('account_id', '=', accountId).where('site_id', '=', siteId).where('id', '=', id).where('status', 'not in', LIVE).where('deleted_at', 'is', null) as Q;
    return this.changeOne(audit, async (tx) => {
      await bumpRevocationVersion(tx, target);
      return target(tx.updateTable('client_certificates').set({ deleted_at: at.toISOString(), key_sealed: null, updated_at: at.toISOString() })).executeTakeFirst();
    });
  }

  /** Runs one update and, when it changed a row, the audit row, in one transaction. */
  private changeOne(audit: AuditEvent, update: (tx: Transaction<Schema>) => Promise<{ numUpdatedRows: bigint }>): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      if (Number((await update(tx)).numUpdatedRows) === 0) return false;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
  }

  /**
   * Holds the CA row until the transaction ends, so no certificate can be reserved under it
   * meanwhile: FOR UPDATE on PostgreSQL (a reservation's foreign-key check waits for it), the
   * database's write lock on SQLite. False when there is no such CA.
   */
  private async lockCa(tx: Transaction<Schema>, accountId: string, siteId: string, id: string): Promise<boolean> {
    if (this.database.kind === 'postgres') {
      const row = await tx
        .selectFrom('client_cas')
        .select('id')
        .where('account_id', '=', accountId)
        .where('site_id', '=', siteId)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      return row !== undefined;
    }
    const touched = await tx
      .updateTable('client_cas')
      .set({ id: sql`id` })
      .where('account_id', '=', accountId)
      .where('site_id', '=', siteId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(touched.numUpdatedRows) > 0;
  }

  private cas(accountId: string, siteId: string) {
    return this.db.selectFrom('client_cas').select(CA_COLUMNS).where('account_id', '=', accountId).where('site_id', '=', siteId);
  }

  private certificates(accountId: string, siteId: string) {
    return this.db
      .selectFrom('client_certificates')
      .select(CERTIFICATE_COLUMNS)
      .where('account_id', '=', accountId)
      .where('site_id', '=', siteId)
      .where('deleted_at', 'is', null);
  }
}

/** What narrows a client_certificates query (select or update) to some rows. */
type WhereBuilder = WhereInterface<Schema, 'client_certificates'>;

/**
 * Raises the revocation version of the CAs of the certificates `rows` selects, so their CRLs are
 * known to be behind (CrlState.version) until reissued, whichever process reissues them.
 */
async function bumpRevocationVersion(tx: Transaction<Schema>, rows: <Q extends WhereBuilder>(q: Q) => Q): Promise<void> {
  await tx
    .updateTable('client_cas')
    .set({ revocation_version: sql`revocation_version + 1` })
    .where('id', 'in', rows(tx.selectFrom('client_certificates').select('ca_id')))
    .execute();
}

function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
