/** Object identifiers the toolkit understands, and the names it shows for them. */
import type { NamedCurve } from './types.js';

export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  sm2Curve: '1.2.156.10197.1.301',
  sm2WithSm3: '1.2.156.10197.1.501',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  cRLDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  kpClientAuth: '1.3.6.1.5.5.7.3.2',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  extensionRequest: '1.2.840.113549.1.9.14',
  /** Microsoft's pre-standard twin of extensionRequest, still written by certreq. */
  msCertExtensions: '1.3.6.1.4.1.311.2.1.14',
} as const;

/** Names follow Go's x509.SignatureAlgorithm.String() so logs match Go-based tooling. */
export const SIGNATURE_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.2', 'MD2-RSA'],
  ['1.2.840.113549.1.1.4', 'MD5-RSA'],
  ['1.2.840.113549.1.1.5', 'SHA1-RSA'],
  ['1.2.840.113549.1.1.11', 'SHA256-RSA'],
  ['1.2.840.113549.1.1.12', 'SHA384-RSA'],
  ['1.2.840.113549.1.1.13', 'SHA512-RSA'],
  ['1.2.840.10040.4.3', 'DSA-SHA1'],
  ['2.16.840.1.101.3.4.3.2', 'DSA-SHA256'],
  ['1.2.840.10045.4.1', 'ECDSA-SHA1'],
  ['1.2.840.10045.4.3.2', 'ECDSA-SHA256'],
  ['1.2.840.10045.4.3.3', 'ECDSA-SHA384'],
  ['1.2.840.10045.4.3.4', 'ECDSA-SHA512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.2.156.10197.1.501', 'SM2-SM3'],
]);

/** RSASSA-PSS is named by its hash; Go only names the three SHA-2 variants. */
export const PSS_NAMES: ReadonlyMap<string, { name: string; saltLength: number }> = new Map([
  [OID.sha256, { name: 'SHA256-RSAPSS', saltLength: 32 }],
  [OID.sha384, { name: 'SHA384-RSAPSS', saltLength: 48 }],
  [OID.sha512, { name: 'SHA512-RSAPSS', saltLength: 64 }],
]);

export interface CurveInfo {
  name: NamedCurve;
  /** Field size in bits, also the size of the private scalar. */
  bits: number;
  /** OpenSSL curve name for node's createECDH; SM2 is handled by sm2.ts instead. */
  ecdh?: string;
}

export const CURVES: ReadonlyMap<string, CurveInfo> = new Map([
  ['1.2.840.10045.3.1.7', { name: 'P-256', bits: 256, ecdh: 'prime256v1' }],
  ['1.3.132.0.34', { name: 'P-384', bits: 384, ecdh: 'secp384r1' }],
  ['1.3.132.0.35', { name: 'P-521', bits: 521, ecdh: 'secp521r1' }],
  [OID.sm2Curve, { name: 'SM2', bits: 256 }],
]);

/**
 * Attribute short names as OpenSSL prints them with -nameopt RFC2253, so our
 * one-line text can be compared with openssl's. Unknown types print as dotted OIDs.
 */
export const ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'street'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.15', 'businessCategory'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['1.3.6.1.4.1.311.60.2.1.1', 'jurisdictionL'],
  ['1.3.6.1.4.1.311.60.2.1.2', 'jurisdictionST'],
  ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
]);

/** RFC 5280 KeyUsage bit names, index = bit number. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
