import { errors, type AppError } from './errors.js';

/**
 * Bounds on what one request may carry (the config file's `limits`). Each is checked before the
 * work it bounds (blocks are counted before any is parsed, an RSA key's size is read before any
 * RSA arithmetic), and each refusal names its setting, so an operator knows what to raise.
 */
export interface Limits {
  /** Certificates in one PEM chain, the server certificate included. */
  chainCertificates: number;
  /** Smallest RSA modulus, in bits, of a key or certificate in an upload. */
  rsaMinBits: number;
  /** Largest RSA modulus, in bits, of a key or certificate in an upload. */
  rsaMaxBits: number;
  /** Characters in one PEM field (a chain, a private key, a trusted root CA). */
  pemCharacters: number;
  /** Entries in one `Domains` list. */
  domains: number;
  /** Characters in one policy document. */
  policyDocumentCharacters: number;
}

/** The setting's name as written in the config file, for messages. */
export function limitSetting(name: keyof Limits): string {
  return `limits.${name}`;
}

/** The invalid-parameter error of a refused limit: what was too much, and which setting says so. */
export function limitExceeded(parameter: string, why: string, limit: keyof Limits): AppError {
  return errors.invalidParameter(parameter, `${why} (${limitSetting(limit)})`);
}
