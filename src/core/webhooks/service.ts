/**
 * Webhooks per account (`certplane webhook add|list|remove`): the URL must be http(s), the event
 * types certplane's own (`EVENT_TYPES`), and the secret is generated when none is given, returned
 * once, and sealed at rest like access key secrets.
 */
import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Sealer } from '../../kernel/sealer.js';
import { operatorEvent, type AuditEvent } from '../audit/ports.js';
import { EVENT_TYPES, type EventType } from '../events/model.js';
import { webhookSecretContext, type Webhook } from './model.js';
import type { WebhookStore } from './ports.js';

export interface WebhooksDeps {
  store: WebhookStore;
  clock: Clock;
  ids: IdGenerator;
  sealer: Sealer;
  requireAccount(accountId: string): Promise<unknown>;
  /** A new secret (default: 32 random bytes, hex). */
  newSecret(): string;
  /** Names the objects of the audit log (`certplane:{region}:{account}:…`). */
  regionId: string;
}

export interface NewWebhook {
  url: string;
  /** Empty or absent: every event type. */
  events?: readonly string[] | undefined;
  secret?: string | undefined;
}

const MAX_URL = 2048;

export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  async add(accountId: string, input: NewWebhook): Promise<{ webhook: Webhook; secret: string }> {
    const url = checkUrl(input.url);
    const events = checkEvents(input.events ?? []);
    const secret = input.secret ?? this.deps.newSecret();
    if (secret.length < 16 || secret.length > 256) throw errors.invalidParameter('secret', 'must be 16 to 256 characters');
    await this.deps.requireAccount(accountId);
    const webhook: Webhook = { id: this.deps.ids.hex32(), accountId, url, events, createdAt: this.deps.clock.now() };
    const audit = this.event(accountId, 'certplane:AddWebhook', webhook.id, webhook.createdAt);
    await this.deps.store.insert(webhook, this.deps.sealer.seal(secret, webhookSecretContext(webhook.id)), audit);
    return { webhook, secret };
  }

  async list(accountId: string): Promise<Webhook[]> {
    await this.deps.requireAccount(accountId);
    return this.deps.store.list(accountId);
  }

  async remove(accountId: string, id: string): Promise<void> {
    await this.deps.requireAccount(accountId);
    const audit = this.event(accountId, 'certplane:RemoveWebhook', id, this.deps.clock.now());
    if (!(await this.deps.store.remove(accountId, id, audit))) throw errors.webhookNotFound(id);
  }

  /** The operator's change (the CLI) to a webhook, as the audit log keeps it. */
  private event(accountId: string, action: string, id: string, at: Date): AuditEvent {
    return operatorEvent(this.deps.regionId, accountId, action, `webhook/${id}`, at);
  }

  /** For a delivery: the webhook and its opened secret; undefined once removed. */
  async withSecret(id: string): Promise<{ webhook: Webhook; secret: string } | undefined> {
    const found = await this.deps.store.findWithSecret(id);
    return found && { webhook: found.webhook, secret: this.deps.sealer.open(found.secretSealed, webhookSecretContext(id)) };
  }

  subscribers(accountId: string, type: EventType): Promise<Webhook[]> {
    return this.deps.store.subscribers(accountId, type);
  }
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw errors.invalidParameter('url', `${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw errors.invalidParameter('url', 'must be an http:// or https:// URL');
  if (url.username || url.password) throw errors.invalidParameter('url', 'must not carry credentials (the signature authenticates deliveries)');
  if (text.length > MAX_URL) throw errors.invalidParameter('url', `must be at most ${MAX_URL} characters`);
  return url.toString();
}

function checkEvents(events: readonly string[]): EventType[] {
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) throw errors.invalidParameter('events', `unknown event type ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
  return [...new Set(events)] as EventType[];
}
