import type { NameAttributes } from '../../pki/index.js';
import type { ExpiryFilter } from './expiry.js';

/** A tag a resource was given (CAS `Tags.N.Key` / `Tags.N.Value`). */
export interface Tag {
  key: string;
  value: string;
}

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
  /** The resource group it was placed in (CAS uploads), else null. */
  resourceGroupId: string | null;
  tags: Tag[];
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
  resourceGroupId?: string | undefined;
  tags?: Tag[] | undefined;
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
  /** Only certificates named by a numeric id (CAS's `CertId`), not by a 32-hex one. */
  numericIdsOnly?: boolean | undefined;
  /** Part of the id, the common name or a SAN. */
  keyword?: string | undefined;
  /** Only certificates placed in this resource group (one in no group never matches). */
  resourceGroupId?: string | undefined;
  /** notAfter after this time… */
  notAfterAfter?: Date | undefined;
  /** …and at or before this one. */
  notAfterUntil?: Date | undefined;
  /** Only certificates of these expiry statuses (`expiryOf`), at the filter's `now`. */
  expiry?: ExpiryFilter | undefined;
}

/** How a new certificate is named: 32 hex digits (APIG), or a number of at most 15 digits (CAS `CertId`). */
export type CertificateIdStyle = 'hex' | 'numeric';

export interface Page {
  offset: number;
  limit: number;
}
