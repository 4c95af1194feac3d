/**
 * The one error catalogue of certplane. The core throws AppError with a code from here;
 * every wire dialect keeps a total map from these codes to its own status and spelling,
 * so adding a code here fails to compile until each dialect has decided how to show it.
 */
export const ERROR_CODES = [
  'auth.credentials_missing',
  'auth.credentials_invalid',
  'auth.forbidden',
  'auth.signature_stale',
  'auth.signature_invalid',
  'auth.nonce_reused',
  'user.not_found',
  'user.name_taken',
  'policy.not_found',
  'policy.name_taken',
  'plan.not_found',
  'plan_instance.not_found',
  'site.not_found',
  'site.name_taken',
  'site.quota_exceeded',
  'site.name_servers_exhausted',
  'dependency.unavailable',
  'request.invalid_parameter',
  'request.missing_parameter',
  'request.malformed_body',
  'request.body_too_large',
  'request.uri_too_long',
  'request.headers_too_large',
  'request.timeout',
  'request.not_found',
  'account.not_found',
  'access_key.not_found',
  'token.not_found',
  'instance.not_found',
  'certificate.not_found',
  'certificate.name_taken',
  'certificate.in_use',
  'certificate.invalid',
  'certificate.der_not_pem',
  'certificate.no_san',
  'certificate.expired',
  'certificate.chain_order',
  'certificate.key_mismatch',
  'certificate.key_encrypted',
  'certificate.key_invalid',
  'certificate.algorithm_mismatch',
  'certificate.immutable_scope',
  'certificate.domain_mismatch',
  'domain.not_bound',
  'domain.bound_elsewhere',
  'plan.feature_unavailable',
  'client_certificate.status_conflict',
  'client_ca.in_use',
  'site.not_activated',
  'site_certificate.quota_exceeded',
  'site_certificate.record_quota_exceeded',
  'site_certificate.quota_unreadable',
  'product.not_found',
  'package.not_found',
  'package.exhausted',
  'order.not_found',
  'order.state_conflict',
  'order.issuer_unavailable',
  'deploy_target.not_found',
  'deploy.failed',
  'webhook.not_found',
  'job.not_found',
  'job.state_conflict',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  /** The request parameter at fault, in the core's vocabulary (dialects may rename it). */
  parameter?: string;
  /** The id of the object the error is about, when there is one. */
  id?: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Factories, so call sites read as what went wrong rather than how it is spelled. */
export const errors = {
  credentialsMissing: () => new AppError('auth.credentials_missing', 'credentials are missing'),
  credentialsInvalid: (why = 'credentials are invalid') => new AppError('auth.credentials_invalid', why),
  forbidden: (action: string) => new AppError('auth.forbidden', `not allowed to perform ${action}`),
  signatureStale: (why = 'the request date is too far from the server time') => new AppError('auth.signature_stale', why),
  /** An AK/SK signature that does not verify: unknown or disabled key, wrong signature, tampered request. */
  signatureInvalid: (why: string) => new AppError('auth.signature_invalid', why),
  nonceReused: () => new AppError('auth.nonce_reused', 'the signature nonce was used already'),
  userNotFound: (id: string) => new AppError('user.not_found', `user ${id} does not exist`, { id }),
  userNameTaken: (name: string) => new AppError('user.name_taken', `a user named ${name} already exists`),
  policyNotFound: (id: string) => new AppError('policy.not_found', `policy ${id} does not exist`, { id }),
  policyNameTaken: (name: string) => new AppError('policy.name_taken', `a policy named ${name} already exists`),
  planNotFound: (name: string) => new AppError('plan.not_found', `no plan named ${name} is configured`),
  planInstanceNotFound: (id: string) =>
    new AppError('plan_instance.not_found', `plan instance ${id} does not exist`, { id, parameter: 'instanceId' }),
  siteNotFound: (id: string) => new AppError('site.not_found', `site ${id} does not exist`, { id, parameter: 'siteId' }),
  siteNameTaken: (name: string) =>
    new AppError('site.name_taken', `site ${name} already exists in this account`, { parameter: 'siteName' }),
  siteQuotaExceeded: (limit: number) =>
    new AppError('site.quota_exceeded', `the plan allows ${limit} sites and all are used`),
  siteNameServersExhausted: (name: string, pairs: number) =>
    new AppError(
      'site.name_servers_exhausted',
      `all ${pairs} nameserver pairs of the pool are held by other sites named ${name}; the operator must add names to nameServers`,
      { parameter: 'siteName' },
    ),
  dependencyUnavailable: (what: string, cause?: unknown) =>
    new AppError('dependency.unavailable', `${what} could not be reached`, {}, { cause }),
  invalidParameter: (parameter: string, why: string) =>
    new AppError('request.invalid_parameter', `${parameter}: ${why}`, { parameter }),
  missingParameter: (parameter: string) =>
    new AppError('request.missing_parameter', `${parameter} is required`, { parameter }),
  malformedBody: (why: string) => new AppError('request.malformed_body', why),
  bodyTooLarge: (limit: number) => new AppError('request.body_too_large', `request body exceeds ${limit} bytes`),
  uriTooLong: (why: string) => new AppError('request.uri_too_long', why),
  headersTooLarge: (limit: number) =>
    new AppError('request.headers_too_large', `the request line and headers exceed ${limit} bytes`),
  requestTimeout: () => new AppError('request.timeout', 'the request did not arrive in time'),
  routeNotFound: () => new AppError('request.not_found', 'no such operation'),
  accountNotFound: (id: string) => new AppError('account.not_found', `account ${id} does not exist`, { id }),
  accessKeyNotFound: (id: string) => new AppError('access_key.not_found', `access key ${id} does not exist`, { id }),
  tokenNotFound: (id: string) => new AppError('token.not_found', `token ${id} does not exist`, { id }),
  webhookNotFound: (id: string) => new AppError('webhook.not_found', `webhook ${id} does not exist in this account`, { id }),
  jobNotFound: (id: string) => new AppError('job.not_found', `job ${id} does not exist`, { id }),
  jobStateConflict: (id: string, why: string) => new AppError('job.state_conflict', `job ${id} ${why}`, { id }),
  instanceNotFound: (id: string) => new AppError('instance.not_found', `instance ${id} does not exist`, { id }),
  certificateNotFound: (id: string) =>
    new AppError('certificate.not_found', `certificate ${id} does not exist`, { id }),
  certificateNameTaken: (name: string) =>
    new AppError('certificate.name_taken', `a certificate named ${name} already exists`, { parameter: 'name' }),
  certificateInUse: (id: string, why = 'is bound to domain names; detach them first') =>
    new AppError('certificate.in_use', `certificate ${id} ${why}`, { id }),
  immutableScope: (parameter: string) =>
    new AppError('certificate.immutable_scope', `${parameter} cannot be changed on update`, { parameter }),
  domainMismatch: (domain: string) =>
    new AppError('certificate.domain_mismatch', `the certificate does not cover domain ${domain}`, {
      parameter: 'domain',
    }),
  domainNotBound: (domain: string) =>
    new AppError('domain.not_bound', `domain ${domain} is not bound to this certificate`),
  domainBoundElsewhere: (domain: string) =>
    new AppError('domain.bound_elsewhere', `domain ${domain} is already bound to another certificate`),
  featureUnavailable: (feature: string) =>
    new AppError('plan.feature_unavailable', `the site's plan does not include ${feature}`),
  clientCertificateStatusConflict: (id: string, why: string) =>
    new AppError('client_certificate.status_conflict', `client certificate ${id} ${why}`, { id }),
  clientCaInUse: (id: string, active: number) =>
    new AppError(
      'client_ca.in_use',
      `CA certificate ${id} has ${active} active client certificate${active === 1 ? '' : 's'}; revoke them before deleting it`,
      { id },
    ),
  siteNotActivated: (id: string) =>
    new AppError('site.not_activated', `site ${id} is not active; certificates are obtained for active sites only`, { id, parameter: 'siteId' }),
  freeCertificateQuotaExceeded: (limit: number, used: number, asked: number) =>
    new AppError(
      'site_certificate.quota_exceeded',
      `the plan allows ${limit} free certificates per site; ${used} are applying or valid and ${asked} more were asked for`,
    ),
  recordQuotaExceeded: (limit: number, held: number, asked: number) =>
    new AppError(
      'site_certificate.record_quota_exceeded',
      `the plan allows ${limit} DNS records per site; ${held} validation records are held by applications in progress and ${asked} more were asked for`,
    ),
  quotaUnreadable: (plan: string) =>
    new AppError('site_certificate.quota_unreadable', `the site's plan ${plan} is not in the configured plan catalogue`),
  productNotFound: (code: string, offered: readonly string[]) =>
    new AppError('product.not_found', `no certificate product ${JSON.stringify(code)} is offered (products: ${offered.join(', ')})`, {
      parameter: 'productCode',
    }),
  packageNotFound: (productCode: string) =>
    new AppError('package.not_found', `the account holds no certificate resource package of product ${productCode}`),
  packageExhausted: (productCode: string, total: number) =>
    new AppError('package.exhausted', `all ${total} certificates of the ${productCode} resource packages are in use`),
  orderNotFound: (id: string) => new AppError('order.not_found', `certificate order ${id} does not exist`, { id }),
  orderStateConflict: (id: string, why: string) => new AppError('order.state_conflict', `certificate order ${id} ${why}`, { id }),
  orderIssuerUnavailable: (productCode: string, issuer: string) =>
    new AppError(
      'order.issuer_unavailable',
      `product ${productCode} is issued through issuer profile ${issuer}, which has no ACME directory configured`,
    ),
  internal: (cause: unknown) => new AppError('internal', 'internal error', {}, { cause }),
};
