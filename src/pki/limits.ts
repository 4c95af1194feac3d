/** The checks behind PkiLimits, each cheap and run before the work it bounds. */
import { PkiError } from './errors.js';
import type { PkiLimits } from './types.js';

export function checkCertificateCount(count: number, limits: PkiLimits): void {
  if (limits.maxCertificates !== undefined && count > limits.maxCertificates) {
    throw new PkiError(
      'limit',
      `the chain holds ${count} certificates, more than the ${limits.maxCertificates} accepted`,
      undefined,
      'maxCertificates',
    );
  }
}

/** `what` names the key's owner in the message: "certificate 2", "the private key". */
export function checkRsaBits(bits: number, limits: PkiLimits, what: string, index?: number): void {
  if (limits.rsaMinBits !== undefined && bits < limits.rsaMinBits) {
    throw new PkiError('limit', `${what} has a ${bits}-bit RSA key, smaller than the ${limits.rsaMinBits} bits accepted`, index, 'rsaMinBits');
  }
  if (limits.rsaMaxBits !== undefined && bits > limits.rsaMaxBits) {
    throw new PkiError('limit', `${what} has a ${bits}-bit RSA key, larger than the ${limits.rsaMaxBits} bits accepted`, index, 'rsaMaxBits');
  }
}
