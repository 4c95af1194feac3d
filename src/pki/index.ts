/**
 * certplane PKI toolkit: pure X.509 / key parsing and checks. No I/O besides
 * node:crypto; every failure is a PkiError with a stable `failure` code.
 */
export { PkiError, isPkiError, type PkiFailure } from './errors.js';
export type { KeyAlgorithm, NamedCurve, NameAttributes, ParsedCertificate, ParsedPrivateKey, PkiLimits, PublicKeyInfo } from './types.js';
export { parseCertificate, parseCertificateChain, parseCertificateDer, isExpired } from './certificate.js';
export { parsePrivateKey } from './private-key.js';
export { privateKeyMatches } from './key-match.js';
export { checkChainLink, checkChainOrder, verifiesWith } from './chain.js';
export { SM2_DEFAULT_USER_ID } from './sm2.js';
export { IssuerCache } from './issuer-cache.js';
