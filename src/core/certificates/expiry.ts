/**
 * How close a certificate is to its end, whatever its kind (uploaded, issued through ACME, client
 * certificate) and whichever dialect shows it: `valid` until `expiringDays` before its notAfter,
 * `expiring` from then on, `expired` from its notAfter on. Listing operations filter on it in SQL
 * through `expiryRange`, the same boundaries as a range of notAfter.
 */
export const EXPIRY_STATUSES = ['valid', 'expiring', 'expired'] as const;
export type ExpiryStatus = (typeof EXPIRY_STATUSES)[number];

const DAY_MS = 86_400_000;

/** The start of the expiring window of a certificate ending at `notAfter`. */
export function expiringFrom(notAfter: Date, expiringDays: number): Date {
  return new Date(notAfter.getTime() - expiringDays * DAY_MS);
}

export function expiryOf(notAfter: Date, now: Date, expiringDays: number): ExpiryStatus {
  const end = notAfter.getTime();
  if (end <= now.getTime()) return 'expired';
  return end <= now.getTime() + expiringDays * DAY_MS ? 'expiring' : 'valid';
}

/** What a listing filters on: the statuses asked for, at `now`, with the installation's window. */
export interface ExpiryFilter {
  statuses: readonly ExpiryStatus[];
  now: Date;
  expiringDays: number;
}

/** notAfter in (after, until]: an open bound is absent. */
export interface NotAfterRange {
  after?: Date | undefined;
  until?: Date | undefined;
}

/** The notAfter range of one status, as `expiryOf` draws it. */
export function expiryRange(status: ExpiryStatus, now: Date, expiringDays: number): NotAfterRange {
  const soon = new Date(now.getTime() + expiringDays * DAY_MS);
  switch (status) {
    case 'valid':
      return { after: soon };
    case 'expiring':
      return { after: now, until: soon };
    case 'expired':
      return { until: now };
  }
}

/**
 * The one range covering the statuses asked for, when they are adjacent (`valid`+`expiring` is
 * "not expired"); `undefined` for `valid`+`expired`, which no single range covers (callers then
 * OR the two ranges). An empty list asks for nothing to be filtered.
 */
export function expiryRanges(filter: ExpiryFilter): NotAfterRange[] {
  const wanted = EXPIRY_STATUSES.filter((s) => filter.statuses.includes(s));
  if (wanted.length === 0 || wanted.length === EXPIRY_STATUSES.length) return [{}];
  const ranges = wanted.map((s) => expiryRange(s, filter.now, filter.expiringDays));
  // Adjacent ranges (sorted from valid to expired, i.e. from late to early notAfter) merge into one.
  const merged: NotAfterRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && last.after !== undefined && range.until !== undefined && last.after.getTime() === range.until.getTime()) {
      last.after = range.after;
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}
