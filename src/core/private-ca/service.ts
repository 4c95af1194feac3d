import type { ClientCaSettings, PlanDefinition } from '../../config/config.js';
import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Limits } from '../../kernel/limits.js';
import type { Logger } from '../../kernel/logger.js';
import type { Sealer } from '../../kernel/sealer.js';
import type { AuditStamp } from '../audit/ports.js';
import type { Site } from '../sites/model.js';
import { caFacts } from './facts.js';
import { checkHostnames } from './hostnames.js';
import { Issuance, type IssuedClientCertificate } from './issuance.js';
import { ManagedCas } from './managed-ca.js';
import { HEX_ID, type ClientCa, type Page } from './model.js';
import type { CaSigner, KeyPairGenerator, PrivateCaStore, RevocationListener } from './ports.js';
import { checkIssueInput, type IssueInput } from './request.js';
import { ClientCertificates } from './certificates.js';
import { checkUploadedCa } from './upload.js';

export interface PrivateCaDeps {
  store: PrivateCaStore;
  signer: CaSigner;
  keys: KeyPairGenerator;
  sites: { get(accountId: string, id: string): Promise<Site> };
  plans: { definition(plan: string): PlanDefinition };
  sealer: Sealer;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  settings: ClientCaSettings;
  limits: Limits;
  /** Region of audit resource names. */
  regionId: string;
  /** Told of every revoke and activate once committed; the CRL is reissued there. */
  revocation?: RevocationListener;
  /** Wakes this process's workers for an event a change enqueued (`certificate.revoked`). */
  announce?: () => void;
}

export interface CaUpload {
  certificate: string;
  name?: string | undefined;
}

/** What a site-scoped answer carries besides its object: the site, for `SiteId` / `SiteName`. */
export type OnSite<T> = T & { site: Site };

/**
 * ESA client certificates and client CAs of a site. Creating things (issuing, uploading a CA,
 * setting hostnames) needs a plan with `clientCertificates`; reading, revoking and deleting do not,
 * so a site moved to a smaller plan can still clean up.
 */
export class PrivateCaService {
  readonly certificates: ClientCertificates;
  private readonly managed: ManagedCas;
  private readonly issuance: Issuance;

  constructor(private readonly deps: PrivateCaDeps) {
    this.managed = new ManagedCas(deps);
    this.issuance = new Issuance({ ...deps, managed: this.managed });
    this.certificates = new ClientCertificates({ ...deps, site: (a, s) => this.site(a, s) });
  }

  async issue(accountId: string, siteId: string, input: IssueInput, audit: AuditStamp): Promise<OnSite<IssuedClientCertificate>> {
    const site = await this.siteWithFeature(accountId, siteId);
    const request = await checkIssueInput(input);
    return { site, ...(await this.issuance.issue(site, request, audit)) };
  }

  async uploadCa(accountId: string, siteId: string, upload: CaUpload, audit: AuditStamp): Promise<OnSite<{ ca: ClientCa }>> {
    const site = await this.siteWithFeature(accountId, siteId);
    const now = this.deps.clock.now();
    const facts = caFacts(checkUploadedCa(upload.certificate, now, this.deps.limits));
    const id = this.deps.ids.hex32();
    const ca: ClientCa = { ...facts, name: upload.name ?? facts.name, id, accountId, siteId: site.id, kind: 'uploaded', hostnames: [], createdAt: now, updatedAt: now };
    await this.deps.store.insertUploadedCa(ca, audit.eventAt(now, id));
    return { site, ca };
  }

  async getCa(accountId: string, siteId: string, id: string): Promise<OnSite<{ ca: ClientCa }>> {
    const site = await this.site(accountId, siteId);
    return { site, ca: await this.ca(site, id) };
  }

  async listCas(accountId: string, siteId: string, page: Page): Promise<OnSite<{ total: number; items: ClientCa[] }>> {
    const site = await this.site(accountId, siteId);
    return { site, ...(await this.deps.store.listCas(accountId, site.id, page)) };
  }

  /** A managed CA goes with its key and its certificates' records, once none of them is active. */
  async deleteCa(accountId: string, siteId: string, id: string, audit: AuditStamp): Promise<OnSite<{ ca: ClientCa }>> {
    const site = await this.site(accountId, siteId);
    const ca = await this.ca(site, id);
    const outcome = await this.deps.store.deleteCa(accountId, site.id, id, audit.eventAt(this.deps.clock.now()));
    if (!outcome) throw errors.certificateNotFound(id);
    if (!outcome.deleted) throw errors.clientCaInUse(id, outcome.active);
    if (ca.kind === 'managed') this.managed.forget(site.id, id);
    return { site, ca };
  }

  /** Without `caId`, the hostnames go to the site's managed CA, created now if it has none. */
  async setHostnames(
    accountId: string,
    siteId: string,
    caId: string | undefined,
    hostnames: unknown,
    audit: AuditStamp,
  ): Promise<OnSite<{ ca: ClientCa }>> {
    const site = await this.siteWithFeature(accountId, siteId);
    const names = checkHostnames(site.name, hostnames, this.deps.limits);
    const id = caId ?? (await this.managed.forSite(site, audit)).id;
    const ca = await this.ca(site, id);
    const at = this.deps.clock.now();
    if (!(await this.deps.store.setHostnames(accountId, site.id, id, names, at, audit.eventAt(at)))) throw errors.certificateNotFound(id);
    return { site, ca: { ...ca, hostnames: names, updatedAt: at } };
  }

  /** Without `caId`, the managed CA's; `ca` is undefined while the site has none (nothing is created by a read). */
  async getHostnames(accountId: string, siteId: string, caId: string | undefined): Promise<OnSite<{ ca: ClientCa | undefined }>> {
    const site = await this.site(accountId, siteId);
    const ca = caId === undefined ? await this.managed.existing(site.id) : await this.ca(site, caId);
    return { site, ca };
  }

  /** A managed CA's certificate, public by design (`/pki/ca/{id}.pem`); undefined for any other id. */
  async managedCaCertificate(id: string): Promise<string | undefined> {
    if (!HEX_ID.test(id)) return undefined;
    return this.deps.store.managedCaCertificate(id);
  }

  private async ca(site: Site, id: string): Promise<ClientCa> {
    const ca = HEX_ID.test(id) ? await this.deps.store.findCa(site.accountId, site.id, id) : undefined;
    if (!ca) throw errors.certificateNotFound(id);
    return ca;
  }

  private site(accountId: string, siteId: string): Promise<Site> {
    return this.deps.sites.get(accountId, siteId);
  }

  private async siteWithFeature(accountId: string, siteId: string): Promise<Site> {
    const site = await this.site(accountId, siteId);
    if (!this.deps.plans.definition(site.plan).clientCertificates) throw errors.featureUnavailable('client certificates');
    return site;
  }
}
