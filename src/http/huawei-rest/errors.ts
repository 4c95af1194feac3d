import type { AppError, ErrorCode } from '../../kernel/errors.js';

/** How an AppError reads in the APIG dialect: `{error_code, error_msg}` with an HTTP status. */
export interface ApigError {
  status: number;
  code: string;
  message: string;
}

/** Core parameter names → the APIG body's names. */
const PARAMETER_NAMES: Record<string, string> = {
  name: 'name',
  certificate: 'cert_content',
  privateKey: 'private_key',
  signCertificate: 'cert_content_sign',
  signPrivateKey: 'private_key_sign',
  trustedRootCa: 'trusted_root_ca',
  algorithmType: 'algorithm_type',
  instanceId: 'instance_id',
  scope: 'type',
  domain: 'domain',
  domains: 'domains',
  expiryStatus: 'expiry_status',
};

export function apigParameterName(coreName: string | undefined): string {
  if (!coreName) return 'unknown';
  return PARAMETER_NAMES[coreName] ?? coreName;
}

const invalidValue = (e: AppError): string =>
  `Invalid parameter value,parameterName:${apigParameterName(e.details.parameter)}. ${e.message}`;

const iamAuthentication = (e: AppError): string => `Incorrect IAM authentication information: ${e.message}`;

type Entry = readonly [status: number, code: string, message: string | ((e: AppError) => string)];

/**
 * The total map from the catalogue to APIG codes: a catalogue code missing here does not compile.
 * Codes and texts follow the APIG error-code appendix; APIG.3331/3332 are certplane's own
 * (the appendix lists no code for a duplicate name or for deleting a bound certificate).
 */
const MAP: Record<ErrorCode, Entry> = {
  'auth.credentials_missing': [
    401,
    'APIG.1000',
    'Incorrect IAM authentication information: neither X-Auth-Token nor an AK/SK signature was sent',
  ],
  'auth.credentials_invalid': [401, 'APIG.1002', 'Incorrect token or token resolution failed'],
  'auth.forbidden': [403, 'APIG.1005', 'No permissions to request this method'],
  // AK/SK signatures: the gateway's own code for IAM authentication failures, a stale X-Sdk-Date included.
  'auth.signature_invalid': [401, 'APIG.0301', iamAuthentication],
  'auth.signature_stale': [401, 'APIG.0301', iamAuthentication],
  'request.invalid_parameter': [400, 'APIG.2012', invalidValue],
  'request.missing_parameter': [
    400,
    'APIG.2001',
    (e) => `The request parameters must be specified,parameterName:${apigParameterName(e.details.parameter)}`,
  ],
  'request.malformed_body': [400, 'APIG.2000', (e) => `Parameter error: ${e.message}`],
  'request.body_too_large': [413, 'APIG.2000', (e) => `Parameter error: ${e.message}`],
  'request.uri_too_long': [414, 'APIG.2000', (e) => `Parameter error: ${e.message}`],
  'request.headers_too_large': [431, 'APIG.2000', (e) => `Parameter error: ${e.message}`],
  'request.timeout': [408, 'APIG.2000', (e) => `Parameter error: ${e.message}`],
  'request.not_found': [404, 'APIG.0101', 'The API does not exist or has not been published in the environment'],
  'account.not_found': [401, 'APIG.1003', 'Incorrect IAM authentication information: the project does not exist'],
  'instance.not_found': [404, 'APIG.3030', (e) => `The instance does not exist;id:${e.details.id ?? ''}`],
  'certificate.not_found': [404, 'APIG.3021', (e) => `The SSL certificate does not exist;id:${e.details.id ?? ''}`],
  'certificate.name_taken': [409, 'APIG.3331', 'The SSL certificate name already exists'],
  'certificate.in_use': [
    409,
    'APIG.3332',
    (e) => `The SSL certificate cannot be deleted: ${e.message}`,
  ],
  'certificate.invalid': [400, 'APIG.2106', (e) => `Invalid certificate or private key: ${e.message}`],
  'certificate.der_not_pem': [400, 'APIG.2106', 'Invalid certificate or private key: only PEM encoding is supported'],
  'certificate.no_san': [400, 'APIG.2109', 'Invalid certificate. SAN missing'],
  'certificate.expired': [400, 'APIG.2102', 'The certificate has expired'],
  'certificate.chain_order': [
    400,
    'APIG.2104',
    'The certificate chain is not matched: the server certificate first, then each issuer in order',
  ],
  'certificate.key_mismatch': [400, 'APIG.2101', 'The certificate and private key do not match'],
  'certificate.key_encrypted': [400, 'APIG.2105', 'Encrypted private keys are not supported'],
  'certificate.key_invalid': [400, 'APIG.2106', (e) => `Invalid certificate or private key: ${e.message}`],
  'certificate.algorithm_mismatch': [400, 'APIG.2012', invalidValue],
  'certificate.immutable_scope': [400, 'APIG.2012', invalidValue],
  'certificate.domain_mismatch': [400, 'APIG.2103', 'The certificate domain name and the custom domain name do not match'],
  'domain.not_bound': [404, 'APIG.3097', 'The binding record of this SSL certificate and domain name does not exist'],
  'domain.bound_elsewhere': [400, 'APIG.2051', 'A domain name cannot be bound with different certificates'],
  // Codes of the RPC dialect's operations; APIG routes never raise them, but the map stays total.
  'auth.nonce_reused': [401, 'APIG.1002', 'Incorrect token or token resolution failed'],
  'access_key.not_found': [404, 'APIG.3001', (e) => e.message],
  'token.not_found': [404, 'APIG.3001', (e) => e.message],
  'webhook.not_found': [404, 'APIG.3001', (e) => e.message],
  'user.not_found': [404, 'APIG.3001', (e) => e.message],
  'user.name_taken': [409, 'APIG.3001', (e) => e.message],
  'policy.not_found': [404, 'APIG.3001', (e) => e.message],
  'policy.name_taken': [409, 'APIG.3001', (e) => e.message],
  'plan.not_found': [404, 'APIG.3001', (e) => e.message],
  'plan_instance.not_found': [404, 'APIG.3030', (e) => `The instance does not exist;id:${e.details.id ?? ''}`],
  'site.not_found': [404, 'APIG.3001', (e) => e.message],
  'site.name_taken': [409, 'APIG.3001', (e) => e.message],
  'site.quota_exceeded': [403, 'APIG.3100', 'Number of resources exceeds the maximum allowed limit'],
  'site.name_servers_exhausted': [409, 'APIG.3001', (e) => e.message],
  'dependency.unavailable': [503, 'APIG.9999', 'System error'],
  'plan.feature_unavailable': [403, 'APIG.3001', (e) => e.message],
  'client_certificate.status_conflict': [409, 'APIG.3001', (e) => e.message],
  'client_ca.in_use': [409, 'APIG.3001', (e) => e.message],
  'site.not_activated': [400, 'APIG.3001', (e) => e.message],
  'site_certificate.quota_exceeded': [403, 'APIG.3100', 'Number of resources exceeds the maximum allowed limit'],
  'site_certificate.record_quota_exceeded': [403, 'APIG.3100', 'Number of resources exceeds the maximum allowed limit'],
  'site_certificate.quota_unreadable': [500, 'APIG.9999', 'System error'],
  'product.not_found': [404, 'APIG.3001', (e) => e.message],
  'package.not_found': [404, 'APIG.3001', (e) => e.message],
  'package.exhausted': [403, 'APIG.3100', (e) => e.message],
  'order.not_found': [404, 'APIG.3001', (e) => e.message],
  'order.state_conflict': [409, 'APIG.3001', (e) => e.message],
  'order.issuer_unavailable': [403, 'APIG.3001', (e) => e.message],
  'deploy_target.not_found': [404, 'APIG.3001', (e) => e.message],
  'deploy.failed': [500, 'APIG.9999', 'System error'],
  'job.not_found': [404, 'APIG.3001', (e) => e.message],
  'job.state_conflict': [409, 'APIG.3001', (e) => e.message],
  internal: [500, 'APIG.9999', 'System error'],
};

export function toApigError(err: AppError): ApigError {
  const [status, code, message] = MAP[err.code];
  return { status, code, message: typeof message === 'string' ? message : message(err) };
}

/** The APIG error body, `{error_code, error_msg, request_id}`, with its status. */
export function apigErrorResponse(err: AppError, requestId: string) {
  const apig = toApigError(err);
  return { status: apig.status, code: apig.code, body: { error_code: apig.code, error_msg: apig.message, request_id: requestId } };
}
