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
import { cancelOrderRequest } from './actions/cas/cancel-order-request.js';
import { createCertificateForPackageRequest } from './actions/cas/create-certificate-for-package-request.js';
import { createCertificateRequest } from './actions/cas/create-certificate-request.js';
import { createCertificateWithCsrRequest } from './actions/cas/create-certificate-with-csr-request.js';
import { deleteCertificateRequest } from './actions/cas/delete-certificate-request.js';
import { deleteUserCertificate } from './actions/cas/delete-user-certificate.js';
import { describeCertificateState } from './actions/cas/describe-certificate-state.js';
import { describePackageState } from './actions/cas/describe-package-state.js';
import { getUserCertificateDetail } from './actions/cas/get-user-certificate-detail.js';
import { listUserCertificateOrder } from './actions/cas/list-user-certificate-order.js';
import { uploadUserCertificate } from './actions/cas/upload-user-certificate.js';

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
  // CAS 2020-04-07
  createCertificateWithCsrRequest,
  createCertificateRequest,
  createCertificateForPackageRequest,
  describeCertificateState,
  describePackageState,
  cancelOrderRequest,
  deleteCertificateRequest,
  listUserCertificateOrder,
  uploadUserCertificate,
  getUserCertificateDetail,
  deleteUserCertificate,
];

export const ACTION_TABLE: ReadonlyMap<string, RpcAction> = new Map(ACTIONS.map((a) => [`${a.version}/${a.name}`, a]));

export function findAction(version: string | undefined, action: string | undefined): RpcAction | undefined {
  if (!version || !action) return undefined;
  return ACTION_TABLE.get(`${version}/${action}`);
}
