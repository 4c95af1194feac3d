import type { CertificateUpload } from '../../../../core/certificates/model.js';
import { checkTags, checkText } from '../../../../core/orders/request.js';
import { errors } from '../../../../kernel/errors.js';
import { CAS_VERSION, type RpcAction } from '../../action.js';
import type { RpcParams } from '../../params.js';
import { anyCertificate, CAS_ERRORS, createdCertificate, tagsOf } from './orders.js';

/** PEM fields are bounded by the inventory's own checks (`limits.pemCharacters`, named in the refusal). */
const PEM_READ_LIMIT = 16 * 1024 * 1024;

/**
 * Uploads a certificate and its key into the inventory through the same checks as every upload
 * (chain order and signatures, key match, expiry, SAN); an SM2 dual certificate comes as
 * EncryptCert/EncryptPrivateKey with SignCert/SignPrivateKey. Answers a numeric `CertId`. The keys
 * arrive in the query string: the request log never shows it. `ResourceGroupId` and `Tags` are kept
 * with the certificate: ListUserCertificateOrder filters on the group, and both lists and
 * GetUserCertificateDetail show it.
 */
export const uploadUserCertificate: RpcAction = {
  version: CAS_VERSION,
  name: 'UploadUserCertificate',
  permission: 'yundun-cert:UploadUserCertificate',
  writes: true,
  resource: anyCertificate,
  created: createdCertificate,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    const certificate = await app.certificates.upload(principal.accountId, uploadOf(params), audit, 'numeric');
    return { CertId: Number(certificate.id), ResourceId: `cas-upload-${certificate.id}` };
  },
};

function uploadOf(params: RpcParams): CertificateUpload {
  return { ...contentOf(params), resourceGroupId: resourceGroupOf(params), tags: checkTags(tagsOf(params)) };
}

/** As ESA's CreateSite takes it: any text of 1-64 characters. */
export function resourceGroupOf(params: RpcParams): string | undefined {
  const group = params.string('ResourceGroupId', { max: 64 });
  return group === '' ? undefined : group;
}

function contentOf(params: RpcParams): CertificateUpload {
  const name = checkText('name', params.requiredString('Name', { max: 256 }), 64);
  const pem = (key: string) => params.string(key, { max: PEM_READ_LIMIT });
  const [cert, key, encCert, encKey, signCert, signKey] = ['Cert', 'Key', 'EncryptCert', 'EncryptPrivateKey', 'SignCert', 'SignPrivateKey'].map(pem);
  if (encCert !== undefined || encKey !== undefined || signCert !== undefined || signKey !== undefined) {
    if (cert !== undefined || key !== undefined) throw errors.invalidParameter('cert', 'give Cert and Key, or the four SM2 fields, not both');
    const need = (value: string | undefined, parameter: string) => value ?? (() => { throw errors.missingParameter(parameter); })();
    return {
      name,
      scope: 'global',
      algorithmType: 'SM2',
      chainPem: need(encCert, 'encryptCert'),
      privateKeyPem: need(encKey, 'encryptPrivateKey'),
      signChainPem: need(signCert, 'signCert'),
      signPrivateKeyPem: need(signKey, 'signPrivateKey'),
    };
  }
  if (cert === undefined) throw errors.missingParameter('cert');
  if (key === undefined) throw errors.missingParameter('key');
  return { name, scope: 'global', chainPem: cert, privateKeyPem: key };
}
