/**
 * When a certificate is renewed. Pure functions over the clock's now and an injected random source
 * (a number in [0, 1)), so the policy is tested without I/O.
 *
 * - With ACME Renewal Information (RFC 9773): a uniformly random time inside the CA's suggested
 *   window; if that time has passed, now. The CA is asked again no sooner than its Retry-After, so
 *   the next look is the earlier of the chosen time and the next check.
 * - Without: at two thirds of the lifetime after notBefore, moved by a random amount of up to a
 *   24th of the lifetime either way (±3.75 days for 90 days), so certificates issued together are
 *   renewed spread over days, not in one minute.
 * - A failed renewal is tried again after 1 h, 2 h, 4 h … at most a day, and never later than the
 *   old certificate's notAfter less a margin; a CA's Retry-After is honoured on top.
 */

import type { RenewalInfo } from '../acme/model.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;


/** What the scan does about a certificate whose time came. */
export type RenewalDecision =
  | { renewNow: true }
  /** Look again at `nextLookAt`; with ARI, the CA is not asked again before `nextCheckAt` (its Retry-After). */
  | { renewNow: false; nextLookAt: Date; nextCheckAt?: Date | undefined };

/** RFC 9773 §4.3.3: clients should not check more often than this, nor rely on a longer Retry-After. */
export const ARI_MIN_RECHECK_MS = 60_000;
export const ARI_MAX_RECHECK_MS = DAY_MS;
/** When the CA sends no Retry-After: RFC 9773 suggests checking about twice a day. */
export const ARI_DEFAULT_RECHECK_MS = 6 * HOUR_MS;

/** A uniformly random time in [start, end]; `random` in [0, 1). */
export function timeInWindow(window: { start: Date; end: Date }, random: () => number): Date {
  const start = window.start.getTime();
  const span = Math.max(0, window.end.getTime() - start);
  return new Date(start + Math.floor(random() * (span + 1)));
}

/**
 * With ARI: renew now when the chosen time has come; otherwise look again at the chosen time or
 * at the next check (Retry-After, clamped to a minute … a day), whichever is first. Reaching the
 * chosen time before the next check means renewing then, without asking again.
 */
export function decideWithAri(info: RenewalInfo, now: Date, random: () => number): RenewalDecision {
  const chosen = timeInWindow(info.suggestedWindow, random);
  if (chosen.getTime() <= now.getTime()) return { renewNow: true };
  const recheck = clamp(info.retryAfterMs ?? ARI_DEFAULT_RECHECK_MS, ARI_MIN_RECHECK_MS, ARI_MAX_RECHECK_MS);
  const nextCheckAt = new Date(now.getTime() + recheck);
  return { renewNow: false, nextLookAt: new Date(Math.min(chosen.getTime(), nextCheckAt.getTime())), nextCheckAt };
}

/** Without ARI: notBefore + 2/3 of the lifetime, ± lifetime/24 at random. */
export function renewAtWithoutAri(validity: { notBefore: Date; notAfter: Date }, random: () => number): Date {
  const notBefore = validity.notBefore.getTime();
  const lifetime = Math.max(0, validity.notAfter.getTime() - notBefore);
  const jitter = (random() * 2 - 1) * (lifetime / 24);
  return new Date(Math.round(notBefore + (lifetime * 2) / 3 + jitter));
}

/**
 * When a renewal that failed `failures` times in a row (1 after the first) is tried again:
 * 1 h · 2^(failures−1) up to a day, no sooner than the CA's Retry-After, and no later than a
 * twelfth of the lifetime before notAfter (so the last tries happen while the old one still serves),
 * and, close to expiry, every quarter of an hour rather than in a loop.
 */
/** The shortest wait between two renewal attempts of one certificate. */
export const MIN_RETRY_MS = 15 * 60_000;

export function retryAfterFailure(failures: number, now: Date, validity: { notBefore: Date; notAfter: Date }, caRetryAt?: Date): Date {
  const backoff = Math.min(DAY_MS, HOUR_MS * 2 ** Math.max(0, failures - 1));
  let at = now.getTime() + backoff;
  if (caRetryAt !== undefined) at = Math.max(at, caRetryAt.getTime());
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  const latest = validity.notAfter.getTime() - Math.max(HOUR_MS, lifetime / 12);
  at = Math.min(at, latest);
  return new Date(Math.max(at, now.getTime() + MIN_RETRY_MS));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
