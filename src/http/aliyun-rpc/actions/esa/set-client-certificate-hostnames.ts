import { errors } from '../../../../kernel/errors.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { CLIENT_CERTIFICATE_ERRORS, onSite } from './client-certificates.js';
import { siteOf } from './resources.js';

/** `Hostnames` arrives as one JSON list (the SDK's "shrink" form); without `Id`, the site's managed CA. */
export const setClientCertificateHostnames: RpcAction = {
  version: ESA_VERSION,
  name: 'SetClientCertificateHostnames',
  permission: 'esa:SetClientCertificateHostnames',
  writes: true,
  resource: siteOf,
  errors: CLIENT_CERTIFICATE_ERRORS,
  async handle({ app, principal, params, audit }) {
    const hostnames = params.json('Hostnames');
    if (hostnames === undefined) throw errors.missingParameter('hostnames');
    const caId = params.string('Id', { max: 64 });
    const { site, ca } = await app.privateCa.setHostnames(principal.accountId, params.requiredLong('SiteId'), caId, hostnames, audit);
    return { Id: ca.id, Hostnames: ca.hostnames, ...onSite(site) };
  },
};
