import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, certIdOf, certificateOf } from './orders.js';

/** Deletes an uploaded certificate and its keys (refused while it is bound to domain names). */
export const deleteUserCertificate: RpcAction = {
  version: CAS_VERSION,
  name: 'DeleteUserCertificate',
  permission: 'yundun-cert:DeleteUserCertificate',
  writes: true,
  resource: certificateOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    await app.certificates.delete(principal.accountId, certIdOf(params), audit);
    return {};
  },
};
