import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, idOf, onSite } from './client-certificates.js';
import { siteOf } from './resources.js';

export const revokeClientCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'RevokeClientCertificate',
  permission: 'esa:RevokeClientCertificate',
  writes: true,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle(ctx) {
    const { app, principal, params, audit } = ctx;
    const { site, certificate } = await app.privateCa.certificates.revoke(principal.accountId, params.requiredLong('SiteId'), idOf(ctx), audit);
    return { Id: certificate.id, ...onSite(site) };
  },
};
