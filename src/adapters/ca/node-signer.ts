/**
 * The CA signer: the one place where CA private keys exist in clear, as node KeyObjects. A CA's
 * key is generated here and leaves only sealed (context `client_ca_key:{id}`); it is unsealed once
 * per process and kept with the CA's clientAuth template, so a certificate costs one template
 * build, one signature and one check. Nothing here reads or writes anything but what it signs.
 */
import { createPrivateKey } from 'node:crypto';
import type { CaSigner, NewCaMaterial, NewCaSpec, SignedCertificate, SigningRequest } from '../../core/private-ca/ports.js';
import { caUrls } from '../../core/private-ca/model.js';
import type { Sealer } from '../../kernel/sealer.js';
import {
  CertificateTemplate,
  buildCertificate,
  buildCrl,
  buildOcspResponse,
  buildCheckedCertificate,
  issuerFromCertificate,
  issuerFromKey,
  newSerial,
  releaseTemplate,
  type BuiltCrl,
  type CertificateFields,
  type CrlInput,
  type OcspResponseInput,
  type SigningIssuer,
} from '../../pki/index.js';
import { generateKeys } from '../crypto/key-pairs.js';

/** Context a CA key is sealed to: a sealed CA key moved onto another record does not open. */
export function caKeyContext(caId: string): string {
  return `client_ca_key:${caId}`;
}

/** Where the signer finds a CA it has not loaded yet (the store). */
export interface CaKeySource {
  caKey(caId: string): Promise<{ certificatePem: string; sealedKey: string } | undefined>;
}

interface LoadedCa {
  issuer: SigningIssuer;
  template: CertificateTemplate;
}

export interface NodeCaSignerDeps {
  sealer: Sealer;
  source: CaKeySource;
  /** Base of the CRL and OCSP URLs written into every certificate. */
  publicUrl: string;
}

export class NodeCaSigner implements CaSigner {
  /** Promises, so concurrent first uses of a CA unseal it once. */
  private readonly loaded = new Map<string, Promise<LoadedCa>>();

  constructor(private readonly deps: NodeCaSignerDeps) {}

  async createCa(caId: string, spec: NewCaSpec): Promise<NewCaMaterial> {
    const { privateKey } = await generateKeys(spec.keyType);
    const self = issuerFromKey(privateKey, spec.subject);
    const certificate = buildCertificate(self, { kind: 'clientCa' }, { serial: newSerial(), notBefore: spec.notBefore, notAfter: spec.notAfter });
    const sealedKey = this.deps.sealer.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), caKeyContext(caId));
    this.loaded.set(caId, Promise.resolve(this.prepare(caId, issuerFromCertificate(certificate.der, privateKey))));
    return { certificatePem: certificate.pem, sealedKey };
  }

  async issue(caId: string, request: SigningRequest): Promise<SignedCertificate> {
    const { issuer, template } = await this.load(caId);
    const fields: CertificateFields = {
      subject: request.subject,
      subjectSpki: request.subjectSpki,
      serial: request.serial,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
    };
    // Built, signed and checked off the event loop (on the signing thread, in one hand-over).
    const built = await buildCheckedCertificate(template, fields);
    return { der: built.der, pem: built.pem, fingerprintSha256: built.fingerprintSha256, signatureAlgorithm: issuer.scheme.name };
  }

  async signCrl(caId: string, crl: Omit<CrlInput, 'issuer'>): Promise<BuiltCrl> {
    const { issuer } = await this.load(caId);
    return buildCrl({ ...crl, issuer });
  }

  async signOcspResponse(caId: string, response: Omit<OcspResponseInput, 'responder' | 'certificates'>): Promise<Buffer> {
    const { issuer } = await this.load(caId);
    return buildOcspResponse({ ...response, responder: issuer });
  }

  forget(caId: string): void {
    const loaded = this.loaded.get(caId);
    this.loaded.delete(caId);
    // The signing thread's copy of the template holds the CA key too: it goes at the same time.
    loaded?.then(({ template }) => releaseTemplate(template), () => undefined);
  }

  private load(caId: string): Promise<LoadedCa> {
    let ca = this.loaded.get(caId);
    if (!ca) {
      const loading = this.unseal(caId);
      this.loaded.set(caId, loading);
      // A failed load is not remembered: the next request tries again.
      loading.catch(() => {
        if (this.loaded.get(caId) === loading) this.loaded.delete(caId);
      });
      ca = loading;
    }
    return ca;
  }

  private async unseal(caId: string): Promise<LoadedCa> {
    const stored = await this.deps.source.caKey(caId);
    if (!stored) throw new Error(`CA ${caId} has no key to sign with`);
    const privateKey = createPrivateKey(this.deps.sealer.open(stored.sealedKey, caKeyContext(caId)));
    return this.prepare(caId, issuerFromCertificate(stored.certificatePem, privateKey));
  }

  private prepare(caId: string, issuer: SigningIssuer): LoadedCa {
    const urls = caUrls(this.deps.publicUrl, caId);
    return { issuer, template: new CertificateTemplate(issuer, { kind: 'clientAuth', crlUrl: urls.crl, ocspUrl: urls.ocsp }) };
  }
}
