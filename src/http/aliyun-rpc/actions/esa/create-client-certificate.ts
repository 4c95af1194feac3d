import { errors } from '../../../../kernel/errors.js';
import { isoSeconds } from '../../../../kernel/time.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import type { RpcParams } from '../../params.js';
import { CREATE_ERRORS, createdCertificate } from './client-certificates.js';
import { siteOf } from './resources.js';

/** A CSR is bounded by its own check (16 KiB, named in the refusal), not by the generic parameter length. */
const CSR_READ_LIMIT = 16 * 1024 * 1024;

export const createClientCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'CreateClientCertificate',
  permission: 'esa:CreateClientCertificate',
  writes: true,
  resource: siteOf,
  created: createdCertificate,
  errors: CREATE_ERRORS,
  async handle({ app, principal, params, audit }) {
    const input = {
      csr: params.string('CSR', { max: CSR_READ_LIMIT }),
      pkeyType: params.string('PkeyType', { max: 16 }),
      validityDays: validityDays(params),
    };
    const issued = await app.privateCa.issue(principal.accountId, params.requiredLong('SiteId'), input, audit);
    const { certificate } = issued;
    return {
      Id: certificate.id,
      CACertificateId: certificate.caId,
      Certificate: issued.certificatePem,
      ...(issued.privateKey !== null ? { PrivateKey: issued.privateKey } : {}),
      CommonName: certificate.commonName,
      FingerprintSha256: certificate.fingerprintSha256,
      Issuer: certificate.issuer,
      NotBefore: isoSeconds(certificate.notBefore),
      NotAfter: isoSeconds(certificate.notAfter),
      SerialNumber: certificate.serialNumber,
      SignatureAlgorithm: certificate.signatureAlgorithm,
      Status: certificate.status,
      ValidityDays: String(certificate.validityDays),
    };
  },
};

/** A whole number; its range is the core's to judge (and to name in the refusal). */
function validityDays(params: RpcParams): number {
  const text = params.requiredString('ValidityDays', { max: 16 });
  if (!/^-?\d{1,9}$/.test(text)) throw errors.invalidParameter('validityDays', `must be a whole number of days, got "${text}"`);
  return Number(text);
}
