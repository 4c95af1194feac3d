import type { IssuerProfile } from '../../config/issuers.js';
import type { PlanDefinition } from '../../config/config.js';
import type { Clock } from '../../kernel/clock.js';
import { AppError, errors, isAppError } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { AuditStamp } from '../audit/ports.js';
import type { Certificate, CertificateUpload } from '../certificates/model.js';
import { certificatesRenewable, type Site } from '../sites/model.js';
import { domainsRefused, parseApplyDomains } from './domains.js';
import type { ListFilter, Page, SiteCertificate } from './model.js';
import { ApplicationInProgress, type NewApplication, type PreparedUpload, type SiteCertificateStore, type SiteCertificateWrite } from './ports.js';
import { matchRecords, parseRecordNames, type RecordMatch } from './records.js';

export interface SiteCertificatesDeps {
  store: SiteCertificateStore;
  sites: { get(accountId: string, id: string): Promise<Site> };
  plans: { definition(plan: string): PlanDefinition };
  /** The inventory: uploads are checked and sealed there, `cas` certificates read from it. */
  inventory: {
    prepareUpload(accountId: string, id: string, upload: CertificateUpload): Promise<PreparedUpload>;
    get(accountId: string, id: string): Promise<Certificate>;
  };
  issuers: Record<string, IssuerProfile>;
  clock: Clock;
  ids: IdGenerator;
  /** Where certificates are said to be stored when SetCertificate names no Region. */
  regionId: string;
  /** Most record names one ListCertificatesByRecord may ask about. */
  maxRecords: number;
}

export interface SetInput {
  type: 'upload' | 'cas';
  certificate?: string | undefined;
  privateKey?: string | undefined;
  name?: string | undefined;
  /** The certificate of the site to replace. */
  id?: string | undefined;
  casId?: string | undefined;
  region?: string | undefined;
}

/** The default ApplyCertificate `Type`. */
export const DEFAULT_ISSUER = 'lets_encrypt';
/** A site's certificates considered by ListCertificatesByRecord. */
const RECORD_SCAN_LIMIT = 10_000;

/**
 * ESA's certificates of a site: free ones applied for through ACME (one issuance and one
 * `acme.issue` job per domain, worked elsewhere), uploaded ones checked by the inventory, and
 * references to inventory certificates.
 */
export class SiteCertificatesService {
  constructor(private readonly deps: SiteCertificatesDeps) {}

  /**
   * Every check first (site, type, domains, plan), then, in one transaction holding the site's
   * lock: applications whose issuance finished free their domain, domains in progress are refused,
   * and the plan's free certificates and DNS records are counted, so concurrent applications never
   * exceed them. Nothing is stored unless all domains are accepted.
   */
  async apply(accountId: string, siteId: string, domains: string, type: string | undefined, audit: AuditStamp) {
    const site = await this.deps.sites.get(accountId, siteId);
    if (!certificatesRenewable(site)) throw errors.siteNotActivated(site.id);
    const profileType = type ?? DEFAULT_ISSUER;
    const profile = this.profile(profileType);
    const names = parseApplyDomains(domains, site, profile.domainLimit);
    const plan = this.plan(site.plan);
    const at = this.deps.clock.now();
    const applications: NewApplication[] = names.map((domain) => ({
      id: this.deps.ids.hex32(),
      name: domain,
      domain,
      issuerProfile: profileType,
      issuance: {
        id: this.deps.ids.hex32(),
        accountId,
        profile: profileType,
        identifiers: [domain],
        challengeType: site.accessType === 'NS' ? 'dns-01' : 'http-01',
        placement: 'certplane',
        keyType: profile.keyType,
      },
      jobId: this.deps.ids.hex32(),
      at,
    }));
    try {
      await this.deps.store.withSite(accountId, site.id, async (locked) => {
        if (locked.siteStatus === undefined) throw errors.siteNotFound(site.id);
        if (!certificatesRenewable({ status: locked.siteStatus })) throw errors.siteNotActivated(site.id);
        await locked.settleFinished();
        const inProgress = new Set(await locked.domainsInProgress());
        const busy = names.find((name) => inProgress.has(name));
        if (busy !== undefined) throw domainsRefused('inProgress', `an application for ${busy} is in progress on this site`);
        const held = await locked.freeCertificatesHeld();
        if (held + names.length > plan.freeCertificatesPerSite) {
          throw errors.freeCertificateQuotaExceeded(plan.freeCertificatesPerSite, held, names.length);
        }
        // NS mode: each application in progress holds one `_acme-challenge` TXT record in the site's zone.
        if (site.accessType === 'NS' && inProgress.size + names.length > plan.dnsRecords) {
          throw errors.recordQuotaExceeded(plan.dnsRecords, inProgress.size, names.length);
        }
        await locked.insertApplications(applications, audit.eventAt(at));
      });
    } catch (err) {
      if (err instanceof ApplicationInProgress) throw domainsRefused('inProgress', 'another application for one of these domains was stored first');
      throw err;
    }
    return { site, applications };
  }

  async get(accountId: string, siteId: string, id: string): Promise<{ site: Site; certificate: SiteCertificate }> {
    const site = await this.deps.sites.get(accountId, siteId);
    const certificate = await this.deps.store.find(accountId, site.id, id);
    if (!certificate) throw errors.certificateNotFound(id);
    return { site, certificate };
  }

  async list(accountId: string, siteId: string, filter: ListFilter, page: Page) {
    const site = await this.deps.sites.get(accountId, siteId);
    return { site, ...(await this.deps.store.list(accountId, site.id, filter, page, this.deps.clock.now())) };
  }

  async delete(accountId: string, siteId: string, id: string, audit: AuditStamp): Promise<{ site: Site; certificate: SiteCertificate }> {
    const site = await this.deps.sites.get(accountId, siteId);
    const certificate = await this.deps.store.delete(accountId, site.id, id, audit.eventAt(this.deps.clock.now()));
    if (!certificate) throw errors.certificateNotFound(id);
    return { site, certificate };
  }

  /**
   * `upload`: the certificate and key pass the inventory's checks and are stored there, owned by
   * the site. `cas`: an inventory certificate of the account, named by `casId`, is referenced.
   * With `id`, that certificate of the site is replaced under the same id.
   */
  async set(accountId: string, siteId: string, input: SetInput, audit: AuditStamp): Promise<{ site: Site; id: string }> {
    const site = await this.deps.sites.get(accountId, siteId);
    const id = input.id ?? this.deps.ids.hex32();
    let upload: PreparedUpload | null = null;
    let write: SiteCertificateWrite;
    const base = { id, accountId, siteId: site.id, region: input.region ?? this.deps.regionId };
    if (input.type === 'upload') {
      if (input.casId !== undefined) throw errors.invalidParameter('casId', 'only certificates of Type cas name a CasId');
      if (input.certificate === undefined) throw errors.missingParameter('certificate');
      if (input.privateKey === undefined) throw errors.missingParameter('privateKey');
      const inventoryId = this.deps.ids.hex32();
      upload = await this.deps.inventory.prepareUpload(accountId, inventoryId, {
        // Inventory names are unique per account; the ESA name lives with the site's certificate.
        name: `esa_${inventoryId}`,
        chainPem: input.certificate,
        privateKeyPem: input.privateKey,
        scope: 'global',
      });
      const at = upload.certificate.createdAt;
      write = { ...base, type: 'upload', name: input.name ?? upload.certificate.commonName, certificateId: inventoryId, casId: null, at };
    } else {
      if (input.certificate !== undefined || input.privateKey !== undefined) {
        throw errors.invalidParameter(input.certificate !== undefined ? 'certificate' : 'privateKey', 'Type cas references a certificate by CasId; upload one with Type upload');
      }
      if (input.casId === undefined) throw errors.missingParameter('casId');
      const referenced = await this.inventoryCertificate(accountId, input.casId);
      write = { ...base, type: 'cas', name: input.name ?? referenced.name, certificateId: referenced.id, casId: input.casId, at: this.deps.clock.now() };
    }
    const stored = await this.deps.store.set(write, upload, input.id !== undefined, audit.eventAt(write.at, id));
    if (!stored) throw errors.certificateNotFound(id);
    return { site, id };
  }

  /** For each record name: the site's certificates answering for it, exactly or through a wildcard. */
  async byRecord(accountId: string, siteId: string, recordNames: string, validOnly: boolean): Promise<{ site: Site; records: RecordMatch[] }> {
    const site = await this.deps.sites.get(accountId, siteId);
    const names = parseRecordNames(recordNames, this.deps.maxRecords);
    const certificates = await this.deps.store.all(accountId, site.id, RECORD_SCAN_LIMIT);
    return { site, records: matchRecords(names, certificates, this.deps.clock.now(), validOnly) };
  }

  private profile(type: string): IssuerProfile {
    const profile = Object.hasOwn(this.deps.issuers, type) ? this.deps.issuers[type] : undefined;
    const known = Object.keys(this.deps.issuers).sort().join(', ');
    if (!profile) {
      throw typeRefused(`${JSON.stringify(type)} is not a certificate type; certificate application type supports ${known}`);
    }
    if (profile.directoryUrl === undefined) {
      throw typeRefused(`${type} is not configured on this service: the operator has not given the issuer profile a directoryUrl`);
    }
    return profile;
  }

  private plan(plan: string): PlanDefinition {
    try {
      return this.deps.plans.definition(plan);
    } catch (err) {
      if (isAppError(err) && err.code === 'plan.not_found') throw errors.quotaUnreadable(plan);
      throw err;
    }
  }

  private async inventoryCertificate(accountId: string, casId: string): Promise<Certificate> {
    try {
      return await this.deps.inventory.get(accountId, casId);
    } catch (err) {
      if (isAppError(err) && err.code === 'certificate.not_found') {
        throw errors.invalidParameter('casId', `no certificate ${casId} in this account's certificate inventory`);
      }
      throw err;
    }
  }
}

function typeRefused(why: string): AppError {
  return new AppError('request.invalid_parameter', `The specified Type parameter is invalid, please check and try again (${why}).`, { parameter: 'type' });
}
