import type { AppError, ErrorCode } from '../../kernel/errors.js';

/** How an AppError reads in the Alibaba RPC dialect: HTTP status, `Code` and `Message`. */
export interface RpcError {
  status: number;
  code: string;
  message: string;
}

/** Core parameter names are camelCase; the RPC dialect spells them in PascalCase (`siteId` → `SiteId`). */
export function rpcParameterName(coreName: string | undefined): string | undefined {
  if (!coreName) return undefined;
  return coreName.charAt(0).toUpperCase() + coreName.slice(1);
}

type Entry = readonly [status: number, code: string | ((e: AppError) => string), message: string | ((e: AppError) => string)];

const invalidCode = (e: AppError) => {
  const name = rpcParameterName(e.details.parameter);
  return name ? `InvalidParameter.${name}` : 'InvalidParameter';
};
const detail = (e: AppError) => e.message;
/** Shown as `HostId` in error bodies, as Alibaba's gateway names the endpoint that answered. */
const HOST_ID = 'certplane';

/** Shown for every internal error: the cause goes to the log, the caller gets the request id. */
export const INTERNAL_MESSAGE = 'The request processing has failed due to some unknown error. Quote the RequestId when you contact support.';

/** The total map from the catalogue to RPC codes: a catalogue code missing here does not compile. */
const MAP: Record<ErrorCode, Entry> = {
  'auth.credentials_missing': [403, 'Unauthorized.InvalidToken', 'Token authentication failed: the request is not signed.'],
  'auth.credentials_invalid': [403, 'Unauthorized.InvalidToken', 'Token authentication failed.'],
  'auth.signature_stale': [403, 'Unauthorized.InvalidTime', 'The specified authentication time is invalid.'],
  'auth.signature_invalid': [403, 'Unauthorized.InvalidToken', 'Token authentication failed.'],
  'auth.nonce_reused': [400, 'SignatureNonceUsed', 'The request signature nonce has been used.'],
  'auth.forbidden': [403, 'NoPermission', (e) => `You are not authorized to do this operation: ${e.message}.`],
  'request.invalid_parameter': [400, invalidCode, detail],
  'request.missing_parameter': [
    400,
    (e) => `Missing${rpcParameterName(e.details.parameter) ?? 'Parameter'}`,
    (e) => {
      const name = rpcParameterName(e.details.parameter) ?? 'parameter';
      return `Required parameter ${name} missing. Specify ${name} and try again.`;
    },
  ],
  'request.malformed_body': [400, 'InvalidParameter', detail],
  'request.body_too_large': [413, 'RequestTooLarge', detail],
  'request.uri_too_long': [414, 'RequestURITooLong', detail],
  'request.headers_too_large': [431, 'RequestHeaderFieldsTooLarge', detail],
  'request.timeout': [408, 'RequestTimeout', detail],
  'request.not_found': [404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'],
  'account.not_found': [403, 'Unauthorized.InvalidToken', 'Token authentication failed.'],
  // Operator (CLI) codes: no RPC action raises them, but the map stays total.
  'access_key.not_found': [404, 'EntityNotExist.AccessKey', detail],
  'token.not_found': [404, 'EntityNotExist.Token', detail],
  'webhook.not_found': [404, 'EntityNotExist.Webhook', detail],
  'user.not_found': [404, 'EntityNotExist.User', detail],
  'user.name_taken': [409, 'EntityAlreadyExists.User', detail],
  'policy.not_found': [404, 'EntityNotExist.Policy', detail],
  'policy.name_taken': [409, 'EntityAlreadyExists.Policy', detail],
  'plan.not_found': [400, 'InvalidParameter.Plan', detail],
  'plan_instance.not_found': [400, 'InstanceNotFound', 'The specified plan instance does not exist.'],
  'site.not_found': [400, 'SiteNotFound', 'The specified site is not found.'],
  'site.name_taken': [400, 'SiteAlreadyExists', 'The site already exists in this account.'],
  'site.quota_exceeded': [403, 'QuotaExceeded', (e) => `The quota is exceeded: ${e.message}.`],
  'site.name_servers_exhausted': [409, 'NameServerPairsExhausted', (e) => `No nameserver pair is left for this site: ${e.message}.`],
  'dependency.unavailable': [503, 'ServiceUnavailable', (e) => `${e.message}; try again later.`],
  'instance.not_found': [400, 'InstanceNotFound', detail],
  'certificate.not_found': [404, 'NotFoundCertificate', detail],
  'certificate.name_taken': [400, 'NameRepeat', detail],
  'certificate.in_use': [400, 'CertificateInUse', detail],
  'certificate.invalid': [400, 'InvalidParameter.Certificate', detail],
  'certificate.der_not_pem': [400, 'InvalidParameter.Certificate', detail],
  'certificate.no_san': [400, 'InvalidParameter.Certificate', detail],
  'certificate.expired': [400, 'CertificateExpired', detail],
  'certificate.chain_order': [400, 'InvalidParameter.Certificate', detail],
  'certificate.key_mismatch': [400, 'CertificateKeyMismatch', detail],
  'certificate.key_encrypted': [400, 'InvalidParameter.PrivateKey', detail],
  'certificate.key_invalid': [400, 'InvalidParameter.PrivateKey', detail],
  'certificate.algorithm_mismatch': [400, invalidCode, detail],
  'certificate.immutable_scope': [400, invalidCode, detail],
  'certificate.domain_mismatch': [400, 'InvalidParameter.Domain', detail],
  'domain.not_bound': [404, 'DomainNotBound', detail],
  'domain.bound_elsewhere': [400, 'DomainBoundElsewhere', detail],
  'plan.feature_unavailable': [
    400,
    'QuotaCheckFailed.Function',
    (e) => `The feature is unavailable in your plan. Upgrade the plan or contact your account manager to request the feature (${e.message}).`,
  ],
  'client_certificate.status_conflict': [400, 'ClientCertificateStatusConflict', detail],
  'client_ca.in_use': [400, 'ClientCaCertificateInUse', detail],
  'site.not_activated': [400, 'SiteNotActivated', 'The site is not activated, the process is not allowed.'],
  'site_certificate.quota_exceeded': [403, 'QuotaExceeded', (e) => `The quota is exceeded: ${e.message}.`],
  'site_certificate.record_quota_exceeded': [
    400,
    'QuotaExceed.RecordCount',
    (e) => `The maximum number of records has been reached. Delete some and try again or upgrade your plan (${e.message}).`,
  ],
  'site_certificate.quota_unreadable': [
    400,
    'QuotaCheckFailed',
    (e) => `Failed to check free certificate Quota, please try again later (${e.message}).`,
  ],
  'product.not_found': [400, invalidCode, detail],
  // CAS (CreateCertificateWithCsrRequest's error table).
  'package.not_found': [404, 'NotFoundPackage', (e) => `No certificate resource package was purchased: ${e.message}.`],
  'package.exhausted': [404, 'NotRemainCount', (e) => `No certificate is left in the resource package: ${e.message}.`],
  'order.not_found': [404, 'NotFoundOrder', (e) => `The certificate order is not found: ${e.message}.`],
  'order.state_conflict': [403, 'OrderStateError', (e) => `The certificate order is in the wrong state: ${e.message}.`],
  'order.issuer_unavailable': [403, 'CreateCertificateRequestFailed', (e) => `Failed to create the certificate request: ${e.message}.`],
  // Operator and job codes: no RPC action raises them.
  'deploy_target.not_found': [404, 'NotFound.DeployTarget', (e) => e.message],
  'deploy.failed': [500, 'InternalError', INTERNAL_MESSAGE],
  'job.not_found': [404, 'NotFound.Job', (e) => e.message],
  'job.state_conflict': [409, 'IncorrectStatus.Job', (e) => e.message],
  internal: [500, 'InternalError', INTERNAL_MESSAGE],
};

/** An action may spell some codes its own way (its documentation's error table wins). */
export type RpcErrorOverrides = Partial<Record<ErrorCode, Entry>>;

export function toRpcError(err: AppError, overrides: RpcErrorOverrides = {}): RpcError {
  const [status, code, message] = overrides[err.code] ?? MAP[err.code];
  return {
    status,
    code: typeof code === 'string' ? code : code(err),
    message: typeof message === 'string' ? message : message(err),
  };
}

/** The RPC error body, `{RequestId, HostId, Code, Message, Recommend}`, with its status. */
export function rpcErrorResponse(err: AppError, requestId: string, overrides: RpcErrorOverrides = {}) {
  const rpc = toRpcError(err, overrides);
  return {
    status: rpc.status,
    code: rpc.code,
    body: { RequestId: requestId, HostId: HOST_ID, Code: rpc.code, Message: rpc.message, Recommend: '' },
  };
}
