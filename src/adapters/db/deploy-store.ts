/**
 * Deploy targets (migrations 016, 022), and what a `deploy.run` reads: the valid issuance a site
 * certificate uses now, its chain and its sealed key; what a `deploy.crl` reads: a managed client
 * CA's certificate. Writes go with their audit row (and jobs) in one transaction.
 */
import type { Selectable } from 'kysely';
import type { AuditEvent } from '../../core/audit/ports.js';
import type { DeployTarget } from '../../core/deploy/model.js';
import type { CrlDeployMaterial, DeployMaterial, DeployStore, FirstJobs } from '../../core/deploy/ports.js';
import type { NewJob } from '../../core/jobs/ports.js';
import type { IdGenerator } from '../../kernel/ids.js';
import { auditRow } from './audit-log.js';
import type { Db } from './database.js';
import { enqueueWith } from './job-store.js';
import type { DeployTargetsTable } from './schema.js';

export class SqlDeployStore implements DeployStore {
  constructor(
    private readonly db: Db,
    private readonly ids: IdGenerator,
  ) {}

  async findScope(accountId: string, scope: { siteId?: string; siteCertificateId?: string }): Promise<{ siteId: string } | undefined> {
    if (scope.siteCertificateId !== undefined) {
      const row = await this.db.selectFrom('site_certificates').select('site_id').where('account_id', '=', accountId).where('id', '=', scope.siteCertificateId).executeTakeFirst();
      return row && { siteId: row.site_id };
    }
    const row = await this.db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', scope.siteId ?? '').executeTakeFirst();
    return row && { siteId: row.id };
  }

  async findClientCa(accountId: string, caId: string): Promise<{ siteId: string; managed: boolean } | undefined> {
    const row = await this.db.selectFrom('client_cas').select(['site_id', 'kind']).where('account_id', '=', accountId).where('id', '=', caId).executeTakeFirst();
    return row && { siteId: row.site_id, managed: row.kind === 'managed' };
  }

  async insert(target: DeployTarget, audit: AuditEvent, jobs: FirstJobs): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('deploy_targets')
        .values({
          id: target.id,
          account_id: target.accountId,
          site_id: target.siteId ?? null,
          site_certificate_id: target.siteCertificateId ?? null,
          client_ca_id: target.clientCaId ?? null,
          directory: target.directory,
          reload_command: target.reloadCommand ? JSON.stringify(target.reloadCommand) : null,
          reload_timeout_seconds: target.reloadTimeoutSeconds,
          created_at: target.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit, this.ids)).execute();
      if (target.clientCaId !== undefined) {
        await enqueueWith(tx, jobs.forClientCa(), audit.at, this.ids.hex32());
        return 1;
      }
      const covered = await tx
        .selectFrom('site_certificates as sc')
        .innerJoin('acme_issuances as i', 'i.id', 'sc.issuance_id')
        .select(['sc.id', 'sc.issuance_id'])
        .where('sc.account_id', '=', target.accountId)
        .where('sc.type', '=', 'free')
        .where('i.state', '=', 'valid')
        .$if(target.siteCertificateId !== undefined, (q) => q.where('sc.id', '=', target.siteCertificateId!))
        .$if(target.siteId !== undefined, (q) => q.where('sc.site_id', '=', target.siteId!))
        .execute();
      for (const sc of covered) await enqueueWith(tx, jobs.forCertificate(sc.id, sc.issuance_id!), audit.at, this.ids.hex32());
      return covered.length;
    });
  }

  async list(accountId: string): Promise<DeployTarget[]> {
    const rows = await this.db.selectFrom('deploy_targets').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toTarget);
  }

  async find(accountId: string, id: string): Promise<DeployTarget | undefined> {
    const row = await this.db.selectFrom('deploy_targets').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    return row && toTarget(row);
  }

  async remove(accountId: string, id: string, audit: AuditEvent): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const deleted = await tx.deleteFrom('deploy_targets').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (deleted.numDeletedRows === 0n) return false;
      await tx.insertInto('audit_events').values(auditRow(audit, this.ids)).execute();
      return true;
    });
  }

  async material(targetId: string, siteCertificateId: string): Promise<DeployMaterial | undefined> {
    const target = await this.db.selectFrom('deploy_targets').selectAll().where('id', '=', targetId).executeTakeFirst();
    if (!target || target.client_ca_id !== null) return undefined;
    const row = await this.db
      .selectFrom('site_certificates as sc')
      .innerJoin('acme_issuances as i', 'i.id', 'sc.issuance_id')
      .innerJoin('private_keys as k', 'k.id', 'i.key_id')
      .select(['sc.id', 'sc.site_id', 'sc.domain', 'i.id as issuance_id', 'i.chain_pem', 'i.serial_number', 'i.key_id', 'k.sealed'])
      .where('sc.id', '=', siteCertificateId)
      .where('sc.account_id', '=', target.account_id)
      .where('i.state', '=', 'valid')
      .executeTakeFirst();
    if (!row || row.chain_pem === null || row.key_id === null) return undefined;
    // The target still covers it: its own certificate, or one of its site's.
    if (target.site_certificate_id !== null ? target.site_certificate_id !== row.id : target.site_id !== row.site_id) return undefined;
    return {
      target: toTarget(target),
      siteCertificateId: row.id,
      siteId: row.site_id,
      domain: row.domain ?? undefined,
      issuanceId: row.issuance_id,
      chainPem: row.chain_pem,
      serialNumber: row.serial_number ?? '',
      keyId: row.key_id,
      sealedKey: row.sealed,
    };
  }

  async crlMaterial(targetId: string): Promise<CrlDeployMaterial | undefined> {
    const row = await this.db
      .selectFrom('deploy_targets as t')
      .innerJoin('client_cas as ca', 'ca.id', 't.client_ca_id')
      .selectAll('t')
      .select(['ca.certificate_pem as ca_certificate_pem', 'ca.site_id as ca_site_id'])
      .where('t.id', '=', targetId)
      .where('ca.kind', '=', 'managed')
      .executeTakeFirst();
    if (!row || row.client_ca_id === null) return undefined;
    return { target: toTarget(row), clientCaId: row.client_ca_id, siteId: row.ca_site_id, caCertificatePem: row.ca_certificate_pem };
  }

  async crlTargets(clientCaId?: string): Promise<Array<{ targetId: string; clientCaId: string }>> {
    const rows = await this.db
      .selectFrom('deploy_targets')
      .select(['id', 'client_ca_id'])
      .$if(clientCaId === undefined, (q) => q.where('client_ca_id', 'is not', null))
      .$if(clientCaId !== undefined, (q) => q.where('client_ca_id', '=', clientCaId!))
      .orderBy('client_ca_id')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ targetId: row.id, clientCaId: row.client_ca_id! }));
  }

  async record(audit: AuditEvent, event: NewJob): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('audit_events').values(auditRow(audit, this.ids)).execute();
      await enqueueWith(tx, event, audit.at, this.ids.hex32());
    });
  }
}

function toTarget(row: Selectable<DeployTargetsTable>): DeployTarget {
  return {
    id: row.id,
    accountId: row.account_id,
    siteId: row.site_id ?? undefined,
    siteCertificateId: row.site_certificate_id ?? undefined,
    clientCaId: row.client_ca_id ?? undefined,
    directory: row.directory,
    reloadCommand: row.reload_command === null ? undefined : (JSON.parse(row.reload_command) as string[]),
    reloadTimeoutSeconds: Number(row.reload_timeout_seconds),
    createdAt: new Date(row.created_at),
  };
}
