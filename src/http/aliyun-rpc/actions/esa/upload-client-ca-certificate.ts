import { daysBetween } from '../../../../core/private-ca/model.js';
import { isoSeconds } from '../../../../kernel/time.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, caStatus, createdCa } from './client-certificates.js';
import { siteOf } from './resources.js';

/** The certificate's length is judged by the core against `limits.pemCharacters`, named in the refusal. */
const CERTIFICATE_READ_LIMIT = 16 * 1024 * 1024;

export const uploadClientCaCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'UploadClientCaCertificate',
  permission: 'esa:UploadClientCaCertificate',
  writes: true,
  resource: siteOf,
  created: createdCa,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle({ app, principal, params, audit }) {
    const upload = {
      certificate: params.requiredString('Certificate', { max: CERTIFICATE_READ_LIMIT }),
      name: params.string('Name', { max: 128 }),
    };
    const { ca } = await app.privateCa.uploadCa(principal.accountId, params.requiredLong('SiteId'), upload, audit);
    return {
      Id: ca.id,
      CommonName: ca.commonName,
      FingerprintSha256: ca.fingerprintSha256,
      Issuer: ca.issuer,
      NotBefore: isoSeconds(ca.notBefore),
      NotAfter: isoSeconds(ca.notAfter),
      SerialNumber: ca.serialNumber,
      SignatureAlgorithm: ca.signatureAlgorithm,
      Status: caStatus(ca, app.clock.now()),
      ValidityDays: String(daysBetween(ca.notBefore, ca.notAfter)),
    };
  },
};
