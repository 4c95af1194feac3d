import { Resolver } from 'node:dns/promises';
import { DnsUnavailable, type DnsResolver } from '../../core/sites/ports.js';

export interface NodeDnsResolverOptions {
  /**
   * The resolver to ask: 'host:port', '[v6]:port' or a bare IP (port 53). The host must be an IP
   * address (node's Resolver does not resolve names for its own servers). Absent: the system
   * resolver from /etc/resolv.conf.
   */
  address?: string | undefined;
  /** c-ares' timeout for the first try, in ms; the whole lookup is also capped at timeoutMs × tries. */
  timeoutMs?: number;
  /** Attempts before giving up. */
  tries?: number;
}

// NXDOMAIN and NODATA: the resolver answered, there is just nothing there.
const EMPTY_ANSWER = new Set(['ENODATA', 'ENOTFOUND']);

// Codes that describe a malformed question rather than a resolver in trouble: a bug in the
// caller, so they surface as they are instead of being disguised as "try again later".
const CALLER_MISTAKES = new Set(['EBADNAME', 'EBADQUERY', 'EBADFAMILY', 'EBADSTR', 'EBADFLAGS', 'EBADHINTS']);

/** DnsResolver over node:dns (c-ares), asking one configured server or the system resolver. */
export class NodeDnsResolver implements DnsResolver {
  readonly description: string;
  private readonly address: string | undefined;
  private readonly timeoutMs: number;
  private readonly tries: number;

  constructor(options: NodeDnsResolverOptions = {}) {
    this.address = options.address?.trim() || undefined;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.tries = options.tries ?? 2;
    if (!(this.timeoutMs > 0) || !Number.isInteger(this.tries) || this.tries < 1) {
      throw new RangeError('timeoutMs must be > 0 and tries a positive integer');
    }
    // Fail at start-up, not at the first verification, when the address is not an IP[:port].
    const servers = this.newResolver().getServers();
    this.description = this.address ?? `system resolver (${servers.join(', ') || 'none configured'})`;
  }

  async resolveNs(name: string): Promise<string[]> {
    const hosts = await this.lookup('NS', name, (resolver) => resolver.resolveNs(name));
    return hosts.map((host) => host.toLowerCase().replace(/\.$/, ''));
  }

  async resolveTxt(name: string): Promise<string[]> {
    // A TXT record is a list of ≤255-byte strings only because of the wire format; SPF-style
    // values longer than that are split by publishers and mean the concatenation.
    const records = await this.lookup('TXT', name, (resolver) => resolver.resolveTxt(name));
    return records.map((chunks) => chunks.join(''));
  }

  /**
   * Addresses to reach `host` at: its IPv4 addresses, or its IPv6 ones when it has none (a host
   * without IPv6 connectivity would otherwise wait out every IPv6 address); [] when it has neither.
   */
  async resolveAddresses(host: string): Promise<string[]> {
    const v4 = await this.lookup('A', host, (resolver) => resolver.resolve4(host));
    if (v4.length > 0) return v4;
    return this.lookup('AAAA', host, (resolver) => resolver.resolve6(host));
  }

  private async lookup<T>(type: string, name: string, query: (resolver: Resolver) => Promise<T[]>): Promise<T[]> {
    // A fresh channel per lookup: nothing is remembered between two verification attempts (a user
    // who just fixed their zone must not see the old answer), and cancel() reaches only this query.
    const resolver = this.newResolver();
    // c-ares doubles its timeout between tries and rounds generously; this keeps the promise made
    // by the options: a dead resolver is reported after timeoutMs × tries at the latest.
    const budget = this.timeoutMs * this.tries;
    const deadline = setTimeout(() => resolver.cancel(), budget);
    try {
      return await query(resolver);
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && EMPTY_ANSWER.has(code)) return [];
      if (code === undefined || CALLER_MISTAKES.has(code)) throw err;
      const server = this.address ?? 'the system resolver';
      // Only our deadline cancels, so a cancelled lookup is a timeout as far as anyone can tell.
      if (code === 'ECANCELLED') {
        throw new DnsUnavailable(`${server} did not answer ${type} ${name} within ${budget} ms`, 'ETIMEOUT', {
          cause: err,
        });
      }
      throw new DnsUnavailable(`${server} could not answer ${type} ${name}: ${code}`, code, { cause: err });
    } finally {
      clearTimeout(deadline);
    }
  }

  private newResolver(): Resolver {
    const resolver = new Resolver({ timeout: this.timeoutMs, tries: this.tries });
    if (this.address !== undefined) resolver.setServers([this.address]);
    return resolver;
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
