import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, onSite } from './client-certificates.js';
import { siteOf } from './resources.js';

/** Without `Id`, the managed CA's hostnames: none, with an empty `Id`, while the site has no managed CA yet. */
export const getClientCertificateHostnames: RpcAction = {
  version: ESA_VERSION,
  name: 'GetClientCertificateHostnames',
  permission: 'esa:GetClientCertificateHostnames',
  writes: false,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle({ app, principal, params }) {
    const caId = params.string('Id', { max: 64 });
    const { site, ca } = await app.privateCa.getHostnames(principal.accountId, params.requiredLong('SiteId'), caId);
    return { Id: ca?.id ?? '', Hostnames: ca?.hostnames ?? [], ...onSite(site) };
  },
};
