/**
 * What the client-certificate actions share: their resources, how their errors read (the
 * CreateClientCertificate documentation's table), their parameters, and their answers with the
 * SDK's exact keys. Times read `2024-12-01T02:12:49Z` in Create/Upload answers and
 * `2024-03-31 02:08:00` (UTC) in Get/List answers, as the ESA documentation shows them.
 */
import { expiryOf, type ExpiryStatus } from '../../../../core/certificates/expiry.js';
import { clientCaResource, clientCertificateResource, type ClientCa, type ClientCertificate } from '../../../../core/private-ca/model.js';
import type { Site } from '../../../../core/sites/model.js';
import { isoSeconds } from '../../../../kernel/time.js';
import type { RpcRequestContext } from '../../action.js';
import type { RpcErrorOverrides } from '../../errors.js';

/** An unknown site reads as the documentation of CreateClientCertificate says. */
export const CLIENT_CERTIFICATE_ERRORS: RpcErrorOverrides = {
  'site.not_found': [
    400,
    'InvalidParameter.SiteId',
    'Failed to query the website based on the SiteID you specified. Check parameter SiteId and try again.',
  ],
};

/** CreateClientCertificate's table has one `InvalidParameter` for every bad input but SiteId; the message says which and why. */
export const CREATE_ERRORS: RpcErrorOverrides = {
  ...CLIENT_CERTIFICATE_ERRORS,
  'request.invalid_parameter': [400, (e) => (e.details.parameter === 'siteId' ? 'InvalidParameter.SiteId' : 'InvalidParameter'), (e) => e.message],
};

export function createdCertificate(ctx: RpcRequestContext, id: string): string {
  return clientCertificateResource(ctx.app.config.regionId, ctx.principal.accountId, ctx.params.requiredLong('SiteId'), id);
}

export function createdCa(ctx: RpcRequestContext, id: string): string {
  return clientCaResource(ctx.app.config.regionId, ctx.principal.accountId, ctx.params.requiredLong('SiteId'), id);
}

/** `Id` of a certificate or CA (32 hex digits; anything else is simply not found). */
export function idOf(ctx: RpcRequestContext): string {
  return ctx.params.requiredString('Id', { max: 64 });
}

/** `YYYY-MM-DD HH:mm:ss` in UTC. */
export function listTime(at: Date): string {
  return isoSeconds(at).replace('T', ' ').replace('Z', '');
}

export function onSite(site: Site) {
  return { SiteId: Number(site.id), SiteName: site.name };
}

/** ESA's words for the expiry statuses, as its certificates' `Status` has them. */
export const ESA_EXPIRY: Record<ExpiryStatus, 'OK' | 'Expiring' | 'Expired'> = { valid: 'OK', expiring: 'Expiring', expired: 'Expired' };

/**
 * Get/List items; `Name` is the common name, as no operation names a client certificate.
 * `ExpiryStatus` (`OK`, `Expiring`, `Expired`) is certplane's own field: `Status` says whether the
 * certificate is active or revoked, not how close it is to its end.
 */
export function presentCertificate(c: ClientCertificate, view: { now: Date; expiringDays: number }) {
  return {
    CACertificateId: c.caId,
    CommonName: c.commonName,
    CreateTime: listTime(c.createdAt),
    FingerprintSha256: c.fingerprintSha256 ?? '',
    Id: c.id,
    Issuer: c.issuer,
    Name: c.commonName,
    NotAfter: listTime(c.notAfter),
    NotBefore: listTime(c.notBefore),
    PubkeyAlgorithm: c.publicKeyAlgorithm,
    SAN: '',
    SerialNumber: c.serialNumber,
    SignatureAlgorithm: c.signatureAlgorithm ?? '',
    Status: c.status,
    ExpiryStatus: ESA_EXPIRY[expiryOf(c.notAfter, view.now, view.expiringDays)],
    Type: 'managed',
    UpdateTime: listTime(c.updatedAt),
  };
}

/** `OK` until the CA certificate expires, `Expired` after. */
export function caStatus(ca: ClientCa, now: Date): 'OK' | 'Expired' {
  return now.getTime() > ca.notAfter.getTime() ? 'Expired' : 'OK';
}

/** Get/List items: `Type` is `managed` for the site's own CA, `upload` for an uploaded one. */
export function presentCa(ca: ClientCa, now: Date) {
  return {
    CommonName: ca.commonName,
    CreateTime: listTime(ca.createdAt),
    FingerprintSha256: ca.fingerprintSha256,
    Id: ca.id,
    Issuer: ca.issuer,
    Name: ca.name,
    NotAfter: listTime(ca.notAfter),
    NotBefore: listTime(ca.notBefore),
    PubkeyAlgorithm: ca.publicKeyAlgorithm,
    SAN: ca.san,
    SerialNumber: ca.serialNumber,
    SignatureAlgorithm: ca.signatureAlgorithm,
    Status: caStatus(ca, now),
    Type: ca.kind === 'managed' ? 'managed' : 'upload',
    UpdateTime: listTime(ca.updatedAt),
  };
}
