import { ESA_VERSION, type RpcAction } from '../../action.js';
import { onSite } from './client-certificates.js';
import { siteOf } from './resources.js';
import { presentSiteCertificate } from './site-certificates.js';

/** Newest first. `Keyword` matches the name, the domain applied for, the common name and the SAN. */
export const listCertificates: RpcAction = {
  version: ESA_VERSION,
  name: 'ListCertificates',
  permission: 'esa:ListCertificates',
  writes: false,
  resource: siteOf,
  async handle({ app, principal, params }) {
    const siteId = params.requiredLong('SiteId');
    const number = params.integer('PageNumber', { min: 1, max: 100_000, fallback: 1 });
    const size = params.integer('PageSize', { min: 1, max: 100, fallback: 20 });
    const filter = { keyword: params.string('Keyword', { max: 256 }), validOnly: params.boolean('ValidOnly') ?? false };
    const { site, total, items } = await app.siteCertificates.list(principal.accountId, siteId, filter, { number, size });
    const now = app.clock.now();
    return {
      PageNumber: number,
      PageSize: size,
      TotalCount: total,
      ...onSite(site),
      Result: items.map((c) => presentSiteCertificate(c, now)),
    };
  },
};
