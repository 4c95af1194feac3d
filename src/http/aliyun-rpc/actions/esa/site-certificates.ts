/**
 * What the site-certificate actions (ApplyCertificate, Get/List/Delete/SetCertificate,
 * ListCertificatesByRecord) share: how a certificate reads in ESA's spelling, with the SDK's exact
 * keys. Every time reads `2024-03-31 02:08:00` (UTC), as GetClientCertificate's do.
 */
import { siteResource } from '../../../../core/policy/index.js';
import { statusOf, type SiteCertificate, type SiteCertificateStatus } from '../../../../core/site-certificates/model.js';
import type { RpcRequestContext } from '../../action.js';
import { listTime } from './client-certificates.js';

export const ESA_STATUS: Record<SiteCertificateStatus, string> = {
  applying: 'Applying',
  ok: 'OK',
  expiring: 'Expiring',
  expired: 'Expired',
  apply_failed: 'ApplyFailed',
  canceled: 'Canceled',
};

/** `ApplyCode` of a certificate whose application ended without one: 1 refused (by the CA or a check), 2 canceled. */
export const APPLY_CODES = { failed: 1, canceled: 2 } as const;

/** `Id` of a site's certificate (32 hex digits; anything else is simply not found). */
export function certificateIdOf(ctx: RpcRequestContext): string {
  return ctx.params.requiredString('Id', { max: 64 });
}

/** `…:site/{SiteId}/certificate/{Id}`: a certificate SetCertificate stored, in the audit log. */
export function certificateOfSite(ctx: RpcRequestContext, id: string): string {
  return `${siteResource(ctx.app.config.regionId, ctx.principal.accountId, ctx.params.requiredLong('SiteId'))}/certificate/${id}`;
}

/** A Get/List item; the certificate's own facts only once there is a certificate. */
export function presentSiteCertificate(c: SiteCertificate, now: Date, expiringDays: number) {
  const status = statusOf(c, now, expiringDays);
  const d = c.details;
  return {
    Id: c.id,
    Name: c.name,
    Type: c.type,
    Status: ESA_STATUS[status],
    ...(d
      ? {
          CommonName: d.commonName,
          SAN: d.san.join(','),
          SerialNumber: d.serialNumber,
          FingerprintSha256: d.fingerprintSha256,
          Issuer: d.issuer,
          IssuerCN: d.issuerCn,
          PubAlg: d.publicKeyAlgorithm,
          SigAlg: d.signatureAlgorithm,
          NotBefore: listTime(d.notBefore),
          NotAfter: listTime(d.notAfter),
        }
      : {}),
    ...(status === 'apply_failed' && c.failure
      ? { ApplyCode: APPLY_CODES.failed, ApplyMessage: `${c.failure.code}: ${c.failure.detail}` }
      : {}),
    ...(status === 'canceled' ? { ApplyCode: APPLY_CODES.canceled, ApplyMessage: 'canceled' } : {}),
    ...(c.type === 'free'
      ? {
          DCV: c.validations.map((v) => ({
            Id: v.id,
            Key: v.key,
            Value: v.value,
            Type: v.challengeType === 'dns-01' ? 'DNS' : 'HTTP',
            Status: v.status,
          })),
        }
      : {}),
    ...(c.casId !== null ? { CasId: c.casId } : {}),
    ...(c.region !== null ? { Region: c.region } : {}),
    CreateTime: listTime(c.createdAt),
    UpdateTime: listTime(c.updatedAt),
  };
}
