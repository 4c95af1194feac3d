import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import { operatorEvent } from '../audit/ports.js';
import type { PlanDefinition, PlanInstance } from './model.js';
import type { PlanStore } from './ports.js';

export interface PlansDeps {
  store: PlanStore;
  catalogue: Record<string, PlanDefinition>;
  clock: Clock;
  ids: IdGenerator;
  requireAccount(accountId: string): Promise<unknown>;
  /** Names the objects of the audit log (`certplane:{region}:{account}:…`). */
  regionId: string;
}

/** The configured plan catalogue and the plan instances granted to accounts. */
export class PlansService {
  constructor(private readonly deps: PlansDeps) {}

  definition(plan: string): PlanDefinition {
    const found = Object.hasOwn(this.deps.catalogue, plan) ? this.deps.catalogue[plan] : undefined;
    if (!found) throw errors.planNotFound(plan);
    return found;
  }

  async grant(accountId: string, plan: string): Promise<PlanInstance> {
    this.definition(plan);
    await this.deps.requireAccount(accountId);
    const instance: PlanInstance = {
      id: `esa-site-${this.deps.ids.hex32().slice(0, 16)}`,
      accountId,
      plan,
      createdAt: this.deps.clock.now(),
    };
    await this.deps.store.insertInstance(instance, operatorEvent(this.deps.regionId, accountId, 'certplane:GrantPlan', `plan-instance/${instance.id}`, instance.createdAt));
    return instance;
  }

  async requireInstance(accountId: string, id: string): Promise<{ instance: PlanInstance; definition: PlanDefinition }> {
    const instance = await this.deps.store.findInstance(accountId, id);
    if (!instance) throw errors.planInstanceNotFound(id);
    return { instance, definition: this.definition(instance.plan) };
  }
}
