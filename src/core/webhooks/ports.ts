import type { AuditEvent } from '../audit/ports.js';
import type { EventType } from '../events/model.js';
import type { Webhook } from './model.js';

/** Every change is stored with its audit event, in the same transaction. */
export interface WebhookStore {
  insert(webhook: Webhook, secretSealed: string, audit: AuditEvent): Promise<void>;
  list(accountId: string): Promise<Webhook[]>;
  /** The webhook with its sealed secret; undefined once removed. */
  findWithSecret(id: string): Promise<{ webhook: Webhook; secretSealed: string } | undefined>;
  /** False when the account has no such webhook. */
  remove(accountId: string, id: string, audit: AuditEvent): Promise<boolean>;
  /** The account's webhooks that want events of `type`. */
  subscribers(accountId: string, type: EventType): Promise<Webhook[]>;
}
