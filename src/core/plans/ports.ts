import type { PlanInstance } from './model.js';

export interface PlanStore {
  insertInstance(instance: PlanInstance): Promise<void>;
  findInstance(accountId: string, id: string): Promise<PlanInstance | undefined>;
}
