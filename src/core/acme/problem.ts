/**
 * What can go wrong talking to a CA, in two kinds a caller must treat differently:
 *
 * - AcmeProblem: the CA answered with an RFC 7807 problem document (RFC 8555 §6.7). Kept whole,
 *   never flattened into a string: `type`, `detail`, the HTTP status, the identifier, subproblems,
 *   and the CA's Retry-After (rate limits). `rejectedIdentifier`, `caa`, `dns` and friends are
 *   what a certificate's "failed" reason is made of.
 * - AcmeUnavailable: no usable answer at all (connection refused, TLS, timeout, a 5xx without a
 *   problem document, a reply that breaks the protocol). Worth retrying later.
 */
import type { Identifier } from './model.js';

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

export interface ProblemDocument {
  type: string;
  detail?: string | undefined;
  /** The HTTP status the CA gave (the document's own, or the response's). */
  status?: number | undefined;
  identifier?: Identifier | undefined;
  subproblems?: ProblemDocument[] | undefined;
}

export class AcmeProblem extends Error {
  override readonly name = 'AcmeProblem';
  readonly type: string;
  readonly detail: string | undefined;
  readonly status: number | undefined;
  readonly identifier: Identifier | undefined;
  readonly subproblems: AcmeProblem[];
  /** The CA's Retry-After with this problem (rateLimited, serverInternal…), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(document: ProblemDocument, options: { retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super(describe(document), { cause: options.cause });
    this.type = document.type;
    this.detail = document.detail;
    this.status = document.status;
    this.identifier = document.identifier;
    this.subproblems = (document.subproblems ?? []).map((sub) => new AcmeProblem(sub));
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The RFC 8555 error name (`badNonce`, `rejectedIdentifier`…), or undefined for a type outside the ACME namespace. */
  get acmeError(): string | undefined {
    return this.type.startsWith(ACME_ERROR_PREFIX) ? this.type.slice(ACME_ERROR_PREFIX.length) : undefined;
  }

  /** The document again, as the CA sent it (for storing a certificate's failure reason). */
  toDocument(): ProblemDocument {
    return {
      type: this.type,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.identifier !== undefined ? { identifier: this.identifier } : {}),
      ...(this.subproblems.length > 0 ? { subproblems: this.subproblems.map((sub) => sub.toDocument()) } : {}),
    };
  }
}

export class AcmeUnavailable extends Error {
  override readonly name = 'AcmeUnavailable';
  constructor(
    message: string,
    /** The CA's Retry-After, when it sent one (503), in ms. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAcmeProblem(value: unknown, acmeError?: string): value is AcmeProblem {
  return value instanceof AcmeProblem && (acmeError === undefined || value.acmeError === acmeError);
}

function describe(document: ProblemDocument): string {
  const who = document.identifier ? ` (${document.identifier.value})` : '';
  return `${document.type}${who}: ${document.detail ?? 'no detail'}`;
}
