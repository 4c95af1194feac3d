import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';

export const verifySite: RpcAction = {
  version: ESA_VERSION,
  name: 'VerifySite',
  permission: 'esa:VerifySite',
  writes: true,
  resource: siteOf,
  async handle({ app, principal, params, audit }) {
    const { passed, report } = await app.sites.verify(principal.accountId, params.requiredLong('SiteId'), audit);
    return {
      Passed: passed,
      // certplane's own field (the SDK ignores fields it does not know): what was checked, where,
      // and what was found, so a failed verification says why.
      Detail: {
        RecordType: report.recordType,
        RecordName: report.recordName,
        Expected: report.expected,
        Found: report.found,
        Resolver: report.resolver,
        Reason: report.reason,
      },
    };
  },
};
