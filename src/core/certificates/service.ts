import type { Clock } from '../../kernel/clock.js';
import type { AuditEvent, AuditStamp } from '../audit/ports.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import { limitExceeded, type Limits } from '../../kernel/limits.js';
import type { Sealer } from '../../kernel/sealer.js';
import { coversDomain, parseBindableDomain } from './domains.js';
import type { IssuerCache } from '../../pki/index.js';
import { inspectUpload, type InspectedPair, type InspectedUpload } from './inspect.js';
import type {
  Certificate,
  CertificateFilter,
  CertificateIdStyle,
  CertificateUpload,
  DomainBinding,
  Page,
} from './model.js';
import { DomainTaken, NameTaken, type CertificateStore, type InstanceDirectory, type SealedKey } from './ports.js';

export interface CertificatesDeps {
  store: CertificateStore;
  instances: InstanceDirectory;
  clock: Clock;
  ids: IdGenerator;
  sealer: Sealer;
  /** Parsed intermediates shared by uploads; none when omitted. */
  issuers?: IssuerCache;
  limits: Limits;
}

export interface DomainBindingRequest {
  domain: string;
  instanceIds: string[];
  verifiedClientCertificateEnabled?: boolean | undefined;
}

/** Context a sealed private key is bound to: a key sealed for one record cannot be moved to another. */
export function privateKeyContext(keyId: string): string {
  return `private_key:${keyId}`;
}

/** The certificate inventory: uploads, reads, updates, deletion and domain bindings. */
export class CertificatesService {
  constructor(private readonly deps: CertificatesDeps) {}

  async upload(accountId: string, upload: CertificateUpload, audit: AuditStamp, idStyle: CertificateIdStyle = 'hex'): Promise<Certificate> {
    await this.checkScope(accountId, upload);
    const inspected = await inspectUpload(upload, this.inspectContext());
    const now = this.deps.clock.now();
    const id = idStyle === 'numeric' ? this.deps.ids.numeric(15) : this.deps.ids.hex32();
    const certificate = this.toCertificate(id, accountId, upload, inspected, now, now);
    const event = audit.eventAt(now, certificate.id);
    await this.persist(() => this.deps.store.insert(certificate, this.sealKeys(inspected), event), upload.name);
    return certificate;
  }

  /**
   * Every check of an upload, and the certificate with its keys sealed, without storing anything:
   * for a caller that stores it in a transaction of its own (an ESA site's uploaded certificate).
   */
  async prepareUpload(
    accountId: string,
    id: string,
    upload: CertificateUpload,
  ): Promise<{ certificate: Certificate; keys: { main: SealedKey; sign: SealedKey | null } }> {
    await this.checkScope(accountId, upload);
    const inspected = await inspectUpload(upload, this.inspectContext());
    const now = this.deps.clock.now();
    return { certificate: this.toCertificate(id, accountId, upload, inspected, now, now), keys: this.sealKeys(inspected) };
  }

  async update(
    accountId: string,
    id: string,
    upload: CertificateUpload & { scopeGiven: boolean },
    audit: AuditStamp,
  ): Promise<Certificate> {
    const existing = await this.require(accountId, id);
    if (upload.scopeGiven && upload.scope !== existing.scope) throw errors.immutableScope('scope');
    if (upload.instanceId && upload.instanceId !== existing.instanceId) throw errors.immutableScope('instanceId');
    const merged: CertificateUpload = { ...upload, scope: existing.scope, instanceId: existing.instanceId ?? undefined };
    const inspected = await inspectUpload(merged, this.inspectContext());
    const certificate = this.toCertificate(id, accountId, merged, inspected, existing.createdAt, this.deps.clock.now());
    const event = audit.eventAt(certificate.updatedAt);
    await this.persist(() => this.deps.store.replace(certificate, this.sealKeys(inspected), event), upload.name);
    return certificate;
  }

  async get(accountId: string, id: string): Promise<Certificate> {
    return this.require(accountId, id);
  }

  /** The private keys of a certificate, opened (PEM). Secret: for the owner's own reads only. */
  async privateKeys(accountId: string, id: string): Promise<{ main: string; sign: string | null }> {
    const keys = await this.deps.store.findKeys(accountId, id);
    if (!keys) throw errors.certificateNotFound(id);
    const open = (key: SealedKey) => this.deps.sealer.open(key.sealed, privateKeyContext(key.id));
    return { main: open(keys.main), sign: keys.sign ? open(keys.sign) : null };
  }

  list(accountId: string, filter: CertificateFilter, page: Page): Promise<{ total: number; items: Certificate[] }> {
    return this.deps.store.list(accountId, filter, page);
  }

  async delete(accountId: string, id: string, audit: AuditStamp): Promise<void> {
    const outcome = await this.deps.store.deleteIfUnbound(accountId, id, audit.eventAt(this.deps.clock.now()));
    if (outcome === 'missing') throw errors.certificateNotFound(id);
    if (outcome === 'bound') throw errors.certificateInUse(id);
    if (outcome === 'used_by_site') throw errors.certificateInUse(id, 'is a certificate of an ESA site (SetCertificate); delete it there first');
  }

  async attachDomains(
    accountId: string,
    id: string,
    requests: DomainBindingRequest[],
    audit: AuditStamp,
  ): Promise<DomainBinding[]> {
    this.checkDomainCount(requests.length);
    const certificate = await this.require(accountId, id);
    const domains = requests.map((r) => parseBindableDomain(r.domain));
    const uncovered = domains.find((d) => !coversDomain(certificate.san, d));
    if (uncovered !== undefined) throw errors.domainMismatch(uncovered);
    await this.refuseBoundElsewhere(accountId, id, domains);
    for (const request of requests) {
      for (const instanceId of request.instanceIds) await this.deps.instances.requireInstance(accountId, instanceId);
    }
    const now = this.deps.clock.now();
    const bindings = requests.map((r, i) => ({
      certificateId: id,
      domain: domains[i]!,
      instanceIds: r.instanceIds,
      // Client verification is on by default exactly when the certificate carries a trusted root CA.
      verifiedClientCertificateEnabled: r.verifiedClientCertificateEnabled ?? certificate.trustedRootCa !== null,
      createdAt: now,
    }));
    await this.bind(accountId, id, bindings, audit.eventAt(now));
    return bindings;
  }

  async detachDomains(accountId: string, id: string, domains: string[], audit: AuditStamp): Promise<void> {
    this.checkDomainCount(domains.length);
    await this.require(accountId, id);
    const parsed = [...new Set(domains.map(parseBindableDomain))];
    const outcome = await this.deps.store.unbindDomains(accountId, id, parsed, audit.eventAt(this.deps.clock.now()));
    if ('notBound' in outcome) throw errors.domainNotBound(outcome.notBound);
  }

  async listDomains(
    accountId: string,
    id: string,
    domainLike: string | undefined,
    page: Page,
  ): Promise<{ total: number; items: DomainBinding[] }> {
    await this.require(accountId, id);
    return this.deps.store.listDomains(accountId, id, domainLike, page);
  }

  private async refuseBoundElsewhere(accountId: string, id: string, domains: string[]): Promise<void> {
    const elsewhere = await this.deps.store.domainsBoundElsewhere(accountId, id, domains);
    if (elsewhere.length > 0) throw errors.domainBoundElsewhere(elsewhere[0]!);
  }

  /**
   * The unique (account, domain) index decides a race between two attaches: the loser is told which
   * domain another certificate took. When the winner bound the same certificate (PostgreSQL reports
   * that as the same violation), binding again simply updates the row it wrote.
   */
  private async bind(accountId: string, id: string, bindings: DomainBinding[], audit: AuditEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.store.bindDomains(accountId, bindings, audit);
      } catch (err) {
        if (!(err instanceof DomainTaken)) throw err;
        await this.refuseBoundElsewhere(accountId, id, bindings.map((b) => b.domain));
        if (attempt === 2) throw errors.domainBoundElsewhere(bindings[0]!.domain);
      }
    }
  }

  private inspectContext() {
    return { now: this.deps.clock.now(), limits: this.deps.limits, issuers: this.deps.issuers };
  }

  private checkDomainCount(count: number): void {
    const max = this.deps.limits.domains;
    if (count > max) throw limitExceeded('domains', `holds ${count} entries, more than the ${max} accepted`, 'domains');
  }

  private async require(accountId: string, id: string): Promise<Certificate> {
    const found = await this.deps.store.find(accountId, id);
    if (!found) throw errors.certificateNotFound(id);
    return found;
  }

  private async checkScope(accountId: string, upload: CertificateUpload): Promise<void> {
    if (upload.scope === 'instance') {
      if (!upload.instanceId) throw errors.missingParameter('instanceId');
      await this.deps.instances.requireInstance(accountId, upload.instanceId);
    } else if (upload.instanceId) {
      throw errors.invalidParameter('instanceId', 'only certificates of type instance belong to an instance');
    }
  }

  private sealKeys(inspected: InspectedUpload): { main: SealedKey; sign: SealedKey | null } {
    const seal = (pair: InspectedPair): SealedKey => {
      const id = this.deps.ids.hex32();
      return { id, algorithm: pair.key.algorithm, sealed: this.deps.sealer.seal(pair.key.pem, privateKeyContext(id)) };
    };
    return { main: seal(inspected.main), sign: inspected.sign ? seal(inspected.sign) : null };
  }

  private async persist(write: () => Promise<void>, name: string): Promise<void> {
    try {
      await write();
    } catch (err) {
      // The unique index decides, so two concurrent uploads of one name cannot both win.
      throw err instanceof NameTaken ? errors.certificateNameTaken(name) : err;
    }
  }

  private toCertificate(
    id: string,
    accountId: string,
    upload: CertificateUpload,
    inspected: InspectedUpload,
    createdAt: Date,
    updatedAt: Date,
  ): Certificate {
    return {
      ...inspected.facts,
      id,
      accountId,
      name: upload.name,
      scope: upload.scope,
      instanceId: upload.scope === 'instance' ? (upload.instanceId ?? null) : null,
      chainPem: inspected.main.chainPem,
      signChainPem: inspected.sign?.chainPem ?? null,
      trustedRootCa: inspected.trustedRootCa,
      resourceGroupId: upload.resourceGroupId ?? null,
      tags: upload.tags ?? [],
      createdAt,
      updatedAt,
    };
  }
}
