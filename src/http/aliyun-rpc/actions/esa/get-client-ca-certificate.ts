import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, caStatus, idOf, onSite, presentCa } from './client-certificates.js';
import { siteOf } from './resources.js';

/** Any CA of the site by id: an uploaded one, or the managed CA (the `CACertificateId` of what it signs). */
export const getClientCaCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'GetClientCaCertificate',
  permission: 'esa:GetClientCaCertificate',
  writes: false,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle(ctx) {
    const { app, principal, params } = ctx;
    const { site, ca } = await app.privateCa.getCa(principal.accountId, params.requiredLong('SiteId'), idOf(ctx));
    const now = app.clock.now();
    return { Certificate: ca.certificatePem, Status: caStatus(ca, now), ...onSite(site), Result: presentCa(ca, now) };
  },
};
