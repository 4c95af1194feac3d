import type { RpcAction } from './action.js';
import { createSite } from './actions/esa/create-site.js';
import { deleteSite } from './actions/esa/delete-site.js';
import { getCertificateQuota } from './actions/esa/get-certificate-quota.js';
import { getSite } from './actions/esa/get-site.js';
import { listSites } from './actions/esa/list-sites.js';
import { verifySite } from './actions/esa/verify-site.js';
import { activateClientCertificate } from './actions/esa/activate-client-certificate.js';
import { createClientCertificate } from './actions/esa/create-client-certificate.js';
import { deleteClientCaCertificate } from './actions/esa/delete-client-ca-certificate.js';
import { deleteClientCertificate } from './actions/esa/delete-client-certificate.js';
import { getClientCaCertificate } from './actions/esa/get-client-ca-certificate.js';
import { getClientCertificate } from './actions/esa/get-client-certificate.js';
import { getClientCertificateHostnames } from './actions/esa/get-client-certificate-hostnames.js';
import { listClientCaCertificates } from './actions/esa/list-client-ca-certificates.js';
import { listClientCertificates } from './actions/esa/list-client-certificates.js';
import { revokeClientCertificate } from './actions/esa/revoke-client-certificate.js';
import { setClientCertificateHostnames } from './actions/esa/set-client-certificate-hostnames.js';
import { uploadClientCaCertificate } from './actions/esa/upload-client-ca-certificate.js';
import { applyCertificate } from './actions/esa/apply-certificate.js';
import { deleteCertificate } from './actions/esa/delete-certificate.js';
import { getCertificate } from './actions/esa/get-certificate.js';
import { listCertificates } from './actions/esa/list-certificates.js';
import { listCertificatesByRecord } from './actions/esa/list-certificates-by-record.js';
import { setCertificate } from './actions/esa/set-certificate.js';

/** Every RPC operation certplane answers, keyed by `version/action`. */
const ACTIONS: RpcAction[] = [
  createSite,
  getSite,
  listSites,
  deleteSite,
  verifySite,
  getCertificateQuota,
  createClientCertificate,
  getClientCertificate,
  listClientCertificates,
  revokeClientCertificate,
  activateClientCertificate,
  deleteClientCertificate,
  uploadClientCaCertificate,
  listClientCaCertificates,
  getClientCaCertificate,
  deleteClientCaCertificate,
  setClientCertificateHostnames,
  getClientCertificateHostnames,
  applyCertificate,
  getCertificate,
  listCertificates,
  deleteCertificate,
  setCertificate,
  listCertificatesByRecord,
];

export const ACTION_TABLE: ReadonlyMap<string, RpcAction> = new Map(ACTIONS.map((a) => [`${a.version}/${a.name}`, a]));

export function findAction(version: string | undefined, action: string | undefined): RpcAction | undefined {
  if (!version || !action) return undefined;
  return ACTION_TABLE.get(`${version}/${action}`);
}
