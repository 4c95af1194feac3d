import { CAS_VERSION, type RpcAction } from '../../action.js';
import { anyOrder, CAS_ERRORS, createdOrder, orderInputOf } from './orders.js';

/** A DV order for one domain; certplane makes the key, returned by DescribeCertificateState once issued. */
export const createCertificateRequest: RpcAction = {
  version: CAS_VERSION,
  name: 'CreateCertificateRequest',
  permission: 'yundun-cert:CreateCertificateRequest',
  writes: true,
  resource: anyOrder,
  created: createdOrder,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    const domain = params.requiredString('Domain', { max: 1024 });
    const input = orderInputOf(params, ['username', 'phone', 'email']);
    const order = await app.orders.submitForDomains(principal.accountId, domain, 1, input, audit);
    return { OrderId: Number(order.id) };
  },
};
