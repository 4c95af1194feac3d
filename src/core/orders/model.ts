/**
 * Certificate orders: an account asks for a DV certificate for names it controls, consuming one
 * unit of a resource package of the order's product; certplane fulfils it through an ACME
 * `Issuance` (placement `user`): the user places the challenge's proof (a dns-01 TXT record or an
 * http-01 file), the issuance engine sees it, answers the challenge, finalizes with the CSR (the
 * user's, or one for a key certplane made) and stores the chain.
 *
 * What an order shows is read from its issuance (`phaseOf`), never stored twice.
 */
import type { AuthorizationProgress, Issuance, IssuanceState } from '../issuance/model.js';
import type { Tag } from '../certificates/model.js';

export type { Tag };

/** How control of each name is proved: a DNS TXT record (dns-01) or a file over HTTP (http-01). */
export type ValidationMethod = 'DNS' | 'FILE';
export const VALIDATION_METHODS: readonly ValidationMethod[] = ['DNS', 'FILE'];

/** Whose key the certificate certifies: the user's (their CSR) or one certplane makes and keeps sealed. */
export type KeySource = 'csr' | 'certplane';

export interface Contact {
  username: string | undefined;
  phone: string | undefined;
  email: string | undefined;
  companyName: string | undefined;
}

export interface Order {
  /** Decimal, at most 15 digits (JSON clients keep it exact). */
  id: string;
  accountId: string;
  productCode: string;
  issuanceId: string;
  validation: ValidationMethod;
  /** The name the certificate is for (the CSR's CN, or the first name asked for). */
  domain: string;
  keySource: KeySource;
  /** Key family of the certificate: `RSA` or `ECC`. */
  algorithm: 'RSA' | 'ECC';
  contact: Contact;
  tags: Tag[];
  /** Past it, an order whose proof was never seen fails. */
  deadlineAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** An order with the issuance that fulfils it. */
export interface OrderRecord {
  order: Order;
  issuance: Issuance;
}

/** What the user must place for one name: a TXT record, or a file served over HTTP. */
export type ValidationProof =
  | { kind: 'dns'; domain: string; recordName: string; recordType: 'TXT'; value: string }
  | { kind: 'file'; domain: string; path: string; content: string };

/**
 * Where an order stands, from its issuance:
 * - `pending`: submitted, no challenge known yet (the CA has not been asked, or has not answered);
 * - `awaiting_validation`: the proof of a name is known and not yet seen (`proof`);
 * - `validating`: every proof seen and answered, or the certificate being finalized;
 * - `issued`, `failed` (with the reason), `canceled` (withdrawn by its owner).
 */
export type OrderPhase =
  | { phase: 'pending' }
  | { phase: 'awaiting_validation'; proof: ValidationProof }
  | { phase: 'validating' }
  | { phase: 'issued' }
  | { phase: 'failed'; reason: string }
  | { phase: 'canceled' };

export function phaseOf(issuance: Issuance): OrderPhase {
  switch (issuance.state) {
    case 'queued':
      return { phase: 'pending' };
    case 'validating':
    case 'finalizing':
      return { phase: 'validating' };
    case 'valid':
      return { phase: 'issued' };
    case 'canceled':
      return { phase: 'canceled' };
    case 'invalid':
      return { phase: 'failed', reason: failureReason(issuance) };
    case 'ordered': {
      if (issuance.authorizations.length === 0) return { phase: 'pending' };
      // The first name whose proof was not seen at the last check; none is answered before all are seen.
      const open = issuance.authorizations.find((a) => a.status === 'pending' && !a.answered && !a.seen);
      const proof = open && proofOf(open);
      return proof ? { phase: 'awaiting_validation', proof } : { phase: 'validating' };
    }
  }
}

function proofOf(a: AuthorizationProgress): ValidationProof | undefined {
  if (a.challengeType === 'dns-01' && a.recordName !== undefined && a.txtValue !== undefined) {
    return { kind: 'dns', domain: a.domain, recordName: a.recordName, recordType: 'TXT', value: a.txtValue };
  }
  if (a.challengeType === 'http-01' && a.keyAuthorization !== undefined) {
    return { kind: 'file', domain: a.domain, path: a.path ?? `/.well-known/acme-challenge/${a.token}`, content: a.keyAuthorization };
  }
  return undefined;
}

function failureReason(issuance: Issuance): string {
  const failed = issuance.authorizations.find((a) => a.error !== undefined);
  const parts = [issuance.errorCode, issuance.errorDetail ?? failed?.error].filter((p): p is string => p !== undefined && p !== '');
  return parts.length > 0 ? parts.join(': ') : 'the certificate authority refused the order';
}

/** Issuance states in which the proof has not been seen yet: the validation deadline applies. */
export const AWAITING_PROOF_STATES = ['queued', 'ordered'] as const;

/** The issuance error code of an order failed by its deadline. */
export const DEADLINE_ERROR_CODE = 'validationDeadline';

/** The job that fails an order still awaiting its proof at the deadline; payload `{ orderId }`. */
export const ORDER_DEADLINE_JOB = 'cas.order-deadline';

/** A resource package as its owner sees it: granted, in use (live orders), issued. */
export interface PackageState {
  productCode: string;
  total: number;
  /** Orders of the product neither failed nor cancelled. */
  used: number;
  issued: number;
}

/** Filters of an order listing. */
export interface OrderFilter {
  /** Issuance states to list; all when absent. */
  states?: readonly IssuanceState[] | undefined;
  /** Only issued certificates whose notAfter is after this time… */
  notAfterAfter?: Date | undefined;
  /** …and at or before this one. */
  notAfterUntil?: Date | undefined;
  /** Part of a name or of the order id. */
  keyword?: string | undefined;
}

export interface Page {
  offset: number;
  limit: number;
}
