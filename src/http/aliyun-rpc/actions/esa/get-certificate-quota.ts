import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';

export const getCertificateQuota: RpcAction = {
  version: ESA_VERSION,
  name: 'GetCertificateQuota',
  permission: 'esa:GetCertificateQuota',
  writes: false,
  resource: siteOf,
  async handle({ app, principal, params }) {
    const siteId = params.requiredLong('SiteId');
    const type = params.requiredEnum('Type', ['free'] as const);
    const quota = await app.sites.certificateQuota(principal.accountId, siteId);
    return {
      Type: type,
      Quota: quota.quota,
      QuotaUsage: quota.used,
      SiteCount: quota.siteCount,
      SiteUsage: quota.usage.map(({ site, used }) => ({ SiteId: site.id, SiteName: site.name, SiteUsage: used })),
    };
  },
};
