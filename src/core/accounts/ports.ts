import type { AccessKey, Account, Instance } from './model.js';

export interface AccountStore {
  insertAccount(account: Account): Promise<void>;
  findAccount(id: string): Promise<Account | undefined>;
  findAccountByProject(projectId: string): Promise<Account | undefined>;

  insertAccessKey(key: AccessKey, secretSealed: string): Promise<void>;
  findAccessKey(id: string): Promise<{ key: AccessKey; secretSealed: string; projectId: string } | undefined>;

  /** Records a signature nonce; false when this key already used it and it has not expired. */
  rememberNonce(accessKeyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /** Forgets nonces whose requests can no longer pass the date check. */
  purgeNonces(before: Date): Promise<number>;

  insertToken(tokenHash: string, accountId: string, expiresAt: Date, createdAt: Date): Promise<void>;
  /** The token's account (with its project) and expiry, in one lookup: this runs on every APIG request. */
  findToken(tokenHash: string): Promise<{ accountId: string; projectId: string; expiresAt: Date } | undefined>;

  insertInstance(instance: Instance): Promise<void>;
  findInstance(accountId: string, id: string): Promise<Instance | undefined>;
}
