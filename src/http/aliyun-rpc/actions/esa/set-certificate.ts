import { ESA_VERSION, type RpcAction } from '../../action.js';
import { siteOf } from './resources.js';
import { certificateOfSite } from './site-certificates.js';

/** PEM fields are bounded by the inventory's own checks (`limits.pemCharacters`, named in the refusal). */
const PEM_READ_LIMIT = 16 * 1024 * 1024;

/**
 * `upload`: `Certificate` and `PrivateKey` pass the inventory's upload checks and are stored there
 * for the site. `cas`: `CasId` names a certificate of the account's inventory. `Id` replaces that
 * certificate of the site, keeping its id.
 */
export const setCertificate: RpcAction = {
  version: ESA_VERSION,
  name: 'SetCertificate',
  permission: 'esa:SetCertificate',
  writes: true,
  resource: siteOf,
  created: certificateOfSite,
  async handle({ app, principal, params, audit }) {
    const siteId = params.requiredLong('SiteId');
    const input = {
      type: params.requiredEnum('Type', ['upload', 'cas'] as const),
      certificate: params.string('Certificate', { max: PEM_READ_LIMIT }),
      privateKey: params.string('PrivateKey', { max: PEM_READ_LIMIT }),
      name: params.string('Name', { max: 128 }),
      id: params.string('Id', { max: 64 }),
      casId: params.string('CasId', { max: 64 }),
      region: params.string('Region', { max: 64 }),
    };
    const { id } = await app.siteCertificates.set(principal.accountId, siteId, input, audit);
    return { Id: id };
  },
};
