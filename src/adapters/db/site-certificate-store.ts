import { createHash } from 'node:crypto';
import { sql, type Expression, type SqlBool, type Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/ports.js';
import { FINISHED_STATES, type AuthorizationProgress, type IssuanceState } from '../../core/issuance/model.js';
import type { SiteStatus } from '../../core/sites/model.js';
import type { CertificateDetails, DomainValidation, ListFilter, Page, SiteCertificate, SiteCertificateType } from '../../core/site-certificates/model.js';
import {
  ApplicationInProgress,
  type LockedSite,
  type NewApplication,
  type PreparedUpload,
  type SiteCertificateStore,
  type SiteCertificateWrite,
} from '../../core/site-certificates/ports.js';
import type { NameAttributes } from '../../pki/index.js';
import { auditRow } from './audit-log.js';
import { inOrderOf, keyRows, toRow as certificateRow } from './certificate-store.js';
import { isUniqueViolation, type Db } from './database.js';
import { cancelIssuancesWith, insertIssuanceWith, type IssuanceWithdrawal } from './issuance-rows.js';
import { notAfterMatches } from './expiry-filter.js';
import { likeMatch } from './like.js';
import type { Schema } from './schema.js';
import { refreshServingNotAfter } from './serving-not-after.js';

type Tx = Transaction<Schema>;

/** Issuance states that no longer count against a site's free-certificate quota. */
const RELEASED_STATES: IssuanceState[] = ['invalid', 'canceled'];

/**
 * ESA's certificates of a site (`site_certificates`), read together with their issuance (free ones)
 * or their inventory certificate (uploaded and referenced ones). Every write records its audit
 * event in the same transaction.
 */
export class SqlSiteCertificateStore implements SiteCertificateStore {
  constructor(
    private readonly db: Db,
    /** How a free certificate's unfinished issuance is withdrawn when the certificate leaves the site. */
    private readonly withdrawal: IssuanceWithdrawal,
    /** Told after a commit that enqueued jobs, so this process's workers start at once. */
    private readonly jobsEnqueued: () => void = () => undefined,
  ) {}

  async withSite<T>(accountId: string, siteId: string, work: (locked: LockedSite) => Promise<T>): Promise<T> {
    let enqueued = false;
    const result = await this.db.transaction().execute(async (tx) => {
      // A no-op write on the site's row: a row lock on PostgreSQL, the write lock on SQLite. Other
      // applications for the site wait here until this transaction ends.
      const locked = await tx
        .updateTable('sites')
        .set((eb) => ({ status: eb.ref('status') }))
        .where('account_id', '=', accountId)
        .where('id', '=', siteId)
        .returning('status')
        .executeTakeFirst();
      return work(
        new SqlLockedSite(tx, accountId, siteId, locked?.status as SiteStatus | undefined, () => {
          enqueued = true;
        }),
      );
    });
    if (enqueued) this.jobsEnqueued();
    return result;
  }

  async find(accountId: string, siteId: string, id: string): Promise<SiteCertificate | undefined> {
    const row = await this.base(accountId, siteId).where('sc.id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async list(accountId: string, siteId: string, filter: ListFilter, page: Page, now: Date): Promise<{ total: number; items: SiteCertificate[] }> {
    // The filters read what the row keeps of its served certificate (notAfter and names, migration
    // 019), so the count and the page's ids need no join.
    const conditions: Array<Expression<SqlBool>> = [];
    if (filter.validOnly) conditions.push(sql<SqlBool>`sc.not_after > ${now.toISOString()}`);
    if (filter.expiry) conditions.push(sql<SqlBool>`sc.not_after is not null`, notAfterMatches('sc.not_after', filter.expiry));
    // A keyword matches the row's name and domain and the served certificate's names kept on the row.
    if (filter.keyword) {
      const keyword = filter.keyword;
      conditions.push(sql<SqlBool>`(${sql.join([likeMatch('sc.name', keyword), likeMatch('sc.domain', keyword), likeMatch('sc.served_names', keyword)], sql` or `)})`);
    }
    const offset = (page.number - 1) * page.size;
    let listed = this.db.selectFrom('site_certificates as sc').where('sc.account_id', '=', accountId).where('sc.site_id', '=', siteId);
    for (const condition of conditions) listed = listed.where(condition);
    const counted = await listed.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    const ids = await listed.select('sc.id').orderBy('sc.created_at', 'desc').orderBy('sc.id').limit(page.size).offset(offset).execute();
    return { total: Number(counted.n), items: await this.byIds(accountId, siteId, ids) };
  }

  /** A page's rows, read by id after its ids were chosen (a deep OFFSET then skips ids, not joined rows). */
  private async byIds(accountId: string, siteId: string, ids: Array<{ id: string }>): Promise<SiteCertificate[]> {
    if (ids.length === 0) return [];
    const rows = await this.base(accountId, siteId).where('sc.id', 'in', ids.map((r) => r.id)).execute();
    return inOrderOf(ids, rows).map(fromRow);
  }

  async all(accountId: string, siteId: string, limit: number): Promise<SiteCertificate[]> {
    const rows = await this.base(accountId, siteId).orderBy('sc.created_at', 'desc').orderBy('sc.id').limit(limit).execute();
    return rows.map(fromRow);
  }

  async delete(accountId: string, siteId: string, id: string, audit: AuditEvent): Promise<SiteCertificate | undefined> {
    let removals = 0;
    const deleted = await this.db.transaction().execute(async (tx) => {
      const row = await this.base(accountId, siteId, tx).where('sc.id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      await tx.deleteFrom('site_certificates').where('id', '=', id).where('site_id', '=', siteId).execute();
      removals = await releaseContent(tx, row, audit.at, this.withdrawal);
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return fromRow(row);
    });
    if (removals > 0) this.jobsEnqueued();
    return deleted;
  }

  async set(write: SiteCertificateWrite, upload: PreparedUpload | null, replaces: boolean, audit: AuditEvent): Promise<boolean> {
    let removals = 0;
    const stored = await this.db.transaction().execute(async (tx) => {
      const at = write.at.toISOString();
      const old = replaces ? await this.base(write.accountId, write.siteId, tx).where('sc.id', '=', write.id).executeTakeFirst() : undefined;
      if (replaces && !old) return false;
      if (upload) {
        await tx.insertInto('private_keys').values(keyRows(write.accountId, upload.keys, upload.certificate.createdAt)).execute();
        await tx.insertInto('certificates').values(certificateRow(upload.certificate, upload.keys, write.siteId)).execute();
      }
      const content = {
        type: write.type,
        name: write.name,
        domain: null,
        issuer_profile: null,
        applying: 0,
        issuance_id: null,
        certificate_id: write.certificateId,
        cas_id: write.casId,
        region: write.region,
        updated_at: at,
      };
      if (old) {
        await tx.updateTable('site_certificates').set(content).where('id', '=', write.id).where('site_id', '=', write.siteId).execute();
        removals = await releaseContent(tx, old, write.at, this.withdrawal);
      } else {
        await tx
          .insertInto('site_certificates')
          .values({ id: write.id, account_id: write.accountId, site_id: write.siteId, created_at: at, ...content })
          .execute();
      }
      await refreshServingNotAfter(tx, { siteCertificateId: write.id });
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
    if (removals > 0) this.jobsEnqueued();
    return stored;
  }

  private base(accountId: string, siteId: string, db: Db | Tx = this.db) {
    return db
      .selectFrom('site_certificates as sc')
      .leftJoin('acme_issuances as i', 'i.id', 'sc.issuance_id')
      .leftJoin('certificates as c', 'c.id', 'sc.certificate_id')
      .selectAll('sc')
      .select([
        'i.state as i_state',
        'i.updated_at as i_updated_at',
        'i.error_code as i_error_code',
        'i.error_detail as i_error_detail',
        'i.authorizations as i_authorizations',
        'i.chain_pem as i_chain_pem',
        'i.common_name as i_common_name',
        'i.san as i_san',
        'i.serial_number as i_serial_number',
        'i.fingerprint_sha256 as i_fingerprint_sha256',
        'i.issuer as i_issuer',
        'i.issuer_cn as i_issuer_cn',
        'i.public_key_algorithm as i_public_key_algorithm',
        'i.signature_algorithm as i_signature_algorithm',
        'i.not_before as i_not_before',
        'i.not_after as i_not_after',
        'c.chain_pem as c_chain_pem',
        'c.common_name as c_common_name',
        'c.san as c_san',
        'c.serial_number as c_serial_number',
        'c.fingerprint_sha256 as c_fingerprint_sha256',
        'c.issuer as c_issuer',
        'c.algorithm_type as c_algorithm_type',
        'c.signature_algorithm as c_signature_algorithm',
        'c.not_before as c_not_before',
        'c.not_after as c_not_after',
        'c.site_id as c_site_id',
      ])
      .where('sc.account_id', '=', accountId)
      .where('sc.site_id', '=', siteId);
  }
}

class SqlLockedSite implements LockedSite {
  constructor(
    private readonly tx: Tx,
    private readonly accountId: string,
    private readonly siteId: string,
    readonly siteStatus: SiteStatus | undefined,
    private readonly enqueued: () => void,
  ) {}

  async settleFinished(): Promise<void> {
    await this.tx
      .updateTable('site_certificates')
      .set({ applying: 0 })
      .where('site_id', '=', this.siteId)
      .where('applying', '=', 1)
      .where('issuance_id', 'in', this.tx.selectFrom('acme_issuances').select('id').where('state', 'in', [...FINISHED_STATES]))
      .execute();
  }

  async domainsInProgress(): Promise<string[]> {
    const rows = await this.tx.selectFrom('site_certificates').select('domain').where('site_id', '=', this.siteId).where('applying', '=', 1).execute();
    return rows.map((r) => r.domain).filter((d): d is string => d !== null);
  }

  async freeCertificatesHeld(): Promise<number> {
    return (await freeCertificatesHeld(this.tx, this.accountId, [this.siteId])).get(this.siteId) ?? 0;
  }

  async insertApplications(applications: NewApplication[], audit: AuditEvent): Promise<void> {
    for (const application of applications) {
      await insertIssuanceWith(this.tx, application.issuance, application.at, application.jobId);
      const at = application.at.toISOString();
      try {
        await this.tx
          .insertInto('site_certificates')
          .values({
            id: application.id,
            account_id: application.issuance.accountId,
            site_id: this.siteId,
            type: 'free',
            name: application.name,
            domain: application.domain,
            issuer_profile: application.issuerProfile,
            applying: 1,
            issuance_id: application.issuance.id,
            certificate_id: null,
            cas_id: null,
            region: null,
            created_at: at,
            updated_at: at,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApplicationInProgress(`an application for ${application.domain} is in progress`, { cause: err });
        throw err;
      }
    }
    await this.tx.insertInto('audit_events').values(auditRow(audit)).execute();
    if (applications.length > 0) this.enqueued();
  }
}

type Row = Awaited<ReturnType<ReturnType<SqlSiteCertificateStore['base']>['executeTakeFirstOrThrow']>>;

/**
 * What a certificate leaving a site (deleted, or replaced) lets go of: a free one's unfinished
 * issuance is canceled with its challenge records and tokens (conditionally, so an issuance that
 * finished meanwhile keeps its state, and the job that sees `canceled` stops), and an upload's own
 * inventory certificate is deleted with its keys, unless the inventory bound it to domains
 * meanwhile: then it stays there, no longer the site's. Returns how many removal jobs were queued.
 */
async function releaseContent(tx: Tx, row: Row, at: Date, withdrawal: IssuanceWithdrawal): Promise<number> {
  const removals = row.issuance_id !== null ? await cancelIssuancesWith(tx, [row.issuance_id], at, withdrawal) : 0;
  if (row.type === 'upload' && row.certificate_id !== null) await releaseInventoryCertificate(tx, row.certificate_id, at.toISOString());
  return removals;
}

async function releaseInventoryCertificate(tx: Tx, certificateId: string, at: string): Promise<void> {
  const bound = await tx.selectFrom('certificate_domains').select('domain').where('certificate_id', '=', certificateId).executeTakeFirst();
  if (bound) {
    await tx.updateTable('certificates').set({ site_id: null, updated_at: at }).where('id', '=', certificateId).execute();
    return;
  }
  const keys = await tx.selectFrom('certificates').select(['key_id', 'sign_key_id']).where('id', '=', certificateId).executeTakeFirst();
  await tx.deleteFrom('certificates').where('id', '=', certificateId).execute();
  const keyIds = [keys?.key_id, keys?.sign_key_id].filter((k): k is string => typeof k === 'string');
  if (keyIds.length > 0) await tx.deleteFrom('private_keys').where('id', 'in', keyIds).execute();
}

function fromRow(row: Row): SiteCertificate {
  const type = row.type as SiteCertificateType;
  const state = (row.i_state ?? null) as IssuanceState | null;
  const authorizations = row.i_authorizations ? (JSON.parse(row.i_authorizations) as AuthorizationProgress[]) : [];
  return {
    id: row.id,
    accountId: row.account_id,
    siteId: row.site_id,
    type,
    name: row.name,
    domain: row.domain,
    issuerProfile: row.issuer_profile,
    issuanceId: row.issuance_id,
    certificateId: row.certificate_id,
    casId: row.cas_id,
    region: row.region,
    issuanceState: state,
    failure: state === 'invalid' ? { code: row.i_error_code ?? 'unknown', detail: row.i_error_detail ?? '' } : null,
    validations: authorizations.map(validationOf),
    details: type === 'free' ? issuedDetails(row, state) : inventoryDetails(row),
    createdAt: new Date(row.created_at),
    // A free certificate changes as its issuance moves on.
    updatedAt: new Date(row.i_updated_at !== null && row.i_updated_at > row.updated_at ? row.i_updated_at : row.updated_at),
  };
}

function issuedDetails(row: Row, state: IssuanceState | null): CertificateDetails | null {
  if (state !== 'valid' || row.i_chain_pem === null || row.i_not_after === null) return null;
  return {
    chainPem: row.i_chain_pem,
    commonName: row.i_common_name ?? '',
    san: (row.i_san ?? '').split(',').filter((name) => name !== ''),
    serialNumber: (row.i_serial_number ?? '').toLowerCase(),
    fingerprintSha256: row.i_fingerprint_sha256 ?? '',
    issuer: row.i_issuer ?? '',
    issuerCn: row.i_issuer_cn ?? '',
    publicKeyAlgorithm: row.i_public_key_algorithm ?? '',
    signatureAlgorithm: row.i_signature_algorithm ?? '',
    notBefore: new Date(row.i_not_before ?? 0),
    notAfter: new Date(row.i_not_after),
  };
}

function inventoryDetails(row: Row): CertificateDetails | null {
  if (row.c_chain_pem === null || row.c_not_after === null) return null;
  const issuer = JSON.parse(row.c_issuer ?? '{}') as Partial<NameAttributes>;
  const issuerCn = issuer.commonName?.[0] ?? '';
  return {
    chainPem: row.c_chain_pem,
    commonName: row.c_common_name ?? '',
    san: JSON.parse(row.c_san ?? '[]') as string[],
    // The inventory keeps serials in decimal (as APIG shows them); ESA shows hex.
    serialNumber: BigInt(row.c_serial_number ?? '0').toString(16),
    fingerprintSha256: row.c_fingerprint_sha256 ?? '',
    issuer: issuer.organization?.[0] ?? issuerCn,
    issuerCn,
    publicKeyAlgorithm: row.c_algorithm_type ?? '',
    signatureAlgorithm: row.c_signature_algorithm ?? '',
    notBefore: new Date(row.c_not_before ?? 0),
    notAfter: new Date(row.c_not_after),
  };
}

function validationOf(authorization: AuthorizationProgress): DomainValidation {
  const dns = authorization.challengeType === 'dns-01';
  return {
    id: createHash('sha256').update(authorization.url).digest('hex').slice(0, 32),
    challengeType: authorization.challengeType,
    key: (dns ? authorization.recordName : authorization.path) ?? '',
    value: (dns ? authorization.txtValue : authorization.keyAuthorization) ?? '',
    status: authorization.status,
  };
}

/** Counts per site of the free certificates that hold quota: applying or valid (GetCertificateQuota). */
export async function freeCertificatesHeld(db: Db | Tx, accountId: string, siteIds: string[]): Promise<Map<string, number>> {
  if (siteIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('site_certificates as sc')
    .innerJoin('acme_issuances as i', 'i.id', 'sc.issuance_id')
    .select(['sc.site_id', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('sc.account_id', '=', accountId)
    .where('sc.type', '=', 'free')
    .where('sc.site_id', 'in', siteIds)
    .where('i.state', 'not in', RELEASED_STATES)
    .groupBy('sc.site_id')
    .execute();
  return new Map(rows.map((r) => [r.site_id, Number(r.n)]));
}

/**
 * Before a site is deleted (its certificates go with it, by cascade): unfinished issuances of its
 * free certificates are canceled with their challenge records and tokens, so their jobs stop, and
 * the inventory certificates its uploads made are released as on DeleteCertificate.
 */
export async function releaseSiteCertificates(tx: Tx, accountId: string, siteId: string, at: Date, withdrawal: IssuanceWithdrawal): Promise<void> {
  const when = at.toISOString();
  const free = await tx
    .selectFrom('site_certificates')
    .select('issuance_id')
    .where('site_id', '=', siteId)
    .where('issuance_id', 'is not', null)
    .$narrowType<{ issuance_id: string }>()
    .execute();
  await cancelIssuancesWith(
    tx,
    free.map((row) => row.issuance_id),
    at,
    withdrawal,
  );
  const uploads = await tx
    .selectFrom('site_certificates')
    .select(['id', 'certificate_id'])
    .where('account_id', '=', accountId)
    .where('site_id', '=', siteId)
    .where('type', '=', 'upload')
    .execute();
  await tx.deleteFrom('site_certificates').where('site_id', '=', siteId).execute();
  for (const upload of uploads) {
    if (upload.certificate_id !== null) await releaseInventoryCertificate(tx, upload.certificate_id, when);
  }
}
