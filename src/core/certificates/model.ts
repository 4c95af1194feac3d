import type { NameAttributes } from '../../pki/index.js';

/** Key families as the certificate APIs name them. Ed25519 counts as ECC (it is an elliptic curve). */
export type AlgorithmType = 'RSA' | 'ECC' | 'SM2';
export const ALGORITHM_TYPES: readonly AlgorithmType[] = ['RSA', 'ECC', 'SM2'];

export type CertificateScope = 'global' | 'instance';

/** What the inventory knows of a certificate, read from the certificate itself at upload. */
export interface CertificateFacts {
  algorithmType: AlgorithmType;
  commonName: string;
  san: string[];
  subject: NameAttributes;
  issuer: NameAttributes;
  notBefore: Date;
  notAfter: Date;
  /** Decimal, as big-integer libraries print it. */
  serialNumber: string;
  signatureAlgorithm: string;
  version: number;
  fingerprintSha256: string;
}

export interface Certificate extends CertificateFacts {
  id: string;
  accountId: string;
  name: string;
  scope: CertificateScope;
  instanceId: string | null;
  chainPem: string;
  signChainPem: string | null;
  trustedRootCa: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An upload as the core sees it, whichever dialect it came through. */
export interface CertificateUpload {
  name: string;
  chainPem: string;
  privateKeyPem: string;
  scope: CertificateScope;
  instanceId?: string | undefined;
  trustedRootCa?: string | undefined;
  algorithmType?: AlgorithmType | undefined;
  signChainPem?: string | undefined;
  signPrivateKeyPem?: string | undefined;
}

export interface DomainBinding {
  certificateId: string;
  domain: string;
  instanceIds: string[];
  verifiedClientCertificateEnabled: boolean;
  createdAt: Date;
}

export interface CertificateFilter {
  name?: string | undefined;
  commonName?: string | undefined;
  signatureAlgorithm?: string | undefined;
  scope?: CertificateScope | undefined;
  instanceId?: string | undefined;
  algorithmType?: AlgorithmType | undefined;
}

export interface Page {
  offset: number;
  limit: number;
}
