import type { AuditEvent } from '../audit/ports.js';
import type { Certificate, CertificateFilter, DomainBinding, Page } from './model.js';

/** A private key as stored: sealed by the Sealer, never in clear text. */
export interface SealedKey {
  id: string;
  algorithm: string;
  sealed: string;
}

/**
 * The inventory's storage. Every write takes the audit event of the change and records it in the
 * same transaction, so a change and its audit row exist together or not at all.
 */
export interface CertificateStore {
  /** Inserts the certificate and its sealed keys atomically; throws NameTaken on a duplicate name. */
  insert(certificate: Certificate, keys: { main: SealedKey; sign: SealedKey | null }, audit: AuditEvent): Promise<void>;
  /** Replaces content and keys atomically; old keys are deleted. Throws NameTaken on a duplicate name. */
  replace(certificate: Certificate, keys: { main: SealedKey; sign: SealedKey | null }, audit: AuditEvent): Promise<void>;
  find(accountId: string, id: string): Promise<Certificate | undefined>;
  /** The sealed private keys of a certificate (the signing key of an SM2 dual certificate as `sign`). */
  findKeys(accountId: string, id: string): Promise<{ main: SealedKey; sign: SealedKey | null } | undefined>;
  list(accountId: string, filter: CertificateFilter, page: Page): Promise<{ total: number; items: Certificate[] }>;
  /**
   * Deletes the certificate and its keys unless it has domain bindings or an ESA site holds it
   * (then nothing changes).
   */
  deleteIfUnbound(accountId: string, id: string, audit: AuditEvent): Promise<'deleted' | 'bound' | 'used_by_site' | 'missing'>;

  /** Binds atomically; throws DomainTaken when a concurrent write bound one of the domains first. */
  bindDomains(accountId: string, bindings: DomainBinding[], audit: AuditEvent): Promise<void>;
  /** Detaches every domain, or none when one of them is not bound to the certificate. */
  unbindDomains(
    accountId: string,
    certificateId: string,
    domains: string[],
    audit: AuditEvent,
  ): Promise<{ unbound: true } | { notBound: string }>;
  listDomains(
    accountId: string,
    certificateId: string,
    domainLike: string | undefined,
    page: Page,
  ): Promise<{ total: number; items: DomainBinding[] }>;
  /** Domains of this account bound to another certificate than `certificateId`. */
  domainsBoundElsewhere(accountId: string, certificateId: string, domains: string[]): Promise<string[]>;
}

/** Raised by stores when a unique name is already used in the account. */
export class NameTaken extends Error {
  override readonly name = 'NameTaken';
}

/** Raised by stores when the unique (account, domain) index refuses a binding. */
export class DomainTaken extends Error {
  override readonly name = 'DomainTaken';
}

/** What the certificates context needs from the accounts context. */
export interface InstanceDirectory {
  requireInstance(accountId: string, id: string): Promise<unknown>;
}
