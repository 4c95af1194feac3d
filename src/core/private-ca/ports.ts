import type { ExpiryFilter } from '../certificates/expiry.js';
import type { NewJob } from '../jobs/ports.js';
import type { BuiltCrl, CrlInput, NameInput, OcspHash, OcspResponseInput, SignatureName } from '../../pki/index.js';
import type { AuditEvent } from '../audit/ports.js';
import type { ClientCa, ClientCertificate, ClientCertificateStatus, GeneratedKeyType, Page } from './model.js';
import type { OcspIssuerIds, SerialRecord } from './revocation.js';

/**
 * The only holder of CA private keys (boulder's separation: the code that holds a CA key signs
 * and nothing else). A CA's key is generated inside the signer and leaves it only sealed; the
 * signer unseals it once and keeps it, with the CA's certificate template, for every signature.
 * Everything a CA signs (certificates, CRLs, OCSP responses) is signed through here.
 */
export interface CaSigner {
  /** A new CA: its key, and its self-signed certificate from the clientCa profile. The key is returned sealed for `caId`. */
  createCa(caId: string, spec: NewCaSpec): Promise<NewCaMaterial>;
  /**
   * A clientAuth certificate from the CA's template (extensions from the profile only, CRL and OCSP
   * URLs under the public URL), checked before it is returned (checkIssuedCertificate).
   */
  issue(caId: string, request: SigningRequest): Promise<SignedCertificate>;
  /** A CRL signed by the CA (buildCrl); the caller keeps the CRL number. */
  signCrl(caId: string, crl: Omit<CrlInput, 'issuer'>): Promise<BuiltCrl>;
  /** An OCSP response signed by the CA itself (buildOcspResponse): DER of the OCSPResponse. */
  signOcspResponse(caId: string, response: Omit<OcspResponseInput, 'responder' | 'certificates'>): Promise<Buffer>;
  /** Drops what the signer holds for a CA that no longer exists. */
  forget(caId: string): void;
}

export interface NewCaSpec {
  subject: NameInput;
  /** `EC`: P-256; `RSA`: 2048 bits. */
  keyType: 'EC' | 'RSA';
  notBefore: Date;
  notAfter: Date;
}

export interface NewCaMaterial {
  certificatePem: string;
  /** The CA key as sealed by the signer: opaque to everyone else. */
  sealedKey: string;
}

export interface SigningRequest {
  /** DER of the subject Name (a CSR's, copied unchanged, or one certplane made). */
  subject: Buffer;
  /** DER SubjectPublicKeyInfo. */
  subjectSpki: Buffer;
  /** Unsigned magnitude (newSerial()). */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
}

export interface SignedCertificate {
  der: Buffer;
  pem: string;
  /** Lower-case hex SHA-256 of `der`. */
  fingerprintSha256: string;
  signatureAlgorithm: SignatureName;
}

/** Key pairs for clients that send no CSR. */
export interface KeyPairGenerator {
  generate(type: GeneratedKeyType): Promise<GeneratedKeyPair>;
}

export interface GeneratedKeyPair {
  /** PKCS#8 PEM. Secret: returned once, then only sealed. */
  privateKeyPem: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

/**
 * Told after a certificate's revocation status changed (RevokeClientCertificate,
 * ActivateClientCertificate) and committed, and after a managed CA was created: the place where
 * the CA's CRL is (re)issued.
 */
export interface RevocationListener {
  revocationChanged(change: RevocationChange): Promise<void>;
  caCreated(caId: string): Promise<void>;
}

export interface RevocationChange {
  accountId: string;
  siteId: string;
  caId: string;
  certificateId: string;
  status: 'active' | 'revoked';
  at: Date;
}

/** What completes an issuance: the signed certificate and, when certplane made the key, the key sealed. */
export interface SignedRecord {
  certificatePem: string;
  fingerprintSha256: string;
  signatureAlgorithm: string;
  /** Sealed with `clientKeyContext(id)`; null for a CSR. */
  sealedKey: string | null;
  at: Date;
}

export type DeleteCaOutcome = { deleted: true } | { deleted: false; active: number };

/** The private CA's storage. Every write that takes an audit event records it in the same transaction. */
export interface PrivateCaStore {
  findCa(accountId: string, siteId: string, id: string): Promise<ClientCa | undefined>;
  findManagedCa(siteId: string): Promise<ClientCa | undefined>;
  /** The certificate PEM of a managed CA by id alone (it is public: `/pki/ca/{id}.pem`). */
  managedCaCertificate(id: string): Promise<string | undefined>;
  /**
   * Stores a managed CA, its sealed key and the ids OCSP CertIDs name it by. Throws ManagedCaExists
   * when the site got one first.
   */
  insertManagedCa(ca: ClientCa, sealedKey: string, issuerIds: OcspIssuerIds, audit: AuditEvent): Promise<void>;
  insertUploadedCa(ca: ClientCa, audit: AuditEvent): Promise<void>;
  listCas(accountId: string, siteId: string, page: Page): Promise<{ total: number; items: ClientCa[] }>;
  /**
   * Deletes a CA with its certificates' records, unless it has certificates that are active or
   * being issued; undefined when there is no such CA.
   */
  deleteCa(accountId: string, siteId: string, id: string, audit: AuditEvent): Promise<DeleteCaOutcome | undefined>;
  /** Replaces the CA's hostnames; false when there is no such CA. */
  setHostnames(accountId: string, siteId: string, id: string, hostnames: string[], at: Date, audit: AuditEvent): Promise<boolean>;

  /** Records a certificate before it is signed (status `issuing`). Throws UnknownCa when its CA is gone. */
  reserve(certificate: ClientCertificate): Promise<void>;
  /** The signed certificate, status `active`, the sealed key and the audit row, in one transaction. */
  complete(id: string, signed: SignedRecord, audit: AuditEvent): Promise<void>;
  /** `issuing` → `void`; false when the record was not issuing. */
  voidIssuing(id: string, at: Date): Promise<boolean>;
  /** Voids the `issuing` records created before `before` (of one site, or all); how many. */
  voidAbandoned(before: Date, at: Date, siteId?: string): Promise<number>;
  /** A certificate of the site that has not been deleted. */
  findCertificate(accountId: string, siteId: string, id: string): Promise<ClientCertificate | undefined>;
  /** `expiry`: only certificates of these expiry statuses (from their notAfter). */
  listCertificates(accountId: string, siteId: string, page: Page, expiry?: ExpiryFilter): Promise<{ total: number; items: ClientCertificate[] }>;
  /** Moves a certificate from `from` to `to` (revoked_at set on revoke, cleared on activate); false when it was not in `from`. */
  changeStatus(
    accountId: string,
    siteId: string,
    id: string,
    change: { from: ClientCertificateStatus; to: ClientCertificateStatus; at: Date; event?: NewJob | undefined },
    audit: AuditEvent,
  ): Promise<boolean>;
  /** Hides the certificate from the API for good; its record (serial, status) stays for revocation. */
  deleteCertificate(accountId: string, siteId: string, id: string, at: Date, audit: AuditEvent): Promise<boolean>;
}

/** A managed CA's latest CRL, and whether it still says what the inventory says. */
export interface CrlState {
  /** Number of the latest CRL (0: none issued yet); the next one takes `number + 1`. */
  number: number;
  /** The latest CRL; null until the first is issued. */
  der: Buffer | null;
  nextUpdate: Date | null;
  /**
   * The CA's revocation version, raised in the same transaction as every change of what its CRL
   * lists (revoke, activate, void), and the version the latest CRL was built from.
   */
  version: number;
  listedVersion: number;
}

/** A serial the CA's CRL lists: revoked or void, deleted or not. */
export interface ListedSerial extends SerialRecord {
  /** Lower-case hex. */
  serialNumber: string;
}

export interface NewCrl {
  number: number;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  /** The CA's revocation version read before the serials were listed. */
  listedVersion: number;
}

/** What an OCSP CertID names: a managed CA, and the record of the serial under it if there is one. */
export interface OcspSubject {
  caId: string;
  record: SerialRecord | undefined;
}

/** The revocation side of the private CA's storage: CRLs and OCSP lookups of managed CAs. */
export interface RevocationStore {
  /** Undefined when no managed CA has this id. */
  crlState(caId: string): Promise<CrlState | undefined>;
  /** Every revoked or void serial of the CA, deleted certificates included. */
  listedSerials(caId: string): Promise<ListedSerial[]>;
  /**
   * Stores the CA's new CRL if its CRL number is still `previous` (so two processes never publish
   * two CRLs under one number); false when another was stored first.
   */
  publishCrl(caId: string, previous: number, crl: NewCrl): Promise<boolean>;
  /** The managed CA whose OCSP issuer id under `hash` is `issuerId` (ocspIssuerIds), with the serial's record. */
  ocspSubject(hash: OcspHash, issuerId: string, serialHex: string): Promise<OcspSubject | undefined>;
}

/** The site got its managed CA from a concurrent call first: read that one. */
export class ManagedCaExists extends Error {
  override readonly name = 'ManagedCaExists';
}

/** A reservation named a CA that no longer exists (deleted by another process meanwhile). */
export class UnknownCa extends Error {
  override readonly name = 'UnknownCa';
}
