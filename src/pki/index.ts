/**
 * certplane PKI toolkit: pure X.509 / key parsing and checks, and the CA side
 * (DER writing, CSRs, certificate profiles, CRLs, OCSP). No I/O besides
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
export { encodePem } from './pem.js';
export {
  derBitString,
  derBoolean,
  derConstructed,
  derEnumerated,
  derExplicit,
  derGeneralizedTime,
  derIa5String,
  derImplicit,
  derInteger,
  derLength,
  derNamedBits,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSetOf,
  derTime,
  derTlv,
  derUtcTime,
  derUtf8String,
} from './der-writer.js';
export { encodeName, type NameInput } from './name-writer.js';
export {
  issuerFromCertificate,
  issuerFromKey,
  signatureScheme,
  subjectKeyId,
  type SignatureName,
  type SignatureScheme,
  type SigningIssuer,
} from './signer.js';
export {
  buildCertificate,
  CertificateTemplate,
  type BuiltCertificate,
  type CertificateFields,
  type CertificateProfile,
  type ProfileExpectations,
  type ResolvedSubject,
} from './certificate-builder.js';
export { buildCheckedCertificate, buildCheckedCertificateSync, checkIssuedCertificate, type CheckedCertificate } from './certificate-check.js';
export { newP256KeyPair, p256Encodings, type EncodedKeyPair } from './p256.js';
export { newSerial } from './serial.js';
export { parseCsr, parseCsrAsync, type CsrPolicy, type ParsedCsr, type RequestedExtensions } from './csr.js';
export type { ParsedName, NameAttribute } from './names.js';
export { buildCrl, REVOCATION_REASONS, type BuiltCrl, type CrlInput, type RevocationReason, type RevokedEntry } from './crl.js';
export {
  certIdMatchesIssuer,
  ocspIssuerHashes,
  ocspIssuerHashesOf,
  parseOcspRequest,
  type OcspCertId,
  type OcspHash,
  type OcspIssuerHashes,
  type OcspRequest,
  type OcspRequestLimits,
} from './ocsp.js';
export {
  buildOcspResponse,
  OCSP_ERROR_STATUS,
  ocspErrorResponse,
  type OcspCertStatus,
  type OcspErrorStatus,
  type OcspResponseInput,
  type OcspSingleResponse,
} from './ocsp-response.js';
export { buildCsr, csrPem } from './csr-writer.js';
export { ariCertId, ariCertIdOf } from './ari.js';
export { releaseTemplate, signatureWork, threadPoolWork, useSignatureWork, type SignatureWork, type VerifyKey } from './signature-work.js';
