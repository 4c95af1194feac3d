import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, orderIdOf, orderOf } from './orders.js';

/** Removes a failed (`verify_fail`) or cancelled order. */
export const deleteCertificateRequest: RpcAction = {
  version: CAS_VERSION,
  name: 'DeleteCertificateRequest',
  permission: 'yundun-cert:DeleteCertificateRequest',
  writes: true,
  resource: orderOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    await app.orders.delete(principal.accountId, orderIdOf(params), audit);
    return {};
  },
};
