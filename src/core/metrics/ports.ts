/**
 * What the core tells the operator's monitoring: how issuances end. The core only reports; the
 * adapter (adapters/metrics/prometheus.ts) counts and exposes. The default reports nothing.
 */

/** `issue`: a first certificate; `renew`: an issuance that replaces an earlier one. */
export type IssuanceKind = 'issue' | 'renew';

/** How a finished issuance ended. */
export type IssuanceOutcome = 'valid' | 'invalid' | 'canceled';

export interface IssuanceFinished {
  kind: IssuanceKind;
  outcome: IssuanceOutcome;
  /** From the issuance's creation to its end. */
  durationSeconds: number;
}

export interface IssuanceMetrics {
  issuanceFinished(event: IssuanceFinished): void;
}

export const noIssuanceMetrics: IssuanceMetrics = {
  issuanceFinished: () => undefined,
};

/**
 * Which kind an issuance is. The one place that decides it: an issuance that names the one it
 * replaces is a renewal.
 */
export function issuanceKindOf(issuance: { replaces: string | undefined }): IssuanceKind {
  return issuance.replaces !== undefined ? 'renew' : 'issue';
}

/** Observes an issuance that just ended (the store's conditional write succeeded). */
export function reportFinished(
  metrics: IssuanceMetrics | undefined,
  issuance: { replaces: string | undefined; createdAt: Date },
  outcome: IssuanceOutcome,
  at: Date,
): void {
  if (!metrics) return;
  const durationSeconds = Math.max(0, (at.getTime() - issuance.createdAt.getTime()) / 1000);
  metrics.issuanceFinished({ kind: issuanceKindOf(issuance), outcome, durationSeconds });
}
