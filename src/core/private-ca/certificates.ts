/**
 * The client certificate inventory after issuance: reads, revocation and its undoing, deletion, and
 * the voiding of abandoned issuances. A deleted certificate disappears from the API only: its
 * record (serial, status, revocation time) stays, so a revoked certificate stays revoked.
 */
import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { Site } from '../sites/model.js';
import { eventJob } from '../events/model.js';
import type { NewJob } from '../jobs/ports.js';
import type { ExpiryFilter } from '../certificates/expiry.js';
import type { AuditStamp } from '../audit/ports.js';
import { ABANDONED_AFTER_MS, HEX_ID, type ClientCertificate, type ClientCertificateStatus, type Page } from './model.js';
import type { PrivateCaStore, RevocationListener } from './ports.js';

export interface ClientCertificatesDeps {
  store: PrivateCaStore;
  clock: Clock;
  logger: Logger;
  revocation?: RevocationListener | undefined;
  site(accountId: string, siteId: string): Promise<Site>;
  /** Wakes this process's workers for an event enqueued with a change (default: nothing). */
  announce?: (() => void) | undefined;
}

type OnSite<T> = T & { site: Site };

export class ClientCertificates {
  constructor(private readonly deps: ClientCertificatesDeps) {}

  async get(accountId: string, siteId: string, id: string): Promise<OnSite<{ certificate: ClientCertificate }>> {
    const site = await this.deps.site(accountId, siteId);
    const found = await this.find(site, id);
    const [certificate] = await this.settleAbandoned(site, [found]);
    return { site, certificate: certificate! };
  }

  async list(accountId: string, siteId: string, page: Page, expiry?: ExpiryFilter): Promise<OnSite<{ total: number; items: ClientCertificate[] }>> {
    const site = await this.deps.site(accountId, siteId);
    const { total, items } = await this.deps.store.listCertificates(accountId, site.id, page, expiry);
    return { site, total, items: await this.settleAbandoned(site, items) };
  }

  /** Revoking a revoked certificate changes nothing; only an active one can be revoked. */
  revoke(accountId: string, siteId: string, id: string, audit: AuditStamp): Promise<OnSite<{ certificate: ClientCertificate }>> {
    return this.transition(accountId, siteId, id, { from: 'active', to: 'revoked' }, audit);
  }

  /** Takes a revoked certificate back into use; activating an active one changes nothing. */
  activate(accountId: string, siteId: string, id: string, audit: AuditStamp): Promise<OnSite<{ certificate: ClientCertificate }>> {
    return this.transition(accountId, siteId, id, { from: 'revoked', to: 'active' }, audit);
  }

  /** An active certificate must be revoked first; one being issued cannot be deleted. */
  async delete(accountId: string, siteId: string, id: string, audit: AuditStamp): Promise<OnSite<{ certificate: ClientCertificate }>> {
    const site = await this.deps.site(accountId, siteId);
    const certificate = await this.find(site, id);
    if (certificate.status === 'active') throw errors.clientCertificateStatusConflict(id, 'is active: revoke it before deleting it');
    if (certificate.status === 'issuing') throw errors.clientCertificateStatusConflict(id, 'is being issued: it cannot be deleted yet');
    const at = this.deps.clock.now();
    if (!(await this.deps.store.deleteCertificate(accountId, site.id, id, at, audit.eventAt(at)))) throw errors.certificateNotFound(id);
    return { site, certificate };
  }

  /** At start-up: every issuance recorded before `ABANDONED_AFTER_MS` ago that never completed is void. */
  async voidAbandoned(): Promise<number> {
    const now = this.deps.clock.now();
    const voided = await this.deps.store.voidAbandoned(new Date(now.getTime() - ABANDONED_AFTER_MS), now);
    if (voided > 0) this.deps.logger.warn({ voided }, 'abandoned client certificate issuances voided');
    return voided;
  }

  private async transition(
    accountId: string,
    siteId: string,
    id: string,
    move: { from: 'active' | 'revoked'; to: 'active' | 'revoked' },
    audit: AuditStamp,
  ): Promise<OnSite<{ certificate: ClientCertificate }>> {
    const site = await this.deps.site(accountId, siteId);
    const certificate = await this.find(site, id);
    if (certificate.status === move.to) return { site, certificate };
    if (certificate.status !== move.from) {
      throw errors.clientCertificateStatusConflict(id, `is ${certificate.status}: only a${move.from === 'active' ? 'n' : ''} ${move.from} certificate can be ${move.to === 'revoked' ? 'revoked' : 'activated'}`);
    }
    const at = this.deps.clock.now();
    const event = move.to === 'revoked' ? revokedEvent(certificate, at) : undefined;
    if (!(await this.deps.store.changeStatus(accountId, site.id, id, { ...move, at, event }, audit.eventAt(at)))) {
      // A concurrent call changed it first: answer with what it is now.
      const now = await this.find(site, id);
      if (now.status === move.to) return { site, certificate: now };
      throw errors.clientCertificateStatusConflict(id, `is ${now.status}`);
    }
    if (event) this.deps.announce?.();
    await this.revocationChanged(certificate, move.to, at);
    const revokedAt = move.to === 'revoked' ? at : null;
    return { site, certificate: { ...certificate, status: move.to, revokedAt, updatedAt: at } };
  }

  /** The revocation work reissues the CA's CRL here; its failure is logged, the committed change stands. */
  private async revocationChanged(certificate: ClientCertificate, status: 'active' | 'revoked', at: Date): Promise<void> {
    if (!this.deps.revocation) return;
    const { accountId, siteId, caId, id: certificateId } = certificate;
    try {
      await this.deps.revocation.revocationChanged({ accountId, siteId, caId, certificateId, status, at });
    } catch (err) {
      this.deps.logger.error({ err, caId, certificateId }, 'the CA could not publish a revocation change');
    }
  }

  private async find(site: Site, id: string): Promise<ClientCertificate> {
    const certificate = HEX_ID.test(id) ? await this.deps.store.findCertificate(site.accountId, site.id, id) : undefined;
    if (!certificate) throw errors.certificateNotFound(id);
    return certificate;
  }

  /** `issuing` records older than the grace period belong to issuances that died: they are voided as they are read. */
  private async settleAbandoned(site: Site, items: ClientCertificate[]): Promise<ClientCertificate[]> {
    const now = this.deps.clock.now();
    const cutoff = now.getTime() - ABANDONED_AFTER_MS;
    const abandoned = (c: ClientCertificate) => c.status === 'issuing' && c.createdAt.getTime() < cutoff;
    if (!items.some(abandoned)) return items;
    await this.deps.store.voidAbandoned(new Date(cutoff), now, site.id);
    return items.map((c) => (abandoned(c) ? { ...c, status: 'void' as ClientCertificateStatus, updatedAt: now } : c));
  }
}

/** `certificate.revoked`, once per revocation (a certificate activated and revoked again is revoked again). */
function revokedEvent(certificate: ClientCertificate, at: Date): NewJob {
  return eventJob(
    {
      accountId: certificate.accountId,
      type: 'certificate.revoked',
      subject: { kind: 'client', id: certificate.id },
      occurredAt: at,
      data: {
        serialNumber: certificate.serialNumber,
        commonName: certificate.commonName,
        siteId: certificate.siteId,
        caId: certificate.caId,
        notAfter: certificate.notAfter.toISOString(),
        revokedAt: at.toISOString(),
      },
    },
    `revoked:${certificate.serialNumber}:${at.toISOString()}`,
  );
}
