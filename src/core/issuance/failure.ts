/**
 * How a failure while working an issuance is classified: the CA said no for good (the issuance
 * becomes `invalid` with the CA's reason), or it is worth trying again later (the CA or a DNS
 * server is in trouble, a rate limit: retried, at the CA's Retry-After when it gave one).
 */
import { AcmeProblem, AcmeUnavailable, type ProblemDocument } from '../acme/problem.js';
import { DnsProviderError, RecordNotVisible } from '../validation/ports.js';

/** The issuance cannot succeed: stored as `invalid` with this code and detail. */
export class IssuanceFailed extends Error {
  override readonly name = 'IssuanceFailed';
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** ACME errors that say "later", not "no". */
const TRANSIENT_ACME_ERRORS = new Set(['rateLimited', 'serverInternal', 'badNonce']);

export function isTransientProblem(problem: AcmeProblem): boolean {
  return TRANSIENT_ACME_ERRORS.has(problem.acmeError ?? '') || (problem.status ?? 0) >= 500;
}

/** The problem type's last part: `urn:ietf:params:acme:error:rejectedIdentifier` → `rejectedIdentifier`. */
export function problemCode(problem: Pick<ProblemDocument, 'type'>): string {
  const parts = problem.type.split(/[:/]/).filter((part) => part !== '');
  return parts[parts.length - 1] ?? 'unknown';
}

/** The CA's detail, each subproblem after it with the identifier it is about. */
export function problemDetail(problem: AcmeProblem): string {
  const own = problem.detail ?? problem.type;
  const subs = problem.subproblems.map((sub) => `${sub.identifier ? `${sub.identifier.value}: ` : ''}${problemCode(sub)}: ${sub.detail ?? sub.type}`);
  return subs.length > 0 ? `${own} (${subs.join('; ')})` : own;
}

export function failureFromProblem(problem: AcmeProblem, about?: string): IssuanceFailed {
  return new IssuanceFailed(problemCode(problem), about ? `${about}: ${problemDetail(problem)}` : problemDetail(problem));
}

/**
 * What an error that kept happening until the job's last attempt is stored as, so an issuance
 * never stays unfinished after its job gave up.
 */
export function failureFromLastError(err: unknown): IssuanceFailed {
  if (err instanceof IssuanceFailed) return err;
  if (err instanceof AcmeProblem) return failureFromProblem(err);
  if (err instanceof AcmeUnavailable) return new IssuanceFailed('caUnavailable', err.message);
  if (err instanceof RecordNotVisible) return new IssuanceFailed('dnsRecordNotVisible', err.message);
  if (err instanceof DnsProviderError) return new IssuanceFailed('dnsProviderFailed', err.message);
  return new IssuanceFailed('internal', err instanceof Error ? err.message : String(err));
}
