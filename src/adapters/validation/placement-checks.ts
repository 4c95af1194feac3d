/**
 * Whether a user put a challenge's proof where the CA will look, checked the way the CA checks:
 * the TXT value at every authoritative server of the zone (RecordVisibility, one round), the
 * http-01 file over plain HTTP on port 80 of the name (redirects followed, as CAs do).
 */
import type { PlacementChecks } from '../../core/issuance/ports.js';
import { RecordNotVisible, type RecordVisibility } from '../../core/validation/ports.js';
import type { Clock } from '../../kernel/clock.js';

export interface PlacementChecksOptions {
  visibility: RecordVisibility;
  clock: Clock;
  /** The port http-01 files are fetched from (80; tests serve elsewhere). */
  httpPort?: number;
  /** How long one fetch may take (default 5 s). */
  timeoutMs?: number;
}

/** A CA reads at most this much of an http-01 answer; so do we. */
const MAX_BODY = 8192;

export class NetworkPlacementChecks implements PlacementChecks {
  constructor(private readonly options: PlacementChecksOptions) {}

  async txtVisible(name: string, value: string, signal?: AbortSignal): Promise<boolean> {
    try {
      // A deadline of now: one round of questions, no waiting.
      await this.options.visibility.waitFor(name, value, this.options.clock.now(), signal ? { signal } : {});
      return true;
    } catch (err) {
      if (err instanceof RecordNotVisible) return false;
      throw err;
    }
  }

  async httpServes(domain: string, token: string, keyAuthorization: string, signal?: AbortSignal): Promise<boolean> {
    const port = this.options.httpPort ?? 80;
    const host = domain.includes(':') ? `[${domain}]` : domain;
    const url = `http://${host}${port === 80 ? '' : `:${port}`}/.well-known/acme-challenge/${encodeURIComponent(token)}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    try {
      const response = await fetch(url, { redirect: 'follow', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (response.status !== 200) return false;
      const body = (await response.text()).slice(0, MAX_BODY);
      return body.trim() === keyAuthorization;
    } catch {
      signal?.throwIfAborted();
      // Not reachable, refused, timed out: not placed (yet).
      return false;
    }
  }
}
