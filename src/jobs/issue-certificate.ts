import type { IssuanceEngine } from '../core/issuance/engine.js';
import { ISSUE_JOB } from '../core/issuance/model.js';
import type { JsonValue } from '../core/jobs/ports.js';
import { PermanentJobFailure } from '../core/jobs/ports.js';
import type { JobHandler } from './handler.js';

export interface IssuePayload {
  issuanceId: string;
}

/**
 * `acme.issue`: works an issuance as far as it can go now (IssuanceEngine.run), and comes back at
 * the time the engine names while the CA validates or a user's proof is not in place yet. A run
 * that fails on the job's last attempt ends the issuance `invalid` with that failure, so no
 * issuance is left applying after its job gave up.
 */
export function issueCertificate(engine: IssuanceEngine): JobHandler<IssuePayload> {
  return {
    name: ISSUE_JOB,
    parse: parsePayload,
    run: async ({ issuanceId }, { signal, attempt, maxAttempts }) => {
      try {
        return await engine.run(issuanceId, signal);
      } catch (err) {
        if (attempt < maxAttempts || signal.aborted) throw err;
        await engine.giveUp(issuanceId, err);
        throw new PermanentJobFailure(`the issuance failed on the job's last attempt: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

function parsePayload(payload: JsonValue): IssuePayload {
  const issuanceId = (payload as { issuanceId?: unknown } | null)?.issuanceId;
  if (typeof issuanceId !== 'string' || issuanceId === '') throw new Error('the payload names no issuanceId');
  return { issuanceId };
}
