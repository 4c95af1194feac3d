import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EventType } from '../events/model.js';

/**
 * An account's webhook: where its certificate events are POSTed, which types it wants (none
 * listed: all), and the secret its deliveries are signed with (sealed at rest, shown once).
 */
export interface Webhook {
  id: string;
  accountId: string;
  url: string;
  /** Empty: every event type. */
  events: EventType[];
  createdAt: Date;
}

export function wants(webhook: Pick<Webhook, 'events'>, type: EventType): boolean {
  return webhook.events.length === 0 || webhook.events.includes(type);
}

/** Context the secret is sealed under. */
export function webhookSecretContext(id: string): string {
  return `webhook_secret:${id}`;
}

/**
 * `X-Certplane-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
 * A receiver recomputes v1 over the raw body it got and refuses a `t` too far from its clock.
 */
export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Whether `header` signs `body` under `secret` within `toleranceSeconds` of `nowSeconds` (what a receiver checks). */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

/** The JSON body of one delivery. */
export interface WebhookPayload {
  /** The event's id: the same across retries and across the account's webhooks. */
  id: string;
  type: EventType;
  occurredAt: string;
  accountId: string;
  subject: { kind: string; id: string };
  data: Record<string, unknown>;
}
