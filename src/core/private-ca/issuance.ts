/**
 * Issuing a client certificate, boulder's way: check everything, record the serial and the request
 * (status `issuing`), sign, check what was signed, then store certificate, sealed key and audit row
 * together (`active`). A failure after the record voids it; a crash leaves an `issuing` record the
 * inventory lists and voids once abandoned. So no certificate exists that the inventory does not know.
 */
import { errors } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { Sealer } from '../../kernel/sealer.js';
import { isoSeconds } from '../../kernel/time.js';
import { encodeName, newSerial } from '../../pki/index.js';
import type { AuditStamp } from '../audit/ports.js';
import type { Site } from '../sites/model.js';
import type { ManagedCaRef, ManagedCas } from './managed-ca.js';
import { BACKDATE_MS, DAY_MS, clientKeyContext, wholeSeconds, type ClientCertificate } from './model.js';
import { UnknownCa, type CaSigner, type GeneratedKeyPair, type KeyPairGenerator, type PrivateCaStore, type SignedCertificate } from './ports.js';
import type { CheckedRequest } from './request.js';

export interface IssuanceDeps {
  store: PrivateCaStore;
  signer: CaSigner;
  keys: KeyPairGenerator;
  managed: ManagedCas;
  sealer: Sealer;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}

export interface IssuedClientCertificate {
  certificate: ClientCertificate;
  certificatePem: string;
  /** PKCS#8 PEM when certplane generated the key; shown once, stored only sealed. */
  privateKey: string | null;
  ca: ManagedCaRef;
}

/** A reservation is retried once when its CA turned out deleted (by another process) meanwhile. */
const RESERVE_ATTEMPTS = 2;

export class Issuance {
  constructor(private readonly deps: IssuanceDeps) {}

  /** `request` has passed checkIssueInput, and the site may issue. */
  async issue(site: Site, request: CheckedRequest, audit: AuditStamp): Promise<IssuedClientCertificate> {
    const key = request.kind === 'generate' ? await this.deps.keys.generate(request.keyType) : null;
    const { record, ca } = await this.reserve(site, request, key, audit);
    const serial = Buffer.from(record.serialNumber, 'hex');
    let signed: SignedCertificate;
    try {
      const subject = request.kind === 'csr' ? request.subject : encodeName({ commonName: record.id });
      const subjectSpki = request.kind === 'csr' ? request.spki : key!.spki;
      signed = await this.deps.signer.issue(ca.id, { subject, subjectSpki, serial, notBefore: record.notBefore, notAfter: record.notAfter });
      const at = this.deps.clock.now();
      const sealedKey = key ? this.deps.sealer.seal(key.privateKeyPem, clientKeyContext(record.id)) : null;
      const completion = { certificatePem: signed.pem, fingerprintSha256: signed.fingerprintSha256, signatureAlgorithm: signed.signatureAlgorithm, sealedKey, at };
      await this.deps.store.complete(record.id, completion, audit.eventAt(at, record.id));
      const certificate: ClientCertificate = {
        ...record,
        status: 'active',
        certificatePem: signed.pem,
        fingerprintSha256: signed.fingerprintSha256,
        signatureAlgorithm: signed.signatureAlgorithm,
        updatedAt: at,
      };
      return { certificate, certificatePem: signed.pem, privateKey: key?.privateKeyPem ?? null, ca };
    } catch (err) {
      await this.abandon(record, err);
      throw err;
    }
  }

  /** Records the certificate-to-be under the site's managed CA (created on first use). */
  private async reserve(
    site: Site,
    request: CheckedRequest,
    key: GeneratedKeyPair | null,
    audit: AuditStamp,
  ): Promise<{ record: ClientCertificate; ca: ManagedCaRef }> {
    for (let attempt = 1; ; attempt++) {
      const ca = await this.deps.managed.forSite(site, audit);
      const record = this.draft(site, ca, request, key);
      try {
        await this.deps.store.reserve(record);
        return { record, ca };
      } catch (err) {
        if (!(err instanceof UnknownCa) || attempt === RESERVE_ATTEMPTS) throw err;
        this.deps.managed.forget(site.id, ca.id);
      }
    }
  }

  private draft(site: Site, ca: ManagedCaRef, request: CheckedRequest, key: GeneratedKeyPair | null): ClientCertificate {
    const now = this.deps.clock.now();
    const notBefore = wholeSeconds(new Date(now.getTime() - BACKDATE_MS));
    const notAfter = new Date(notBefore.getTime() + request.validityDays * DAY_MS);
    if (notAfter.getTime() > ca.notAfter.getTime()) {
      throw errors.invalidParameter(
        'validityDays',
        `${request.validityDays} days would end after the site's CA certificate (it expires ${isoSeconds(ca.notAfter)})`,
      );
    }
    const id = this.deps.ids.ordered32();
    return {
      id,
      accountId: site.accountId,
      siteId: site.id,
      caId: ca.id,
      serialNumber: newSerial().toString('hex'),
      status: 'issuing',
      commonName: request.kind === 'csr' ? request.commonName : id,
      issuer: ca.commonName,
      publicKeyAlgorithm: request.publicKeyAlgorithm,
      keyGenerated: key !== null,
      certificatePem: null,
      fingerprintSha256: null,
      signatureAlgorithm: null,
      notBefore,
      notAfter,
      validityDays: request.validityDays,
      revokedAt: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Voids the record of a failed issuance; if even that fails, the record stays `issuing` until it is voided as abandoned. */
  private async abandon(record: ClientCertificate, cause: unknown): Promise<void> {
    const log = { certificateId: record.id, caId: record.caId, serial: record.serialNumber };
    try {
      await this.deps.store.voidIssuing(record.id, this.deps.clock.now());
      this.deps.logger.warn({ ...log, err: cause }, 'client certificate issuance failed after its serial was recorded; the record is void');
    } catch (err) {
      this.deps.logger.error({ ...log, err, cause }, 'client certificate issuance failed and its record could not be voided');
    }
  }
}
