/**
 * RecordVisibility by asking the zone's authoritative servers themselves. The zone's NS set and the
 * servers' addresses come from the configured resolver (`dnsResolver`); each address is then asked
 * directly, without recursion, so what a resolver cached earlier ("no such record") cannot hide a
 * record that is there, and a secondary still behind its primary is waited for.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { DnsUnavailable } from '../../core/sites/ports.js';
import { RecordNotVisible, type DnsProviderCallOptions, type RecordVisibility, type ServerAnswer } from '../../core/validation/ports.js';
import type { Clock } from '../../kernel/clock.js';
import { describeServer, exchange, ExchangeFailed, type DnsServer } from './exchange.js';
import type { NodeDnsResolver } from './resolver.js';

export interface AuthoritativeVisibilityOptions {
  /** Finds the zone's NS set and the nameservers' addresses. */
  resolver: Pick<NodeDnsResolver, 'resolveNs' | 'resolveAddresses'>;
  clock: Clock;
  /** Time between two rounds of questions. */
  intervalMs: number;
  /** The port the nameservers are asked on (53; tests run their servers elsewhere). */
  port?: number;
  /** How long one server gets to answer one question (default 2000 ms). */
  queryTimeoutMs?: number;
}

interface NameServer {
  label: string;
  address: DnsServer | undefined;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export class AuthoritativeVisibility implements RecordVisibility {
  private readonly port: number;
  private readonly queryTimeoutMs: number;

  constructor(private readonly options: AuthoritativeVisibilityOptions) {
    this.port = options.port ?? 53;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 2000;
  }

  async waitFor(name: string, value: string, deadline: Date, call: DnsProviderCallOptions = {}): Promise<void> {
    const owner = name.replace(/\.$/, '').toLowerCase();
    let servers: NameServer[] | undefined;
    let problem = '';
    let answers: ServerAnswer[] = [];
    for (;;) {
      try {
        servers ??= await this.nameServers(owner);
      } catch (err) {
        if (!(err instanceof DnsUnavailable || err instanceof NoNameServers)) throw err;
        problem = err.message;
      }
      // Every round asks with the full timeout, so the last one (at the deadline) reports real answers.
      if (servers) {
        answers = await Promise.all(servers.map((server) => this.ask(server, owner, value, this.queryTimeoutMs, call.signal)));
        if (answers.every((answer) => answer.visible)) return;
      }
      const remaining = deadline.getTime() - this.options.clock.now().getTime();
      if (remaining <= 0) throw new RecordNotVisible(owner, value, answers, servers ? undefined : problem);
      await sleep(Math.min(this.options.intervalMs, remaining), call.signal);
    }
  }

  /** Every address of every nameserver of the zone holding `name` (the closest name upwards with NS records). */
  private async nameServers(name: string): Promise<NameServer[]> {
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const zone = labels.slice(i).join('.');
      const hosts = await this.options.resolver.resolveNs(zone);
      if (hosts.length === 0) continue;
      const servers: NameServer[] = [];
      for (const host of [...new Set(hosts)].sort()) {
        const addresses = await this.options.resolver.resolveAddresses(host);
        if (addresses.length === 0) servers.push({ label: host, address: undefined });
        for (const address of addresses) servers.push({ label: `${host} (${address})`, address: { host: address, port: this.port } });
      }
      return servers;
    }
    throw new NoNameServers(`no zone above ${name} has NS records`);
  }

  private async ask(server: NameServer, name: string, value: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ServerAnswer> {
    const seen = (answer: string, visible = false): ServerAnswer => ({ server: server.label, answer, visible });
    if (!server.address) return seen('the nameserver has no address');
    // RD clear: an authoritative server answers from its own zone data, never from a cache.
    const query = dnsPacket.encode({ type: 'query', id: randomInt(0, 65_536), flags: 0, questions: [{ name, type: 'TXT', class: 'IN' }] });
    let raw: Buffer;
    try {
      raw = await exchange(server.address, query, { timeoutMs, tries: 1, signal });
    } catch (err) {
      if (err instanceof ExchangeFailed) return seen(`no answer within ${timeoutMs} ms from ${describeServer(server.address)}`);
      throw err;
    }
    const rcode = raw.readUInt16BE(2) & 0x0f;
    if (rcode !== 0) return seen(RCODES[rcode] ?? `RCODE ${rcode}`);
    let answer: ReturnType<typeof dnsPacket.decode>;
    try {
      answer = dnsPacket.decode(raw);
    } catch {
      return seen('a malformed answer');
    }
    if (!answer.flag_aa) return seen('not authoritative for the name (no AA flag)');
    const values = (answer.answers ?? [])
      .filter((record): record is dnsPacket.TxtAnswer => record.type === 'TXT' && record.name.toLowerCase() === name)
      .map((record) => txtValue(record.data));
    if (values.length === 0) return seen('no TXT record');
    return seen(`TXT ${values.map((v) => JSON.stringify(v)).join(', ')}`, values.includes(value));
  }
}

class NoNameServers extends Error {
  override readonly name = 'NoNameServers';
}

/** A TXT record's character-strings mean their concatenation. */
function txtValue(data: dnsPacket.TxtData): string {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
