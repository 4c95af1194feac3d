import type { EventType } from '../events/model.js';
import type { Webhook } from './model.js';

export interface WebhookStore {
  insert(webhook: Webhook, secretSealed: string): Promise<void>;
  list(accountId: string): Promise<Webhook[]>;
  /** The webhook with its sealed secret; undefined once removed. */
  findWithSecret(id: string): Promise<{ webhook: Webhook; secretSealed: string } | undefined>;
  /** False when the account has no such webhook. */
  remove(accountId: string, id: string): Promise<boolean>;
  /** The account's webhooks that want events of `type`. */
  subscribers(accountId: string, type: EventType): Promise<Webhook[]>;
}
