import { expiryOf, type ExpiryFilter } from '../../src/core/certificates/expiry.js';
import type { AuditEvent } from '../../src/core/audit/ports.js';
import type { ClientCa, ClientCertificate, ClientCertificateStatus, Page } from '../../src/core/private-ca/model.js';
import { ManagedCaExists, UnknownCa, type DeleteCaOutcome, type PrivateCaStore, type SignedRecord } from '../../src/core/private-ca/ports.js';
import type { OcspIssuerIds } from '../../src/core/private-ca/revocation.js';

interface StoredCertificate extends ClientCertificate {
  sealedKey: string | null;
  deletedAt: Date | null;
}

/**
 * PrivateCaStore in memory, for core tests: the SQL store's rules (one managed CA per site, a
 * reservation needs its CA, deletion hides a certificate but keeps its record) and its audit rows,
 * kept with the changes they record. `failComplete` makes the completion write fail.
 */
export class MemoryPrivateCaStore implements PrivateCaStore {
  readonly cas = new Map<string, ClientCa & { sealedKey: string | null }>();
  readonly certificates = new Map<string, StoredCertificate>();
  readonly audit: AuditEvent[] = [];
  /** Every reservation, in order, as it was when reserved. */
  readonly reservations: ClientCertificate[] = [];
  /** The OCSP issuer ids each managed CA was stored with. */
  readonly issuerIds = new Map<string, OcspIssuerIds>();
  failComplete = false;

  async findCa(accountId: string, siteId: string, id: string): Promise<ClientCa | undefined> {
    const ca = this.cas.get(id);
    return ca && ca.accountId === accountId && ca.siteId === siteId ? strip(ca) : undefined;
  }

  async findManagedCa(siteId: string): Promise<ClientCa | undefined> {
    const ca = [...this.cas.values()].find((c) => c.siteId === siteId && c.kind === 'managed');
    return ca && strip(ca);
  }

  async managedCaCertificate(id: string): Promise<string | undefined> {
    const ca = this.cas.get(id);
    return ca?.kind === 'managed' ? ca.certificatePem : undefined;
  }

  async caKey(id: string): Promise<{ certificatePem: string; sealedKey: string } | undefined> {
    const ca = this.cas.get(id);
    return ca?.sealedKey ? { certificatePem: ca.certificatePem, sealedKey: ca.sealedKey } : undefined;
  }

  async insertManagedCa(ca: ClientCa, sealedKey: string, issuerIds: OcspIssuerIds, audit: AuditEvent): Promise<void> {
    // Checked and inserted without yielding, as the unique index would.
    if ([...this.cas.values()].some((c) => c.siteId === ca.siteId && c.kind === 'managed')) throw new ManagedCaExists('managed CA exists');
    this.cas.set(ca.id, { ...structuredClone(ca), sealedKey });
    this.issuerIds.set(ca.id, issuerIds);
    this.audit.push(audit);
  }

  async insertUploadedCa(ca: ClientCa, audit: AuditEvent): Promise<void> {
    this.cas.set(ca.id, { ...structuredClone(ca), sealedKey: null });
    this.audit.push(audit);
  }

  async listCas(accountId: string, siteId: string, page: Page): Promise<{ total: number; items: ClientCa[] }> {
    const all = [...this.cas.values()].filter((c) => c.accountId === accountId && c.siteId === siteId).map(strip);
    return { total: all.length, items: all.slice((page.number - 1) * page.size, page.number * page.size) };
  }

  async deleteCa(accountId: string, siteId: string, id: string, audit: AuditEvent): Promise<DeleteCaOutcome | undefined> {
    if (!(await this.findCa(accountId, siteId, id))) return undefined;
    const live = [...this.certificates.values()].filter((c) => c.caId === id && (c.status === 'active' || c.status === 'issuing'));
    if (live.length > 0) return { deleted: false, active: live.length };
    this.cas.delete(id);
    for (const [key, c] of this.certificates) if (c.caId === id) this.certificates.delete(key);
    this.audit.push(audit);
    return { deleted: true };
  }

  async setHostnames(accountId: string, siteId: string, id: string, hostnames: string[], at: Date, audit: AuditEvent): Promise<boolean> {
    const ca = this.cas.get(id);
    if (!ca || ca.accountId !== accountId || ca.siteId !== siteId) return false;
    Object.assign(ca, { hostnames: [...hostnames], updatedAt: at });
    this.audit.push(audit);
    return true;
  }

  async reserve(certificate: ClientCertificate): Promise<void> {
    if (!this.cas.has(certificate.caId)) throw new UnknownCa(`CA ${certificate.caId} is gone`);
    const taken = [...this.certificates.values()].some((c) => c.caId === certificate.caId && c.serialNumber === certificate.serialNumber);
    if (taken) throw new Error('serial used twice');
    this.reservations.push(structuredClone(certificate));
    this.certificates.set(certificate.id, { ...structuredClone(certificate), sealedKey: null, deletedAt: null });
  }

  async complete(id: string, signed: SignedRecord, audit: AuditEvent): Promise<void> {
    if (this.failComplete) throw new Error('the database went away');
    const c = this.certificates.get(id)!;
    Object.assign(c, {
      status: 'active',
      certificatePem: signed.certificatePem,
      fingerprintSha256: signed.fingerprintSha256,
      signatureAlgorithm: signed.signatureAlgorithm,
      sealedKey: signed.sealedKey,
      updatedAt: signed.at,
    });
    this.audit.push(audit);
  }

  async voidIssuing(id: string, at: Date): Promise<boolean> {
    const c = this.certificates.get(id);
    if (c?.status !== 'issuing') return false;
    Object.assign(c, { status: 'void', updatedAt: at });
    return true;
  }

  async voidAbandoned(before: Date, at: Date, siteId?: string): Promise<number> {
    let n = 0;
    for (const c of this.certificates.values()) {
      if (c.status !== 'issuing' || c.createdAt.getTime() >= before.getTime() || (siteId !== undefined && c.siteId !== siteId)) continue;
      Object.assign(c, { status: 'void', updatedAt: at });
      n += 1;
    }
    return n;
  }

  async findCertificate(accountId: string, siteId: string, id: string): Promise<ClientCertificate | undefined> {
    const c = this.certificates.get(id);
    return c && c.accountId === accountId && c.siteId === siteId && !c.deletedAt ? stripCertificate(c) : undefined;
  }

  async listCertificates(accountId: string, siteId: string, page: Page, expiry?: ExpiryFilter): Promise<{ total: number; items: ClientCertificate[] }> {
    const all = [...this.certificates.values()]
      .filter((c) => c.accountId === accountId && c.siteId === siteId && !c.deletedAt)
      .filter((c) => !expiry || expiry.statuses.includes(expiryOf(c.notAfter, expiry.now, expiry.expiringDays)))
      .map(stripCertificate);
    return { total: all.length, items: all.slice((page.number - 1) * page.size, page.number * page.size) };
  }

  async changeStatus(
    accountId: string,
    siteId: string,
    id: string,
    change: { from: ClientCertificateStatus; to: ClientCertificateStatus; at: Date },
    audit: AuditEvent,
  ): Promise<boolean> {
    const c = await this.findCertificate(accountId, siteId, id);
    if (!c || c.status !== change.from) return false;
    Object.assign(this.certificates.get(id)!, { status: change.to, revokedAt: change.to === 'revoked' ? change.at : null, updatedAt: change.at });
    this.audit.push(audit);
    return true;
  }

  async deleteCertificate(accountId: string, siteId: string, id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    const c = await this.findCertificate(accountId, siteId, id);
    if (!c || c.status === 'active' || c.status === 'issuing') return false;
    Object.assign(this.certificates.get(id)!, { deletedAt: at, sealedKey: null, updatedAt: at });
    this.audit.push(audit);
    return true;
  }
}

function strip(ca: ClientCa & { sealedKey: string | null }): ClientCa {
  const { sealedKey: _sealedKey, ...rest } = ca;
  return structuredClone(rest);
}

function stripCertificate(c: StoredCertificate): ClientCertificate {
  const { sealedKey: _sealedKey, deletedAt: _deletedAt, ...rest } = c;
  return structuredClone(rest);
}
