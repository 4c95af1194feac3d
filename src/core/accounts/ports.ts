import type { AuditEvent } from '../audit/ports.js';
import type { AccessKey, Account, Instance, Token } from './model.js';

/** The audit event of a change to a credential known by its id, once its account is read. */
export type AuditOf = (accountId: string) => AuditEvent;

/**
 * Storage of accounts and credentials. Credential lookups read the database on every request (no
 * cache): a key disabled or a token revoked by any process is refused by every other one at once.
 * Every change is stored with its audit event, in the same transaction.
 */
export interface AccountStore {
  insertAccount(account: Account, audit: AuditEvent): Promise<void>;
  findAccount(id: string): Promise<Account | undefined>;
  findAccountByProject(projectId: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;

  insertAccessKey(key: AccessKey, secretSealed: string, audit: AuditEvent): Promise<void>;
  findAccessKey(id: string): Promise<{ key: AccessKey; secretSealed: string; projectId: string } | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKey[]>;
  /** False when no such key exists. */
  setAccessKeyStatus(id: string, status: AccessKey['status'], audit: AuditOf): Promise<boolean>;
  /** False when no such key exists. */
  deleteAccessKey(id: string, audit: AuditOf): Promise<boolean>;

  /** Records a signature nonce; false when this key already used it and it has not expired. */
  rememberNonce(accessKeyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /**
   * Records a signature nonce, in one statement, only if key `id` exists, is active and is still
   * sealed as `sealed` (the secret a signature was just checked with). False when it was not
   * recorded: the key does not hold, or it already used this nonce.
   */
  rememberNonceIfKeyHolds(id: string, sealed: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /**
   * Forgets nonces whose requests can no longer pass the date check (expired before `before`), the
   * oldest first and about `limit` of them (more when many expire at the same instant); `more` when
   * some are left.
   */
  purgeNonces(before: Date, limit: number): Promise<{ deleted: number; more: boolean }>;

  insertToken(token: Token, tokenHash: string, audit: AuditEvent): Promise<void>;
  /** The token and its account's project, in one lookup: this runs on every APIG request. */
  findToken(tokenHash: string): Promise<{ token: Token; projectId: string } | undefined>;
  listTokens(accountId: string): Promise<Token[]>;
  /** Marks the token revoked at `at` unless it already is (audited only then); the token as it now stands, or undefined when unknown. */
  revokeToken(id: string, at: Date, audit: AuditOf): Promise<Token | undefined>;

  insertInstance(instance: Instance, audit: AuditEvent): Promise<void>;
  findInstance(accountId: string, id: string): Promise<Instance | undefined>;
}
