/**
 * Whether a user put a challenge's proof where the CA will look, checked the way the CA checks:
 * the TXT value at every authoritative server of the zone (RecordVisibility, one round), the
 * http-01 file over plain HTTP on port 80 of the name (redirects followed, as CAs do), the name
 * resolved through the configured resolver (`dnsResolver`) when there is one, as TXT lookups are.
 */
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import type { PlacementChecks } from '../../core/issuance/ports.js';
import { RecordNotVisible, type RecordVisibility } from '../../core/validation/ports.js';
import type { Clock } from '../../kernel/clock.js';

export interface PlacementChecksOptions {
  visibility: RecordVisibility;
  clock: Clock;
  /** The port http-01 files are fetched from (80; tests serve elsewhere). */
  httpPort?: number | undefined;
  /** How long one check may take, redirects included (default 5 s). */
  timeoutMs?: number;
  /** The addresses of a host name (the configured resolver's A, else AAAA records); absent: the system's resolver. */
  addresses?: ((host: string) => Promise<string[]>) | undefined;
}

/** A CA reads at most this much of an http-01 answer; so do we. */
const MAX_BODY = 8192;
/** Redirects followed, as Let's Encrypt follows them. */
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

export class NetworkPlacementChecks implements PlacementChecks {
  private readonly lookup: LookupFunction | undefined;

  constructor(private readonly options: PlacementChecksOptions) {
    this.lookup = options.addresses && lookupThrough(options.addresses);
  }

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
    let url = new URL(`http://${host}${port === 80 ? '' : `:${port}`}/.well-known/acme-challenge/${encodeURIComponent(token)}`);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const answer = await this.get(url, abort);
        if (REDIRECTS.has(answer.status) && answer.location !== undefined) {
          url = new URL(answer.location, url);
          continue;
        }
        return answer.status === 200 && answer.body.trim() === keyAuthorization;
      }
      return false;
    } catch {
      signal?.throwIfAborted();
      // Not reachable, refused, timed out: not placed (yet).
      return false;
    }
  }

  private get(url: URL, signal: AbortSignal): Promise<Answer> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`cannot follow a redirect to ${url.protocol}`));
    // Like a CA, a redirect to HTTPS is followed whatever certificate the site shows: the file proves control.
    const options = { signal, lookup: this.lookup, agent: false, rejectUnauthorized: false, headers: { accept: '*/*' } };
    return new Promise<Answer>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).get(url, options, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, location: response.headers.location, body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8') }),
        );
        response.on('error', reject);
      });
      request.on('error', reject);
    });
  }
}

/** A `lookup` for node:http answering from `addresses` (names only: node never looks up an IP literal). */
function lookupThrough(addresses: (host: string) => Promise<string[]>): LookupFunction {
  return (hostname, options, callback) => {
    addresses(hostname).then(
      (found) => {
        if (found.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        const entries = found.map((address) => ({ address, family: net.isIP(address) }));
        if (options.all) (callback as (err: null, all: typeof entries) => void)(null, entries);
        else callback(null, entries[0]!.address, entries[0]!.family);
      },
      (err: Error) => callback(err, '', 0),
    );
  };
}
