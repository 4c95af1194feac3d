import { errors } from '../../../../kernel/errors.js';
import { CAS_VERSION, type RpcAction } from '../../action.js';
import { anyOrder, CAS_ERRORS, createdOrder, CSR_READ_LIMIT, orderInputOf } from './orders.js';

/** Most names one `Domain` may list (the operation's documentation). */
const MAX_DOMAINS = 5;

/**
 * A DV order from a package: with `Csr`, for the CSR's names (its CN wins over `Domain`); without,
 * for `Domain` (up to five names, all plain or all wildcards) with a key certplane makes. The
 * contact is optional here; `ValidateType` defaults to DNS.
 */
export const createCertificateForPackageRequest: RpcAction = {
  version: CAS_VERSION,
  name: 'CreateCertificateForPackageRequest',
  permission: 'yundun-cert:CreateCertificateForPackageRequest',
  writes: true,
  resource: anyOrder,
  created: createdOrder,
  errors: CAS_ERRORS,
  async handle({ app, principal, params, audit }) {
    const csr = params.string('Csr', { max: CSR_READ_LIMIT });
    const domain = params.string('Domain', { max: 4096 });
    const input = orderInputOf(params, [], 'DNS');
    if (csr !== undefined) return { OrderId: Number((await app.orders.submitWithCsr(principal.accountId, csr, input, audit)).id) };
    if (domain === undefined) throw errors.invalidParameter('domain', 'give Domain, or Csr, or both');
    return { OrderId: Number((await app.orders.submitForDomains(principal.accountId, domain, MAX_DOMAINS, input, audit)).id) };
  },
};
