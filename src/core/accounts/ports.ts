import type { AccessKey, Account, Instance } from './model.js';

export interface AccountStore {
  insertAccount(account: Account): Promise<void>;
  findAccount(id: string): Promise<Account | undefined>;
  findAccountByProject(projectId: string): Promise<Account | undefined>;

  insertAccessKey(key: AccessKey, secretSealed: string): Promise<void>;
  findAccessKey(id: string): Promise<{ key: AccessKey; secretSealed: string } | undefined>;

  insertToken(tokenHash: string, accountId: string, expiresAt: Date, createdAt: Date): Promise<void>;
  findToken(tokenHash: string): Promise<{ accountId: string; expiresAt: Date } | undefined>;

  insertInstance(instance: Instance): Promise<void>;
  findInstance(accountId: string, id: string): Promise<Instance | undefined>;
}
