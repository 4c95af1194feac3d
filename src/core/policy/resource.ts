/**
 * Resource names in RAM's ARN form, `acs:<service>:<region>:<account>:<relative-id>`, so that policies
 * written for Alibaba Cloud (`acs:esa:*:1234567890:site/*`) mean the same thing here.
 */

/** RAM code of Certificate Management Service (CAS). */
export const CAS_SERVICE = 'yundun-cert';
export const ESA_SERVICE = 'esa';

/** certplane's own CAS resource types; RAM itself authorises CAS only per operation. */
export type CasResourceKind = 'certificate' | 'order' | 'package';

/**
 * The first three parts are separated by ':', so they must not contain one; the relative id may
 * (ARNs allow it) but must not be empty.
 */
export function acsResource(service: string, region: string, account: string, path: string): string {
  for (const [name, part] of [['service', service], ['region', region], ['account', account]] as const) {
    if (part === '' || part.includes(':')) throw new RangeError(`ARN ${name} must be non-empty and free of ':'`);
  }
  if (path === '') throw new RangeError('ARN relative id must not be empty');
  return `acs:${service}:${region}:${account}:${path}`;
}

export function siteResource(regionId: string, accountId: string, siteId: string | number | bigint): string {
  return acsResource(ESA_SERVICE, regionId, accountId, `site/${siteId}`);
}

export function casResource(
  regionId: string,
  accountId: string,
  kind: CasResourceKind,
  id: string | number | bigint,
): string {
  return acsResource(CAS_SERVICE, regionId, accountId, `${kind}/${id}`);
}

/**
 * Huawei IAM's resource form, `<service>:<region>:<project>:<type>:<id>`, for the APIG routes: a
 * certificate is named by its project and id.
 */
export function apigCertificateResource(regionId: string, projectId: string, certificateId: string): string {
  return `apig:${regionId}:${projectId}:certificate:${certificateId}`;
}
