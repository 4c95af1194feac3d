import type { NewJob } from '../jobs/ports.js';
import type { DnsRecordHandle } from '../validation/ports.js';
import type { AuthorizationProgress, Issuance } from './model.js';
import type { Cleanup } from './ports.js';

/** Builds the job that removes a dns-01 record (`dns01.remove-record`), under an idempotency key naming the work. */
export type RemovalJob = (handle: DnsRecordHandle, idempotencyKey: string) => NewJob;

/** The key that makes removing one authorization's record one job, however often it is asked for. */
export function removalKey(issuanceId: string, authorizationUrl: string): string {
  return `dns01.remove:${issuanceId}:${authorizationUrl}`;
}

/**
 * What leaving the proving phase takes: every dns-01 record certplane created is removed (a job
 * each, retried until the provider confirms) and the http-01 tokens stop being served.
 */
export function cleanupOf(issuance: Pick<Issuance, 'id'>, authorizations: readonly AuthorizationProgress[], removal: RemovalJob): Cleanup {
  const jobs = authorizations
    .filter((authz) => authz.dnsHandle !== undefined)
    .map((authz) => removal(authz.dnsHandle as DnsRecordHandle, removalKey(issuance.id, authz.url)));
  return { jobs, dropHttp01Tokens: true };
}
