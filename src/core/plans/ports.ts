import type { AuditEvent } from '../audit/ports.js';
import type { PlanInstance } from './model.js';

export interface PlanStore {
  /** Stores the instance with its audit event, in one transaction. */
  insertInstance(instance: PlanInstance, audit: AuditEvent): Promise<void>;
  findInstance(accountId: string, id: string): Promise<PlanInstance | undefined>;
}
