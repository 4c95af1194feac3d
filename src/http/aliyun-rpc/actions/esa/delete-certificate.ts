import { ESA_VERSION, type RpcAction } from '../../action.js';
import { onSite } from './client-certificates.js';
import { siteOf } from './resources.js';
import { certificateIdOf } from './site-certificates.js';

/** A free certificate still applying has its issuance canceled, so its job stops. */
export const deleteCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'DeleteCertificate',
  permission: 'esa:DeleteCertificate',
  writes: true,
  resource: siteOf,
  async handle(ctx) {
    const { app, principal, params, audit } = ctx;
    const { site, certificate } = await app.siteCertificates.delete(principal.accountId, params.requiredLong('SiteId'), certificateIdOf(ctx), audit);
    return { Id: certificate.id, ...onSite(site) };
  },
};
