import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';

export const deleteSite: RpcAction = {
  version: ESA_VERSION,
  name: 'DeleteSite',
  permission: 'esa:DeleteSite',
  writes: true,
  resource: siteOf,
  async handle({ app, principal, params, audit }) {
    await app.sites.delete(principal.accountId, params.requiredLong('SiteId'), audit);
    return {};
  },
};
