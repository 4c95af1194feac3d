import { statusOf } from '../../../../core/site-certificates/model.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import { onSite } from './client-certificates.js';
import { siteOf } from './resources.js';
import { ESA_STATUS, certificateIdOf, presentSiteCertificate } from './site-certificates.js';

/** `Certificate` is the PEM chain once there is one (a free certificate: once issued). */
export const getCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'GetCertificate',
  permission: 'esa:GetCertificate',
  writes: false,
  resource: siteOf,
  async handle(ctx) {
    const { app, principal, params } = ctx;
    const { site, certificate } = await app.siteCertificates.get(principal.accountId, params.requiredLong('SiteId'), certificateIdOf(ctx));
    const now = app.clock.now();
    return {
      Certificate: certificate.details?.chainPem ?? '',
      Status: ESA_STATUS[statusOf(certificate, now, app.config.expiringDays)],
      ...onSite(site),
      Result: presentSiteCertificate(certificate, now, app.config.expiringDays),
    };
  },
};
