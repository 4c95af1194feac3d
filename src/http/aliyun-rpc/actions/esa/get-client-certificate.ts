import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, idOf, onSite, presentCertificate } from './client-certificates.js';
import { siteOf } from './resources.js';

export const getClientCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'GetClientCertificate',
  permission: 'esa:GetClientCertificate',
  writes: false,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle(ctx) {
    const { app, principal, params } = ctx;
    const { site, certificate } = await app.privateCa.certificates.get(principal.accountId, params.requiredLong('SiteId'), idOf(ctx));
    return {
      Certificate: certificate.certificatePem ?? '',
      Status: certificate.status,
      ...onSite(site),
      Result: presentCertificate(certificate, { now: app.clock.now(), expiringDays: app.config.expiringDays }),
    };
  },
};
