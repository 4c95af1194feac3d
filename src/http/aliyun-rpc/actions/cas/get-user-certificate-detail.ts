import { chainLinks } from '../../../../core/orders/chain.js';
import { errors, isAppError } from '../../../../kernel/errors.js';
import type { App } from '../../../../main.js';
import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, certIdOf, certificateOf, day } from './orders.js';

const DAY_MS = 86_400_000;

/**
 * One certificate by `CertId`: an uploaded one (with its keys unless `CertFilter` is true), or the
 * certificate of an issued order (`CertId` = `OrderId`; its key only when certplane made it).
 */
export const getUserCertificateDetail: RpcAction = {
  version: CAS_VERSION,
  name: 'GetUserCertificateDetail',
  permission: 'yundun-cert:GetUserCertificateDetail',
  writes: false,
  resource: certificateOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params }) {
    const id = certIdOf(params);
    const withContent = params.boolean('CertFilter') !== true;
    const uploaded = await uploadedDetail(app, principal.accountId, id, withContent);
    return uploaded ?? (await issuedDetail(app, principal.accountId, id, withContent));
  },
};

function common(id: string, chainPem: string, now: Date) {
  const links = chainLinks(chainPem);
  const leaf = links[0]!;
  return {
    Id: Number(id),
    CertIdentifier: id,
    Issuer: leaf.issuerCommonName,
    SerialNo: leaf.serialHex,
    Fingerprint: leaf.sha1,
    NotBefore: leaf.notBefore.getTime(),
    NotAfter: leaf.notAfter.getTime(),
    StartDate: day(leaf.notBefore),
    EndDate: day(leaf.notAfter),
    Expired: leaf.notAfter.getTime() <= now.getTime(),
    CertChain: links.map((l) => ({
      CommonName: l.commonName,
      IssuerCommonName: l.issuerCommonName,
      NotBefore: l.notBefore.getTime(),
      NotAfter: l.notAfter.getTime(),
      RemainDay: Math.max(0, Math.floor((l.notAfter.getTime() - now.getTime()) / DAY_MS)),
    })),
  };
}

async function uploadedDetail(app: App, accountId: string, id: string, withContent: boolean) {
  const c = await app.certificates.get(accountId, id).catch((err: unknown) => {
    if (isAppError(err) && err.code === 'certificate.not_found') return undefined;
    throw err;
  });
  if (!c) return undefined;
  const keys = withContent ? await app.certificates.privateKeys(accountId, id) : undefined;
  const sm2 = c.algorithmType === 'SM2';
  return {
    ...common(id, c.chainPem, app.clock.now()),
    Name: c.name,
    InstanceId: `cas-upload-${id}`,
    Algorithm: c.algorithmType,
    BuyInAliyun: false,
    Common: c.commonName,
    Sans: c.san.join(','),
    Sha2: c.fingerprintSha256.toUpperCase(),
    OrgName: c.subject.organization[0] ?? '',
    Country: c.subject.country[0] ?? '',
    Province: c.subject.state[0] ?? '',
    City: c.subject.locality[0] ?? '',
    ...(c.resourceGroupId === null ? {} : { ResourceGroupId: c.resourceGroupId }),
    ...(keys && !sm2 ? { Cert: c.chainPem, Key: keys.main } : {}),
    ...(keys && sm2 ? { EncryptCert: c.chainPem, EncryptPrivateKey: keys.main, SignCert: c.signChainPem ?? '', SignPrivateKey: keys.sign ?? '' } : {}),
  };
}

async function issuedDetail(app: App, accountId: string, id: string, withContent: boolean) {
  const view = await app.orders.describe(accountId, id).catch((err: unknown) => {
    if (isAppError(err) && err.code === 'order.not_found') return undefined;
    throw err;
  });
  const issued = view?.phase.phase === 'issued' ? view.issuance.issued : undefined;
  if (!view || !issued) throw errors.certificateNotFound(id);
  return {
    ...common(id, issued.chainPem, app.clock.now()),
    OrderId: Number(id),
    Name: view.order.domain,
    InstanceId: `cas-order-${id}`,
    Algorithm: view.order.algorithm,
    BuyInAliyun: false,
    Common: issued.commonName,
    Sans: issued.san,
    Sha2: issued.fingerprintSha256.toUpperCase(),
    ...(withContent ? { Cert: issued.chainPem, ...(view.privateKeyPem !== undefined ? { Key: view.privateKeyPem } : {}) } : {}),
  };
}
