import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Principal } from '../accounts/model.js';
import { operatorEvent, type AuditEvent } from '../audit/ports.js';
import { evaluate, parsePolicyDocument } from '../policy/index.js';
import type { Policy, User } from './model.js';
import { NameInUse, type IdentityStore } from './ports.js';

export interface IdentityDeps {
  store: IdentityStore;
  clock: Clock;
  ids: IdGenerator;
  /** Confirms the account exists (from the accounts context). */
  requireAccount(accountId: string): Promise<unknown>;
  /** Longest policy document accepted (`limits.policyDocumentCharacters`). */
  maxPolicyCharacters: number;
  /** Names the objects of the audit log (`certplane:{region}:{account}:…`). */
  regionId: string;
}


const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Users inside an account and the IAM-style policies that grant them rights. A root principal
 * (an account's own key or token) may do everything in its account; a user only what an attached
 * policy allows and none denies.
 */
export class IdentityService {
  constructor(private readonly deps: IdentityDeps) {}

  async createUser(accountId: string, name: string): Promise<User> {
    await this.deps.requireAccount(accountId);
    if (!NAME.test(name)) throw errors.invalidParameter('name', 'must be 1 to 64 letters, digits or ._@-');
    const user: User = { id: `u-${this.deps.ids.hex32().slice(0, 20)}`, accountId, name, createdAt: this.deps.clock.now() };
    const audit = this.event(accountId, 'certplane:CreateUser', `user/${user.id}`, user.createdAt);
    await this.unique(() => this.deps.store.insertUser(user, audit), () => errors.userNameTaken(name));
    return user;
  }

  async listUsers(accountId: string): Promise<User[]> {
    await this.deps.requireAccount(accountId);
    return this.deps.store.listUsers(accountId);
  }

  async requireUser(accountId: string, id: string): Promise<User> {
    const user = await this.deps.store.findUser(accountId, id);
    if (!user) throw errors.userNotFound(id);
    return user;
  }

  async createPolicy(accountId: string, name: string, documentText: string): Promise<Policy> {
    await this.deps.requireAccount(accountId);
    if (!NAME.test(name)) throw errors.invalidParameter('name', 'must be 1 to 64 letters, digits or ._@-');
    const policy: Policy = {
      id: `p-${this.deps.ids.hex32().slice(0, 20)}`,
      accountId,
      name,
      document: parsePolicyDocument(documentText, this.deps.maxPolicyCharacters),
      createdAt: this.deps.clock.now(),
    };
    const audit = this.event(accountId, 'certplane:CreatePolicy', `policy/${policy.id}`, policy.createdAt);
    await this.unique(() => this.deps.store.insertPolicy(policy, audit), () => errors.policyNameTaken(name));
    return policy;
  }

  async attachPolicy(accountId: string, userId: string, policyId: string): Promise<void> {
    await this.requireUser(accountId, userId);
    await this.requirePolicy(accountId, policyId);
    const at = this.deps.clock.now();
    await this.deps.store.attach(userId, policyId, at, this.event(accountId, 'certplane:AttachPolicy', `user/${userId}/policy/${policyId}`, at));
  }

  async detachPolicy(accountId: string, userId: string, policyId: string): Promise<void> {
    await this.requireUser(accountId, userId);
    await this.requirePolicy(accountId, policyId);
    const audit = this.event(accountId, 'certplane:DetachPolicy', `user/${userId}/policy/${policyId}`, this.deps.clock.now());
    if (!(await this.deps.store.detach(userId, policyId, audit))) throw errors.policyNotFound(policyId);
  }

  /** The operator's change to `object` of the account, as the audit log keeps it. */
  private event(accountId: string, action: string, object: string, at: Date): AuditEvent {
    return operatorEvent(this.deps.regionId, accountId, action, object, at);
  }

  /** Throws `auth.forbidden` naming the action unless the principal may perform it on the resource. */
  async authorize(principal: Principal, action: string, resource: string): Promise<void> {
    if (principal.userId === null) return;
    const policies = await this.deps.store.policiesOfUser(principal.userId);
    const { decision } = evaluate(
      policies.map((p) => p.document),
      action,
      resource,
    );
    if (decision !== 'allow') throw errors.forbidden(action);
  }

  private async requirePolicy(accountId: string, id: string): Promise<Policy> {
    const policy = await this.deps.store.findPolicy(accountId, id);
    if (!policy) throw errors.policyNotFound(id);
    return policy;
  }

  private async unique(write: () => Promise<void>, taken: () => Error): Promise<void> {
    try {
      await write();
    } catch (err) {
      throw err instanceof NameInUse ? taken() : err;
    }
  }
}
