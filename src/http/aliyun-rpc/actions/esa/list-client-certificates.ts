import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, onSite, presentCertificate } from './client-certificates.js';
import { siteOf } from './resources.js';

/** Newest first; every record of the site's inventory, `issuing` and `void` ones included. */
export const listClientCertificates: RpcAction = {
  version: ESA_VERSION,
  name: 'ListClientCertificates',
  permission: 'esa:ListClientCertificates',
  writes: false,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle({ app, principal, params }) {
    const siteId = params.requiredLong('SiteId');
    const number = params.integer('PageNumber', { min: 1, max: 100_000, fallback: 1 });
    const size = params.integer('PageSize', { min: 1, max: 100, fallback: 20 });
    const { site, total, items } = await app.privateCa.certificates.list(principal.accountId, siteId, { number, size });
    return { PageNumber: number, PageSize: size, TotalCount: total, ...onSite(site), Result: items.map(presentCertificate) };
  },
};
