import type { JsonValue, NewJob } from '../core/jobs/ports.js';
import type { DnsProvider, DnsRecordHandle } from '../core/validation/ports.js';
import type { JobHandler } from './handler.js';

export const REMOVE_DNS_RECORD = 'dns01.remove-record';

/**
 * `dns01.remove-record`: withdraws a dns-01 record through the configured provider, the payload
 * being the handle `create` returned. Enqueued when a record is no longer needed (validated, or the
 * order failed), it is retried until the provider confirms, so no challenge record is left behind
 * by a provider outage or a crash. Removing a record that is gone already succeeds.
 */
export function removeDnsRecord(provider: DnsProvider): JobHandler<DnsRecordHandle> {
  return {
    name: REMOVE_DNS_RECORD,
    parse: parseHandle,
    run: async (handle, { signal }) => {
      await provider.remove(handle, { signal });
    },
  };
}

/** The job that removes `handle`'s record; `idempotencyKey` names the work (e.g. the authorization it served). */
export function removeDnsRecordJob(handle: DnsRecordHandle, idempotencyKey?: string): NewJob {
  return { name: REMOVE_DNS_RECORD, payload: handle, idempotencyKey };
}

function parseHandle(payload: JsonValue): DnsRecordHandle {
  const handle = payload as Partial<DnsRecordHandle> | null;
  const record = handle?.record;
  const valid =
    typeof handle?.provider === 'string' &&
    typeof handle.detail === 'object' &&
    handle.detail !== null &&
    Object.values(handle.detail).every((value) => typeof value === 'string') &&
    typeof record?.name === 'string' &&
    record.type === 'TXT' &&
    typeof record.value === 'string' &&
    Number.isInteger(record.ttl);
  if (!valid) throw new Error('not a DNS record handle');
  return handle as DnsRecordHandle;
}
