/**
 * Certificate events: what happened to a certificate that an account may want to hear about.
 * A producer never calls out: it puts an `event.publish` job (`eventJob`) into the transaction of
 * the change the event reports (`enqueueWith`), so the event exists exactly when the change does.
 * The job's handler fans it out to the account's webhooks, one `webhook.deliver` job each.
 */
import type { JsonValue, NewJob } from '../jobs/ports.js';

export const EVENT_TYPES = [
  'certificate.issued',
  'certificate.renewed',
  'certificate.renewal_failed',
  'certificate.expiring',
  'certificate.expired',
  'certificate.revoked',
  'deployment.succeeded',
  'deployment.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Which kind of certificate an event is about, and so which table `subjectId` names. */
export type EventSubjectKind = 'inventory' | 'site' | 'client' | 'client-ca' | 'issuance' | 'cas-order';

export interface CertificateEvent {
  accountId: string;
  type: EventType;
  subject: { kind: EventSubjectKind; id: string };
  /** When it happened (the clock of the change). */
  occurredAt: Date;
  /** Facts a receiver needs without calling back: serial, names, notAfter, reason… */
  data: { [key: string]: JsonValue };
}

export const EVENT_PUBLISH_JOB = 'event.publish';

/**
 * The job that publishes `event`. `dedupe` names this occurrence, so that publishing the same
 * occurrence twice (a retried run, two scanners) makes one event: e.g. the serial for `issued`,
 * `expiring:{serial}` for an expiry warning.
 */
export function eventJob(event: CertificateEvent, dedupe: string): NewJob {
  return {
    name: EVENT_PUBLISH_JOB,
    payload: {
      accountId: event.accountId,
      type: event.type,
      subject: { kind: event.subject.kind, id: event.subject.id },
      occurredAt: event.occurredAt.toISOString(),
      data: event.data,
    },
    idempotencyKey: `event:${event.type}:${event.subject.kind}:${event.subject.id}:${dedupe}`,
  };
}

export function parseEventPayload(payload: JsonValue): CertificateEvent {
  const p = payload as { accountId: string; type: EventType; subject: { kind: EventSubjectKind; id: string }; occurredAt: string; data: { [key: string]: JsonValue } };
  return { accountId: p.accountId, type: p.type, subject: p.subject, occurredAt: new Date(p.occurredAt), data: p.data };
}
