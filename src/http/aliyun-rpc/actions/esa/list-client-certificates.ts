import type { ExpiryStatus } from '../../../../core/certificates/expiry.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, onSite, presentCertificate } from './client-certificates.js';
import { siteOf } from './resources.js';

const EXPIRY_FILTER: Record<string, ExpiryStatus> = { OK: 'valid', Expiring: 'expiring', Expired: 'expired' };

/**
 * Newest first; every record of the site's inventory, `issuing` and `void` ones included.
 * `ExpiryStatus` (`OK`, `Expiring`, `Expired`; certplane's extension) keeps those of that expiry
 * status, read from notAfter in the query with the `expiringDays` window.
 */
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
    const status = params.enumOf('ExpiryStatus', ['OK', 'Expiring', 'Expired'] as const);
    const view = { now: app.clock.now(), expiringDays: app.config.expiringDays };
    const expiry = status === undefined ? undefined : { statuses: [EXPIRY_FILTER[status]!], ...view };
    const { site, total, items } = await app.privateCa.certificates.list(principal.accountId, siteId, { number, size }, expiry);
    return { PageNumber: number, PageSize: size, TotalCount: total, ...onSite(site), Result: items.map((c) => presentCertificate(c, view)) };
  },
};
