import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, packageOf, productCodeOf } from './orders.js';

/** A product's packages: granted (`TotalCount`), held by live orders (`UsedCount`), issued. */
export const describePackageState: RpcAction = {
  version: CAS_VERSION,
  name: 'DescribePackageState',
  permission: 'yundun-cert:DescribePackageState',
  writes: false,
  resource: packageOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params }) {
    const state = await app.orders.packageState(principal.accountId, productCodeOf(params));
    return { ProductCode: state.productCode, TotalCount: state.total, UsedCount: state.used, IssuedCount: state.issued };
  },
};
