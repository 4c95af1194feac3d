/**
 * What proving control of a domain needs from the outside world: a DNS provider that publishes and
 * withdraws dns-01 TXT records, and a check that a published record is visible where the CA will
 * look, at every authoritative server of its zone.
 */

/** A TXT record to publish for a dns-01 challenge. */
// Type aliases rather than interfaces: they are JSON values as TypeScript sees them, so a handle
// goes into a job payload as it is.
export type TxtRecord = {
  /** Fully qualified owner name, lower-case, without the trailing dot: `_acme-challenge.www.example.com`. */
  name: string;
  type: 'TXT';
  value: string;
  /** Seconds. */
  ttl: number;
};

/**
 * What `create` added, as plain JSON: it is stored with the order so that another process, after a
 * restart, can remove exactly that record. Removing by handle never touches another order's value
 * published at the same name (two orders for `example.com` and `*.example.com` share one name).
 */
export type DnsRecordHandle = {
  /** The provider type that made it (`rfc2136`, `hook`): a handle is only consumed by that type. */
  provider: string;
  record: TxtRecord;
  /** What the provider needs besides the record to remove it (the zone the record went into). */
  detail: Record<string, string>;
};

export interface DnsProviderCallOptions {
  /** Aborts the call (the worker gave up on the job): the provider stops waiting and throws. */
  signal?: AbortSignal;
}

/**
 * A DNS provider, chosen by type from the `dns01` setting. Both calls are idempotent: creating a
 * record that exists, or removing one that is gone, succeeds, so a retried job may repeat them.
 */
export interface DnsProvider {
  /** `rfc2136`, `hook`. */
  readonly type: string;
  create(record: TxtRecord, options?: DnsProviderCallOptions): Promise<DnsRecordHandle>;
  remove(handle: DnsRecordHandle, options?: DnsProviderCallOptions): Promise<void>;
}

/** A provider call failed. `transient` failures (timeouts, a server in trouble) are worth retrying; others need the operator. */
export class DnsProviderError extends Error {
  override readonly name = 'DnsProviderError';
  constructor(
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Whether a published TXT value can be seen by the CA: asked of every authoritative server of the
 * zone directly, so neither a resolver's cache nor a lagging secondary makes the CA fail the challenge.
 */
export interface RecordVisibility {
  /**
   * Resolves once every authoritative server answers `name` with `value` among its TXT records,
   * asking again at the configured interval; throws RecordNotVisible, with each server's answer,
   * when a round at `deadline` still does not see it everywhere. `deadline` comes from the caller,
   * so a retried job keeps the deadline it started with.
   */
  waitFor(name: string, value: string, deadline: Date, options?: DnsProviderCallOptions): Promise<void>;
}

/** What one authoritative server said when last asked. */
export interface ServerAnswer {
  /** `ns1.example.com (192.0.2.53)`, or the nameserver alone when it has no address. */
  server: string;
  /** `TXT "a", "b"`, `NXDOMAIN`, `no TXT record`, `REFUSED`, `no answer within 2000 ms`… */
  answer: string;
  visible: boolean;
}

export class RecordNotVisible extends Error {
  override readonly name = 'RecordNotVisible';
  constructor(
    readonly recordName: string,
    readonly value: string,
    /** Each server's last answer; empty when the zone's nameservers could not be found. */
    readonly answers: ServerAnswer[],
    why?: string,
  ) {
    super(
      `TXT ${recordName} was not visible at every authoritative server in time` +
        (why ? `: ${why}` : answers.length > 0 ? `: ${answers.map((a) => `${a.server}: ${a.answer}`).join('; ')}` : ''),
    );
  }
}
