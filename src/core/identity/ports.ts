import type { Policy, User } from './model.js';

export interface IdentityStore {
  /** Throws NameInUse when the account already has a user of that name. */
  insertUser(user: User): Promise<void>;
  findUser(accountId: string, id: string): Promise<User | undefined>;
  listUsers(accountId: string): Promise<User[]>;
  /** Throws NameInUse when the account already has a policy of that name. */
  insertPolicy(policy: Policy): Promise<void>;
  findPolicy(accountId: string, id: string): Promise<Policy | undefined>;
  attach(userId: string, policyId: string, at: Date): Promise<void>;
  /** False when the policy was not attached. */
  detach(userId: string, policyId: string): Promise<boolean>;
  policiesOfUser(userId: string): Promise<Policy[]>;
}

export class NameInUse extends Error {
  override readonly name = 'NameInUse';
}
