import type { PlanDefinition } from '../../config/config.js';

export type { PlanDefinition };

/** An account's subscription to a plan: the `InstanceId` a site is created on. */
export interface PlanInstance {
  id: string;
  accountId: string;
  plan: string;
  createdAt: Date;
}
