/** Public data shapes of the PKI toolkit. Plain data: safe to serialise and log (except ParsedPrivateKey.pem). */

export type KeyAlgorithm = 'RSA' | 'EC' | 'Ed25519' | 'SM2';
export type NamedCurve = 'P-256' | 'P-384' | 'P-521' | 'SM2';

export interface PublicKeyInfo {
  algorithm: KeyAlgorithm;
  curve?: NamedCurve;
  /** RSA modulus bits; EC/SM2 field size bits; 256 for Ed25519. */
  bits?: number;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

export interface NameAttributes {
  commonName: string[];
  organization: string[];
  organizationalUnit: string[];
  locality: string[];
  state: string[];
  country: string[];
}

export interface ParsedCertificate {
  /** Normalised PEM of this one certificate (64-column base64, trailing newline). */
  pem: string;
  der: Buffer;
  subject: NameAttributes;
  issuer: NameAttributes;
  /** RFC 4514 one-line form (most significant RDN last, like `openssl -nameopt RFC2253`). */
  subjectText: string;
  issuerText: string;
  /** First subject CN, '' when none. */
  commonName: string;
  /** SAN dNSName entries, in certificate order. */
  dnsNames: string[];
  /** SAN iPAddress entries: IPv4 dotted, IPv6 the way node's X509Certificate.subjectAltName prints it. */
  ipAddresses: string[];
  emailAddresses: string[];
  /** SAN uniformResourceIdentifier entries. */
  uris: string[];
  serialNumber: { hex: string; decimal: string };
  notBefore: Date;
  notAfter: Date;
  /** 1..3 as people count it. */
  version: number;
  /** Go's x509.SignatureAlgorithm.String() name, 'SM2-SM3', or the dotted OID. */
  signatureAlgorithm: string;
  signatureAlgorithmOid: string;
  publicKey: PublicKeyInfo;
  /** basicConstraints cA. */
  isCA: boolean;
  /** RFC 5280 bit names, e.g. ['digitalSignature','keyEncipherment']; [] when absent. */
  keyUsage: string[];
  /** Lower-case hex, no colons. */
  fingerprintSha256: string;
}

export interface ParsedPrivateKey {
  algorithm: KeyAlgorithm;
  curve?: NamedCurve;
  bits?: number;
  format: 'pkcs1' | 'pkcs8' | 'sec1';
  /** The private key PEM block as given, with \n line endings. Secret: never log. */
  pem: string;
}

/**
 * Bounds the toolkit checks before the work they bound: certificates are counted before any is
 * decoded, an RSA modulus is measured before any RSA arithmetic or OpenSSL parsing. Unset = no bound.
 */
export interface PkiLimits {
  /** Certificates in one chain. */
  maxCertificates?: number;
  /** RSA modulus bits, for keys and certificates alike. */
  rsaMinBits?: number;
  rsaMaxBits?: number;
}
