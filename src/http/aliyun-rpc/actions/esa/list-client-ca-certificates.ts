import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, onSite, presentCa } from './client-certificates.js';
import { siteOf } from './resources.js';

/** The site's managed CA (once it exists) and its uploaded CAs, newest first. Pages as documented: 1–500 of 1–100. */
export const listClientCaCertificates: RpcAction = {
  version: ESA_VERSION,
  name: 'ListClientCaCertificates',
  permission: 'esa:ListClientCaCertificates',
  writes: false,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle({ app, principal, params }) {
    const siteId = params.requiredLong('SiteId');
    const number = params.integer('PageNumber', { min: 1, max: 500, fallback: 1 });
    const size = params.integer('PageSize', { min: 1, max: 100, fallback: 20 });
    const { site, total, items } = await app.privateCa.listCas(principal.accountId, siteId, { number, size });
    const now = app.clock.now();
    return { PageNumber: number, PageSize: size, TotalCount: total, ...onSite(site), Result: items.map((ca) => presentCa(ca, now)) };
  },
};
