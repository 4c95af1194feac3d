/**
 * The expiry scan (`expiry.scan` job): `certificate.expiring` once per certificate when it enters
 * the expiring window, `certificate.expired` once when it ends. The store remembers when the last
 * scan ran (the watermark W); a scan at N looks only at the notAfter values that crossed a
 * threshold since W, through the notAfter indexes:
 *
 * - expiring: notAfter in (max(W + days, N), N + days], and certificates stored or replaced since W
 *   whose notAfter is already in (N, N + days] (an upload that arrives inside the window);
 * - expired: notAfter in (W, N].
 *
 * With no watermark yet (the first scan), every certificate in the window is reported expiring,
 * and those that ended within the last `days` expired. Each event's job is deduplicated
 * (`expiring:{serial}`), so repeated or concurrent scans never report one crossing twice, and the
 * watermark moves in the transaction that enqueues the events.
 */
import type { JsonValue, NewJob } from '../jobs/ports.js';
import { eventJob, type EventSubjectKind } from './model.js';

/** A certificate whose notAfter crossed a threshold. */
export interface Crossing {
  kind: 'expiring' | 'expired';
  accountId: string;
  subject: { kind: EventSubjectKind; id: string };
  serialNumber: string;
  commonName: string;
  names: string[];
  notAfter: Date;
  /** The ESA site of a site or client certificate. */
  siteId?: string | undefined;
}

export interface ScanResult {
  expiring: number;
  expired: number;
  /** The previous watermark (undefined on the first scan) and the new one. */
  from: Date | undefined;
  to: Date;
}

export interface ExpiryScanStore {
  /**
   * Reads the watermark, finds the crossings between it and `now`, inserts `jobsFor(crossing)` for
   * each (a page at a time, so a large scan never holds the database long), and then moves the
   * watermark to `now` (never backwards). A scan that stops half way moves nothing: the next one
   * finds the same crossings, and each job's idempotency key keeps it queued once.
   */
  scan(now: Date, expiringDays: number, jobFor: (crossing: Crossing) => NewJob): Promise<ScanResult>;
}

/** The `event.publish` job of a crossing, deduplicated by its kind and serial. */
export function crossingJob(crossing: Crossing, occurredAt: Date): NewJob {
  const data: { [key: string]: JsonValue } = {
    serialNumber: crossing.serialNumber,
    commonName: crossing.commonName,
    names: crossing.names,
    notAfter: crossing.notAfter.toISOString(),
    ...(crossing.siteId !== undefined ? { siteId: crossing.siteId } : {}),
  };
  return eventJob(
    {
      accountId: crossing.accountId,
      type: crossing.kind === 'expiring' ? 'certificate.expiring' : 'certificate.expired',
      subject: crossing.subject,
      occurredAt,
      data,
    },
    `${crossing.kind}:${crossing.serialNumber}`,
  );
}
