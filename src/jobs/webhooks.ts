/**
 * `event.publish` fans an event out to the account's webhooks that want its type: one
 * `webhook.deliver` job each (idempotency key `webhook.deliver:{event job}:{webhook}`, so a
 * publish run repeated after a crash enqueues nothing twice). `webhook.deliver` POSTs the signed
 * JSON payload; any answer but 2xx, a network error or the timeout throws, and the worker retries
 * with its backoff until the job's attempts (`webhookMaxAttempts`) are spent.
 */
import { EVENT_PUBLISH_JOB, EVENT_TYPES, parseEventPayload, type CertificateEvent } from '../core/events/model.js';
import type { JobQueue, JsonValue } from '../core/jobs/ports.js';
import { signatureHeader, type WebhookPayload } from '../core/webhooks/model.js';
import type { WebhooksService } from '../core/webhooks/service.js';
import type { Clock } from '../kernel/clock.js';
import type { JobHandler } from './handler.js';

export const WEBHOOK_DELIVER_JOB = 'webhook.deliver';

export function publishEvent(deps: { webhooks: WebhooksService; jobs: JobQueue; maxAttempts: number }): JobHandler<CertificateEvent> {
  return {
    name: EVENT_PUBLISH_JOB,
    parse(payload: JsonValue): CertificateEvent {
      const event = parseEventPayload(payload);
      const valid =
        typeof event.accountId === 'string' &&
        (EVENT_TYPES as readonly string[]).includes(event.type) &&
        typeof event.subject?.id === 'string' &&
        typeof event.subject.kind === 'string' &&
        !Number.isNaN(event.occurredAt.getTime()) &&
        typeof event.data === 'object' &&
        event.data !== null;
      if (!valid) throw new Error('not a certificate event');
      return event;
    },
    async run(event, { jobId }) {
      const payload: WebhookPayload = {
        id: jobId,
        type: event.type,
        occurredAt: event.occurredAt.toISOString(),
        accountId: event.accountId,
        subject: event.subject,
        data: event.data,
      };
      for (const webhook of await deps.webhooks.subscribers(event.accountId, event.type)) {
        await deps.jobs.enqueue({
          name: WEBHOOK_DELIVER_JOB,
          payload: { webhookId: webhook.id, event: payload as unknown as JsonValue },
          idempotencyKey: `webhook.deliver:${jobId}:${webhook.id}`,
          maxAttempts: deps.maxAttempts,
        });
      }
    },
  };
}

interface Delivery {
  webhookId: string;
  event: WebhookPayload;
}

export function deliverWebhook(deps: { webhooks: WebhooksService; clock: Clock; timeoutMs: number }): JobHandler<Delivery> {
  return {
    name: WEBHOOK_DELIVER_JOB,
    parse(payload: JsonValue): Delivery {
      const p = payload as Partial<Delivery> | null;
      if (typeof p?.webhookId !== 'string' || typeof p.event !== 'object' || p.event === null || typeof p.event.id !== 'string') {
        throw new Error('not a webhook delivery');
      }
      return p as Delivery;
    },
    async run({ webhookId, event }, { jobId, signal, logger }) {
      const found = await deps.webhooks.withSecret(webhookId);
      // A webhook removed since the event was published gets nothing.
      if (!found) return;
      const body = JSON.stringify(event);
      const t = Math.floor(deps.clock.now().getTime() / 1000);
      let status: number;
      try {
        const res = await fetch(found.webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'certplane-webhook',
            'x-certplane-event': event.type,
            'x-certplane-delivery': jobId,
            'x-certplane-signature': signatureHeader(found.secret, t, body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
        });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        throw new Error(`webhook ${webhookId}: ${found.webhook.url} could not be reached: ${(err as Error).message}`, { cause: err });
      }
      if (status < 200 || status > 299) throw new Error(`webhook ${webhookId}: ${found.webhook.url} answered HTTP ${status}`);
      logger.debug({ webhookId, event: event.id, status }, 'webhook delivered');
    },
  };
}
