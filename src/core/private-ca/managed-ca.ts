/**
 * The managed CA of each site: created on first use (its key generated inside the signer), one per
 * site even when several requests or processes race to create it (a unique index decides; the
 * losers read the winner's). What issuance needs of it is kept in memory.
 */
import type { ClientCaSettings } from '../../config/config.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import { isPkiError, parseCertificate, type NameInput } from '../../pki/index.js';
import type { AuditStamp } from '../audit/ports.js';
import type { Site } from '../sites/model.js';
import { caFacts } from './facts.js';
import { BACKDATE_MS, DAY_MS, clientCaResource, wholeSeconds, type ClientCa } from './model.js';
import { ManagedCaExists, type CaSigner, type PrivateCaStore, type RevocationListener } from './ports.js';
import { ocspIssuerIds } from './revocation.js';

/** What issuing needs of a site's managed CA. */
export interface ManagedCaRef {
  id: string;
  commonName: string;
  notAfter: Date;
}

/** Audit action of a managed CA's creation: no ESA operation creates one explicitly. */
export const CREATE_MANAGED_CA_ACTION = 'certplane:CreateManagedClientCa';

/** RFC 5280's upper bound on a CN, in characters. */
const CN_MAX = 64;
/** Sites whose managed CA is remembered; past this the memory is cleared (it is only a cache). */
const REMEMBERED_SITES = 10_000;

export interface ManagedCaDeps {
  store: PrivateCaStore;
  signer: CaSigner;
  clock: Clock;
  ids: IdGenerator;
  settings: ClientCaSettings;
  regionId: string;
  logger: Logger;
  revocation?: RevocationListener | undefined;
}

export class ManagedCas {
  private readonly known = new Map<string, ManagedCaRef>();

  constructor(private readonly deps: ManagedCaDeps) {}

  /** The site's managed CA, created now if it has none (recorded with `audit`'s actor and request). */
  async forSite(site: Site, audit: AuditStamp): Promise<ManagedCaRef> {
    const known = this.known.get(site.id);
    if (known) return known;
    const ca = (await this.deps.store.findManagedCa(site.id)) ?? (await this.create(site, audit));
    return this.remember(site.id, ca);
  }

  /** The site's managed CA if it exists; nothing is created. */
  async existing(siteId: string): Promise<ClientCa | undefined> {
    return this.deps.store.findManagedCa(siteId);
  }

  /** Forgets what is known of a site's CA (it was deleted, here or by another process). */
  forget(siteId: string, caId: string): void {
    this.known.delete(siteId);
    this.deps.signer.forget(caId);
  }

  private remember(siteId: string, ca: ClientCa): ManagedCaRef {
    if (this.known.size >= REMEMBERED_SITES) this.known.clear();
    const ref = { id: ca.id, commonName: ca.commonName, notAfter: ca.notAfter };
    this.known.set(siteId, ref);
    return ref;
  }

  private async create(site: Site, audit: AuditStamp): Promise<ClientCa> {
    const { clock, ids, settings, signer, store } = this.deps;
    const id = ids.hex32();
    const now = clock.now();
    const notBefore = wholeSeconds(new Date(now.getTime() - BACKDATE_MS));
    const notAfter = new Date(notBefore.getTime() + settings.validityDays * DAY_MS);
    const material = await signer.createCa(id, { subject: this.subject(site), keyType: settings.keyType, notBefore, notAfter });
    const certificate = parseOwnCertificate(material.certificatePem);
    const ca: ClientCa = {
      ...caFacts(certificate),
      id,
      accountId: site.accountId,
      siteId: site.id,
      kind: 'managed',
      hostnames: [],
      createdAt: now,
      updatedAt: now,
    };
    const event = {
      ...audit.eventAt(now),
      action: CREATE_MANAGED_CA_ACTION,
      resource: clientCaResource(this.deps.regionId, site.accountId, site.id, id),
    };
    try {
      await store.insertManagedCa(ca, material.sealedKey, ocspIssuerIds(certificate), event);
      await this.published(id);
      return ca;
    } catch (err) {
      signer.forget(id);
      if (!(err instanceof ManagedCaExists)) throw err;
      const winner = await store.findManagedCa(site.id);
      if (!winner) throw err;
      return winner;
    }
  }

  /** Its first CRL, issued now; a failure is logged (the CRL is issued when first fetched). */
  private async published(caId: string): Promise<void> {
    if (!this.deps.revocation) return;
    try {
      await this.deps.revocation.caCreated(caId);
    } catch (err) {
      this.deps.logger.error({ err, caId }, 'the new CA could not publish its first CRL');
    }
  }

  /** The configured names with `{site}` and `{siteId}` filled in; a CN is cut to the 64 characters X.509 allows. */
  private subject(site: Site): NameInput {
    const fill = (template: string) => template.replaceAll('{siteId}', site.id).replaceAll('{site}', site.name);
    const { organization, organizationalUnit, commonName } = this.deps.settings;
    return {
      organization: [...fill(organization)].slice(0, CN_MAX).join(''),
      organizationalUnit: [...fill(organizationalUnit)].slice(0, CN_MAX).join(''),
      commonName: [...fill(commonName)].slice(0, CN_MAX).join(''),
    };
  }
}

/** The signer's own output: a failure to read it is a fault of ours, not the caller's. */
function parseOwnCertificate(pem: string) {
  try {
    return parseCertificate(pem);
  } catch (err) {
    if (isPkiError(err)) throw new Error(`the new CA certificate does not parse: ${err.message}`, { cause: err });
    throw err;
  }
}
