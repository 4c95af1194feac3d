import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, orderIdOf, orderOf } from './orders.js';

/** Withdraws an order awaiting validation or being reviewed; its package unit is given back. */
export const cancelOrderRequest: RpcAction = {
  version: CAS_VERSION,
  name: 'CancelOrderRequest',
  permission: 'yundun-cert:CancelOrderRequest',
  writes: true,
  resource: orderOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    await app.orders.cancel(principal.accountId, orderIdOf(params), audit);
    return {};
  },
};
