import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';

/**
 * One free certificate per domain, each `Applying` at once; the `acme.issue` jobs obtain them. An
 * unexpected failure reads as the documentation's `InternalException` (400), with the request id.
 */
export const applyCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'ApplyCertificate',
  permission: 'esa:ApplyCertificate',
  writes: true,
  resource: siteOf,
  errors: {
    internal: [400, 'InternalException', 'Failed to call the service. Try again later or contact technical support. Quote the RequestId when you do.'],
  },
  async handle({ app, principal, params, audit }) {
    const siteId = params.requiredLong('SiteId');
    const domains = params.requiredString('Domains');
    const type = params.string('Type', { max: 64 });
    const { site, applications } = await app.siteCertificates.apply(principal.accountId, siteId, domains, type, audit);
    return {
      SiteName: site.name,
      TotalCount: applications.length,
      Result: applications.map((a) => ({ Domain: a.domain, Status: 'Applying', Id: a.id })),
    };
  },
};
