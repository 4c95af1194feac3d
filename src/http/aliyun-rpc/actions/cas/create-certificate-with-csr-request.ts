import { CAS_VERSION, type RpcAction } from '../../action.js';
import { anyOrder, CAS_ERRORS, createdOrder, CSR_READ_LIMIT, orderInputOf } from './orders.js';

/** A DV order for the names of the user's own CSR; the user places the validation proof. */
export const createCertificateWithCsrRequest: RpcAction = {
  version: CAS_VERSION,
  name: 'CreateCertificateWithCsrRequest',
  permission: 'yundun-cert:CreateCertificateWithCsrRequest',
  writes: true,
  resource: anyOrder,
  created: createdOrder,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    const csr = params.requiredString('Csr', { max: CSR_READ_LIMIT });
    const input = orderInputOf(params, ['username', 'phone', 'email']);
    const order = await app.orders.submitWithCsr(principal.accountId, csr, input, audit);
    return { OrderId: Number(order.id) };
  },
};
