import type { OrderView } from '../../../../core/orders/service.js';
import { CAS_VERSION, type RpcAction } from '../../action.js';
import { CAS_ERRORS, orderIdOf, orderOf } from './orders.js';

/**
 * Where an order stands, as CAS's `Type`: `payed` (no challenge yet, or cancelled), `domain_verify`
 * (with what to place: `RecordDomain` is the full record name, `_acme-challenge.<domain>`),
 * `process`, `certificate` (the chain, and the key when certplane made it), `verify_fail` (with
 * `Reason`, which the SDK's model does not read but raw clients see).
 */
export const describeCertificateState: RpcAction = {
  version: CAS_VERSION,
  name: 'DescribeCertificateState',
  permission: 'yundun-cert:DescribeCertificateState',
  writes: false,
  resource: orderOf,
  errors: CAS_ERRORS,
  async handle({ app, principal, params }) {
    return presentState(await app.orders.describe(principal.accountId, orderIdOf(params)));
  },
};

function presentState(view: OrderView): Record<string, unknown> {
  const { phase } = view;
  switch (phase.phase) {
    case 'pending':
    case 'canceled':
      return { Type: 'payed' };
    case 'validating':
      return { Type: 'process' };
    case 'failed':
      return { Type: 'verify_fail', Reason: phase.reason };
    case 'issued':
      return {
        Type: 'certificate',
        Certificate: view.issuance.issued?.chainPem ?? '',
        ...(view.privateKeyPem !== undefined ? { PrivateKey: view.privateKeyPem } : {}),
      };
    case 'awaiting_validation': {
      const { proof } = phase;
      return proof.kind === 'dns'
        ? { Type: 'domain_verify', ValidateType: 'DNS', RecordDomain: proof.recordName, RecordType: proof.recordType, RecordValue: proof.value }
        : { Type: 'domain_verify', ValidateType: 'FILE', Domain: proof.domain, Uri: proof.path, Content: proof.content };
    }
  }
}
