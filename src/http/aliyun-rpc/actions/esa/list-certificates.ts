import type { ExpiryStatus } from '../../../../core/certificates/expiry.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { onSite } from './client-certificates.js';
import { siteOf } from './resources.js';
import { presentSiteCertificate } from './site-certificates.js';

/** The statuses `Status` filters on (certplane's extension: ESA's ListCertificates has `ValidOnly` only). */
const STATUS_FILTER: Record<string, ExpiryStatus> = { OK: 'valid', Expiring: 'expiring', Expired: 'expired' };

/**
 * Newest first. `Keyword` matches the name, the domain applied for, the common name and the SAN;
 * `ValidOnly` keeps `OK` and `Expiring` ones; `Status` (`OK`, `Expiring` or `Expired`) keeps those
 * of that status, read from notAfter in the query with the `expiringDays` window.
 */
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
    const status = params.enumOf('Status', ['OK', 'Expiring', 'Expired'] as const);
    const now = app.clock.now();
    const expiringDays = app.config.expiringDays;
    const filter = {
      keyword: params.string('Keyword', { max: 256 }),
      validOnly: params.boolean('ValidOnly') ?? false,
      expiry: status === undefined ? undefined : { statuses: [STATUS_FILTER[status]!], now, expiringDays },
    };
    const { site, total, items } = await app.siteCertificates.list(principal.accountId, siteId, filter, { number, size });
    return {
      PageNumber: number,
      PageSize: size,
      TotalCount: total,
      ...onSite(site),
      Result: items.map((c) => presentSiteCertificate(c, now, expiringDays)),
    };
  },
};
