import { ESA_VERSION, type RpcAction } from '../../action.js';
import { presentSite } from './present-site.js';
import { siteOf } from './resources.js';

export const getSite: RpcAction = {
  version: ESA_VERSION,
  name: 'GetSite',
  permission: 'esa:GetSite',
  writes: false,
  resource: siteOf,
  async handle({ app, principal, params }) {
    const site = await app.sites.get(principal.accountId, params.requiredLong('SiteId'));
    return { SiteModel: presentSite(site, app.plans.definition(site.plan)) };
  },
};
