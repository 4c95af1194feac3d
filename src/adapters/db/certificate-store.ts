import { sql, type Selectable, type SqlBool } from 'kysely';
import type {
  AlgorithmType,
  Certificate,
  CertificateFilter,
  CertificateScope,
  DomainBinding,
  Page,
  Tag,
} from '../../core/certificates/model.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { DomainTaken, NameTaken, type CertificateStore, type SealedKey } from '../../core/certificates/ports.js';
import type { NameAttributes } from '../../pki/index.js';
import { auditRow } from './audit-log.js';
import { CompiledQueries } from './compiled.js';
import { isUniqueViolation, type Database, type Db } from './database.js';
import { notAfterMatches } from './expiry-filter.js';
import { likeMatch } from './like.js';
import type { CertificateDomainsTable, CertificatesTable } from './schema.js';
import { refreshServingNotAfter } from './serving-not-after.js';

type CertificateRow = Selectable<CertificatesTable>;

export class SqlCertificateStore implements CertificateStore {
  private readonly compiled = new CompiledQueries();

  private readonly db: Db;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insert(certificate: Certificate, keys: { main: SealedKey; sign: SealedKey | null }, audit: AuditEvent): Promise<void> {
    const statements = keyRows(certificate.accountId, keys, certificate.createdAt).map((row) =>
      this.compiled.insert(this.db, 'private_keys', row),
    );
    statements.push(this.compiled.insert(this.db, 'certificates', toRow(certificate, keys)));
    statements.push(this.compiled.insert(this.db, 'audit_events', { ...auditRow(audit) }));
    await this.translateUnique(() => this.database.writeAll(statements));
  }

  async replace(certificate: Certificate, keys: { main: SealedKey; sign: SealedKey | null }, audit: AuditEvent): Promise<void> {
    await this.translateUnique(() =>
      this.db.transaction().execute(async (tx) => {
        const old = await tx
          .selectFrom('certificates')
          .select(['key_id', 'sign_key_id'])
          .where('id', '=', certificate.id)
          .where('account_id', '=', certificate.accountId)
          .executeTakeFirstOrThrow();
        await tx.insertInto('private_keys').values(keyRows(certificate.accountId, keys, certificate.updatedAt)).execute();
        // Who the certificate belongs to (its site, its source, its group and tags) is not the content an update replaces.
        const {
          id: _id,
          account_id: _account,
          created_at: _created,
          site_id: _site,
          source: _source,
          resource_group_id: _group,
          tags: _tags,
          ...changes
        } = toRow(certificate, keys);
        await tx.updateTable('certificates').set(changes).where('id', '=', certificate.id).execute();
        await refreshServingNotAfter(tx, { certificateId: certificate.id });
        const stale = [old.key_id, old.sign_key_id].filter((k): k is string => k !== null);
        await tx.deleteFrom('private_keys').where('id', 'in', stale).execute();
        await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      }),
    );
  }

  async find(accountId: string, id: string): Promise<Certificate | undefined> {
    const row = await this.db
      .selectFrom('certificates')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async findKeys(accountId: string, id: string): Promise<{ main: SealedKey; sign: SealedKey | null } | undefined> {
    const row = await this.db
      .selectFrom('certificates')
      .select(['key_id', 'sign_key_id'])
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const ids = [row.key_id, row.sign_key_id].filter((k): k is string => k !== null);
    const keys = await this.db.selectFrom('private_keys').select(['id', 'algorithm', 'sealed']).where('id', 'in', ids).execute();
    const byId = new Map(keys.map((k) => [k.id, k]));
    const main = byId.get(row.key_id);
    if (!main) return undefined;
    return { main, sign: row.sign_key_id === null ? null : (byId.get(row.sign_key_id) ?? null) };
  }

  async list(accountId: string, filter: CertificateFilter, page: Page): Promise<{ total: number; items: Certificate[] }> {
    let query = this.db.selectFrom('certificates').where('account_id', '=', accountId);
    if (filter.name) query = query.where(likeMatch('name', filter.name));
    if (filter.commonName) query = query.where(likeMatch('common_name', filter.commonName));
    if (filter.signatureAlgorithm) query = query.where('signature_algorithm', '=', filter.signatureAlgorithm);
    if (filter.scope) query = query.where('scope', '=', filter.scope);
    if (filter.instanceId) query = query.where('instance_id', '=', filter.instanceId);
    if (filter.algorithmType) query = query.where('algorithm_type', '=', filter.algorithmType);
    if (filter.resourceGroupId) query = query.where('resource_group_id', '=', filter.resourceGroupId);
    // Hex ids are 32 characters; numeric ones (CAS CertIds) at most 15.
    if (filter.numericIdsOnly) query = query.where(sql<SqlBool>`length(id) <= 15`);
    const keyword = filter.keyword;
    if (keyword) query = query.where((eb) => eb.or([likeMatch('id', keyword), likeMatch('common_name', keyword), likeMatch('san', keyword)]));
    if (filter.notAfterAfter) query = query.where('not_after', '>', filter.notAfterAfter.toISOString());
    if (filter.notAfterUntil) query = query.where('not_after', '<=', filter.notAfterUntil.toISOString());
    if (filter.expiry) query = query.where(notAfterMatches('not_after', filter.expiry));
    // A filter on a column the listing index covers is counted over the index in list order: most of
    // an account's rows match such a filter, and PostgreSQL would otherwise read the wide rows by a
    // sequential scan (the ORDER BY asks for the index; SQLite walks it either way).
    const covered = [filter.signatureAlgorithm, filter.scope, filter.instanceId, filter.algorithmType].some((value) => value !== undefined && value !== '');
    const counted = covered
      ? await this.db
          .selectFrom(query.select('id').orderBy('created_at', 'desc').orderBy('id').as('listed'))
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .executeTakeFirstOrThrow()
      : await query.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    // The page's ids first, through the listing index (a deep OFFSET walks index entries, not the
    // wide rows: migration 018), then those rows by id.
    const ids = await query
      .select('id')
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    if (ids.length === 0) return { total: Number(counted.n), items: [] };
    const rows = await this.db
      .selectFrom('certificates')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', 'in', ids.map((r) => r.id))
      .execute();
    return { total: Number(counted.n), items: inOrderOf(ids, rows).map(fromRow) };
  }

  async deleteIfUnbound(accountId: string, id: string, audit: AuditEvent): Promise<'deleted' | 'bound' | 'used_by_site' | 'missing'> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('certificates')
        .select(['key_id', 'sign_key_id'])
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return 'missing';
      const binding = await tx
        .selectFrom('certificate_domains')
        .select('domain')
        .where('certificate_id', '=', id)
        .executeTakeFirst();
      if (binding) return 'bound';
      const held = await tx.selectFrom('site_certificates').select('id').where('certificate_id', '=', id).executeTakeFirst();
      if (held) return 'used_by_site';
      await tx.deleteFrom('certificates').where('id', '=', id).execute();
      const keys = [row.key_id, row.sign_key_id].filter((k): k is string => k !== null);
      await tx.deleteFrom('private_keys').where('id', 'in', keys).execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return 'deleted';
    });
  }

  async bindDomains(accountId: string, bindings: DomainBinding[], audit: AuditEvent): Promise<void> {
    await this.translateUnique(
      () => this.insertBindings(accountId, bindings, audit),
      (cause) => new DomainTaken('domain already bound', { cause }),
    );
  }

  private async insertBindings(accountId: string, bindings: DomainBinding[], audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const b of bindings) {
        const values = {
          instance_ids: JSON.stringify(b.instanceIds),
          verified_client_certificate_enabled: b.verifiedClientCertificateEnabled ? 1 : 0,
        };
        await tx
          .insertInto('certificate_domains')
          .values({
            certificate_id: b.certificateId,
            account_id: accountId,
            domain: b.domain,
            created_at: b.createdAt.toISOString(),
            ...values,
          })
          .onConflict((oc) => oc.columns(['certificate_id', 'domain']).doUpdateSet(values))
          .execute();
      }
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async unbindDomains(
    accountId: string,
    certificateId: string,
    domains: string[],
    audit: AuditEvent,
  ): Promise<{ unbound: true } | { notBound: string }> {
    return this.db.transaction().execute(async (tx) => {
      const bound = await tx
        .selectFrom('certificate_domains')
        .select('domain')
        .where('account_id', '=', accountId)
        .where('certificate_id', '=', certificateId)
        .where('domain', 'in', domains)
        .execute();
      const found = new Set(bound.map((r) => r.domain));
      const missing = domains.find((d) => !found.has(d));
      // All or nothing: a list naming one unbound domain detaches none of the others.
      if (missing !== undefined) return { notBound: missing };
      await tx
        .deleteFrom('certificate_domains')
        .where('account_id', '=', accountId)
        .where('certificate_id', '=', certificateId)
        .where('domain', 'in', domains)
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return { unbound: true as const };
    });
  }

  async listDomains(
    accountId: string,
    certificateId: string,
    domainLike: string | undefined,
    page: Page,
  ): Promise<{ total: number; items: DomainBinding[] }> {
    let query = this.db
      .selectFrom('certificate_domains')
      .where('account_id', '=', accountId)
      .where('certificate_id', '=', certificateId);
    if (domainLike) query = query.where(likeMatch('domain', domainLike));
    const counted = await query.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    const rows = await query.selectAll().orderBy('domain').limit(page.limit).offset(page.offset).execute();
    return { total: Number(counted.n), items: rows.map(bindingFromRow) };
  }

  async domainsBoundElsewhere(accountId: string, certificateId: string, domains: string[]): Promise<string[]> {
    if (domains.length === 0) return [];
    const rows = await this.db
      .selectFrom('certificate_domains')
      .select('domain')
      .where('account_id', '=', accountId)
      .where('certificate_id', '!=', certificateId)
      .where('domain', 'in', domains)
      .execute();
    return rows.map((r) => r.domain);
  }

  /** The unique indexes decide races; their violation becomes the port's own error. */
  private async translateUnique(write: () => Promise<void>, as: (cause: unknown) => Error = nameTaken): Promise<void> {
    try {
      await write();
    } catch (err) {
      throw isUniqueViolation(err) ? as(err) : err;
    }
  }
}

function nameTaken(cause: unknown): Error {
  return new NameTaken('certificate name already used', { cause });
}

/** Rows of sealed keys, for a store that writes an inventory certificate in its own transaction. */
/** `rows` in the order of `ids` (a page read by id comes back in any order). */
export function inOrderOf<R extends { id: string }>(ids: ReadonlyArray<{ id: string }>, rows: R[]): R[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap(({ id }) => byId.get(id) ?? []);
}

export function keyRows(accountId: string, keys: { main: SealedKey; sign: SealedKey | null }, at: Date) {
  return [keys.main, ...(keys.sign ? [keys.sign] : [])].map((k) => ({
    id: k.id,
    account_id: accountId,
    algorithm: k.algorithm,
    sealed: k.sealed,
    created_at: at.toISOString(),
  }));
}

/** An inventory certificate as a row; `siteId` names the ESA site an upload belongs to. */
export function toRow(c: Certificate, keys: { main: SealedKey; sign: SealedKey | null }, siteId: string | null = null): CertificateRow {
  return {
    id: c.id,
    account_id: c.accountId,
    name: c.name,
    scope: c.scope,
    instance_id: c.instanceId,
    algorithm_type: c.algorithmType,
    chain_pem: c.chainPem,
    key_id: keys.main.id,
    sign_chain_pem: c.signChainPem,
    sign_key_id: keys.sign?.id ?? null,
    trusted_root_ca: c.trustedRootCa,
    common_name: c.commonName,
    san: JSON.stringify(c.san),
    subject: JSON.stringify(c.subject),
    issuer: JSON.stringify(c.issuer),
    not_before: c.notBefore.toISOString(),
    not_after: c.notAfter.toISOString(),
    serial_number: c.serialNumber,
    signature_algorithm: c.signatureAlgorithm,
    version: c.version,
    fingerprint_sha256: c.fingerprintSha256,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    site_id: siteId,
    source: 'upload',
    resource_group_id: c.resourceGroupId,
    tags: JSON.stringify(c.tags),
  };
}

function fromRow(row: CertificateRow): Certificate {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    scope: row.scope as CertificateScope,
    instanceId: row.instance_id,
    algorithmType: row.algorithm_type as AlgorithmType,
    chainPem: row.chain_pem,
    signChainPem: row.sign_chain_pem,
    trustedRootCa: row.trusted_root_ca,
    resourceGroupId: row.resource_group_id,
    tags: JSON.parse(row.tags) as Tag[],
    commonName: row.common_name,
    san: JSON.parse(row.san) as string[],
    subject: JSON.parse(row.subject) as NameAttributes,
    issuer: JSON.parse(row.issuer) as NameAttributes,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    serialNumber: row.serial_number,
    signatureAlgorithm: row.signature_algorithm,
    version: Number(row.version),
    fingerprintSha256: row.fingerprint_sha256,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function bindingFromRow(row: Selectable<CertificateDomainsTable>): DomainBinding {
  return {
    certificateId: row.certificate_id,
    domain: row.domain,
    instanceIds: JSON.parse(row.instance_ids) as string[],
    verifiedClientCertificateEnabled: row.verified_client_certificate_enabled === 1,
    createdAt: new Date(row.created_at),
  };
}
