import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';

export const verifySite: RpcAction = {
  version: ESA_VERSION,
  name: 'VerifySite',
  permission: 'esa:VerifySite',
  writes: true,
  resource: siteOf,
  async handle({ app, principal, params }) {
    const { passed } = await app.sites.verify(principal.accountId, params.requiredLong('SiteId'));
    return { Passed: passed };
  },
};
