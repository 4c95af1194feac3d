import type { PkiLimits } from './types.js';

/**
 * Failure codes are part of the public contract: the HTTP layer maps them to
 * user-facing error codes, so they must stay stable and coarse. The message
 * carries the human detail.
 */
export type PkiFailure =
  | 'pem.invalid' // no PEM block found / base64 broken / text is not PEM
  | 'pem.der' // input is binary DER (or base64 DER without armour) rather than PEM
  | 'certificate.invalid' // PEM block present but the certificate does not parse
  | 'key.invalid' // private key unparsable / garbage / inconsistent
  | 'key.encrypted' // ENCRYPTED PRIVATE KEY, or legacy "Proc-Type: 4,ENCRYPTED" PEM
  | 'key.unsupported' // parses, but an algorithm or curve we do not handle
  | 'chain.order' // cert[i] was not issued by cert[i+1]
  | 'csr.invalid' // a PKCS#10 request we refuse: not a CSR, bad signature, unsupported key, too large
  | 'ocsp.invalid' // an OCSPRequest that does not parse or that we refuse (answer: malformedRequest)
  | 'build.invalid' // inputs a builder cannot encode (empty subject, zero serial, bad dates): a caller's bug
  | 'limit'; // over one of the PkiLimits, named in `limit`

export class PkiError extends Error {
  override readonly name = 'PkiError';
  readonly failure: PkiFailure;
  /** Position of the offending certificate in the chain, when one applies. */
  readonly index?: number;
  /** The bound that was exceeded, for failure 'limit'. */
  readonly limit?: keyof PkiLimits;

  constructor(failure: PkiFailure, message: string, index?: number, limit?: keyof PkiLimits) {
    super(message);
    this.failure = failure;
    if (index !== undefined) this.index = index;
    if (limit !== undefined) this.limit = limit;
  }
}

export function isPkiError(err: unknown): err is PkiError {
  return err instanceof PkiError;
}

/**
 * Runs `fn` and turns anything that is not already a PkiError into one, so that
 * callers of the toolkit only ever see PkiError (node:crypto and the SM2 library
 * throw assorted error types on malformed input).
 */
export function wrapPki<T>(failure: PkiFailure, what: string, fn: () => T, index?: number): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PkiError) {
      if (index !== undefined && err.index === undefined) throw new PkiError(err.failure, err.message, index, err.limit);
      throw err;
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new PkiError(failure, `${what}: ${detail}`, index);
  }
}
