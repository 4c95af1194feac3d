import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, idOf, onSite } from './client-certificates.js';
import { siteOf } from './resources.js';

/** The managed CA is refused while it has active certificates (ClientCaCertificateInUse). */
export const deleteClientCaCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'DeleteClientCaCertificate',
  permission: 'esa:DeleteClientCaCertificate',
  writes: true,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle(ctx) {
    const { app, principal, params, audit } = ctx;
    const { site, ca } = await app.privateCa.deleteCa(principal.accountId, params.requiredLong('SiteId'), idOf(ctx), audit);
    return { Id: ca.id, ...onSite(site) };
  },
};
