import { ACCESS_TYPES, COVERAGES } from '../../../../core/sites/model.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { anySite, siteById } from './resources.js';

export const createSite: RpcAction = {
  version: ESA_VERSION,
  name: 'CreateSite',
  permission: 'esa:CreateSite',
  writes: true,
  resource: anySite,
  created: siteById,
  async handle({ app, principal, params, audit }) {
    const site = await app.sites.create(principal.accountId, {
      name: params.requiredString('SiteName', { max: 253 }),
      accessType: params.requiredEnum('AccessType', ACCESS_TYPES),
      coverage: params.requiredEnum('Coverage', COVERAGES),
      instanceId: params.requiredString('InstanceId', { max: 64 }),
      resourceGroupId: params.string('ResourceGroupId', { max: 64 }),
    }, audit);
    return {
      SiteId: Number(site.id),
      NameServerList: site.nameServers.join(','),
      VerifyCode: site.verifyCode,
    };
  },
};
