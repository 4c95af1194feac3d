import type { AuditEvent } from '../audit/ports.js';
import type { Policy, User } from './model.js';

/** Every change is stored with its audit event, in the same transaction (a change that changes nothing has none). */
export interface IdentityStore {
  /** Throws NameInUse when the account already has a user of that name. */
  insertUser(user: User, audit: AuditEvent): Promise<void>;
  findUser(accountId: string, id: string): Promise<User | undefined>;
  listUsers(accountId: string): Promise<User[]>;
  /** Throws NameInUse when the account already has a policy of that name. */
  insertPolicy(policy: Policy, audit: AuditEvent): Promise<void>;
  findPolicy(accountId: string, id: string): Promise<Policy | undefined>;
  /** Attaching an attached policy changes nothing. */
  attach(userId: string, policyId: string, at: Date, audit: AuditEvent): Promise<void>;
  /** False when the policy was not attached. */
  detach(userId: string, policyId: string, audit: AuditEvent): Promise<boolean>;
  policiesOfUser(userId: string): Promise<Policy[]>;
}

export class NameInUse extends Error {
  override readonly name = 'NameInUse';
}
