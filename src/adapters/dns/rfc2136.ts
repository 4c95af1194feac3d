/**
 * The `rfc2136` DNS provider: dynamic updates (RFC 2136) signed with TSIG, as BIND, Knot, PowerDNS
 * and most authoritative servers accept them. A record is added to its RRset and removed as that
 * one RR (class NONE), so other values at the same name stay.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import {
  DnsProviderError,
  type DnsProvider,
  type DnsProviderCallOptions,
  type DnsRecordHandle,
  type TxtRecord,
} from '../../core/validation/ports.js';
import { describeServer, exchange, ExchangeFailed, parseServer, type DnsServer } from './exchange.js';
import { MalformedMessage } from './message.js';
import { signMessage, TsigFailure, verifyAnswer, type TsigAlgorithm, type TsigKey } from './tsig.js';

export interface Rfc2136Settings {
  /** The primary server: `IP:PORT` (port 53 when omitted). */
  server: string;
  tsigKeyName: string;
  tsigAlgorithm: TsigAlgorithm;
  /** base64 */
  tsigSecret: string;
  /** The zone to update; unset: found by asking the server for the SOA of the name and its parents. */
  zone?: string | undefined;
  /** Per UDP try, and for a whole TCP exchange (default 3000). */
  timeoutMs?: number | undefined;
}

const OPCODE_UPDATE = 5;
const CLASS_NONE = 254;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export class Rfc2136Provider implements DnsProvider {
  readonly type = 'rfc2136';
  private readonly server: DnsServer;
  private readonly key: TsigKey;
  private readonly zone: string | undefined;
  private readonly timeoutMs: number;

  constructor(
    settings: Rfc2136Settings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.server = parseServer(settings.server);
    this.key = { name: settings.tsigKeyName, algorithm: settings.tsigAlgorithm, secret: Buffer.from(settings.tsigSecret, 'base64') };
    this.zone = settings.zone?.replace(/\.$/, '').toLowerCase();
    this.timeoutMs = settings.timeoutMs ?? 3000;
  }

  async create(record: TxtRecord, options: DnsProviderCallOptions = {}): Promise<DnsRecordHandle> {
    const name = record.name.replace(/\.$/, '').toLowerCase();
    const zone = this.zone ?? (await this.findZone(name, options.signal));
    await this.update(zone, { ...record, name }, 'add', options.signal);
    return { provider: this.type, record: { ...record, name }, detail: { zone } };
  }

  async remove(handle: DnsRecordHandle, options: DnsProviderCallOptions = {}): Promise<void> {
    if (handle.provider !== this.type) {
      throw new DnsProviderError(`the record was made by the ${handle.provider} provider, not rfc2136: remove it there`, false);
    }
    const zone = handle.detail['zone'] ?? this.zone ?? (await this.findZone(handle.record.name, options.signal));
    await this.update(zone, handle.record, 'delete', options.signal);
  }

  /** The zone holding `name`: the first of the name and its parents the server has an SOA for. */
  private async findZone(name: string, signal: AbortSignal | undefined): Promise<string> {
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join('.');
      const query = dnsPacket.encode({ type: 'query', id: randomInt(0, 65_536), flags: 0, questions: [{ name: candidate, type: 'SOA', class: 'IN' }] });
      const answer = dnsPacket.decode(await this.send(query, signal));
      // An SOA answers for the name itself, or (NXDOMAIN, NODATA) names its zone in the authority section.
      const soa = [...(answer.answers ?? []), ...(answer.authorities ?? [])].find((r) => r.type === 'SOA');
      if (soa) return soa.name.replace(/\.$/, '').toLowerCase();
    }
    throw new DnsProviderError(`${describeServer(this.server)} serves no zone that holds ${name}: set dns01.zone or dns01.server`, false);
  }

  private async update(zone: string, record: TxtRecord, change: 'add' | 'delete', signal: AbortSignal | undefined): Promise<void> {
    const chunks = txtStrings(record.value);
    const message = dnsPacket.encode({
      type: 'query',
      id: randomInt(0, 65_536),
      flags: OPCODE_UPDATE << 11,
      questions: [{ name: zone, type: 'SOA', class: 'IN' }],
      authorities: [{ name: record.name, type: 'TXT', class: 'IN', ttl: change === 'add' ? record.ttl : 0, data: chunks }],
    });
    if (change === 'delete') {
      // "Delete an RR from an RRset" (RFC 2136 §2.5.4) is class NONE, which dns-packet cannot spell:
      // the record is the message's last, so its class sits just before TTL, RDLENGTH and RDATA.
      const rdataLength = chunks.reduce((sum, chunk) => sum + 1 + chunk.length, 0);
      message.writeUInt16BE(CLASS_NONE, message.length - rdataLength - 8);
    }
    const signed = signMessage(message, this.key, this.now());
    const answer = await this.send(signed.message, signal);
    const rcode = answer.readUInt16BE(2) & 0x0f;
    try {
      verifyAnswer(answer, this.key, signed.mac, this.now());
    } catch (err) {
      if (!(err instanceof TsigFailure || err instanceof MalformedMessage)) throw err;
      throw this.signatureProblem(err, rcode, zone);
    }
    if (rcode !== 0) throw this.refusal(rcode, zone, record, change);
  }

  private async send(message: Buffer, signal: AbortSignal | undefined): Promise<Buffer> {
    try {
      return await exchange(this.server, message, { timeoutMs: this.timeoutMs, signal });
    } catch (err) {
      if (err instanceof ExchangeFailed) throw new DnsProviderError(err.message, true, { cause: err });
      throw err;
    }
  }

  private signatureProblem(err: Error, rcode: number, zone: string): DnsProviderError {
    const server = describeServer(this.server);
    const code = err instanceof TsigFailure ? err.serverError : undefined;
    if (code === 'BADTIME') {
      return new DnsProviderError(`${server} refused the update: this machine's clock and the server's differ by more than 300 s`, false);
    }
    if (code !== undefined) {
      return new DnsProviderError(
        `${server} does not accept the TSIG key ${this.key.name} (${code}): check dns01.tsigKeyName, tsigAlgorithm and tsigSecret`,
        false,
      );
    }
    // An unsigned error answer is not proof of anything, but the update did not happen either way.
    if (rcode !== 0 && !(err instanceof MalformedMessage)) return this.refusal(rcode, zone);
    return new DnsProviderError(`${server}'s answer to the update of zone ${zone} is not trusted: ${err.message}`, false);
  }

  private refusal(rcode: number, zone: string, record?: TxtRecord, change?: string): DnsProviderError {
    const server = describeServer(this.server);
    const code = RCODES[rcode] ?? `RCODE ${rcode}`;
    const why: Record<string, string> = {
      REFUSED: `the key ${this.key.name} may not update zone ${zone}`,
      NOTAUTH: `the server is not authoritative (primary) for zone ${zone}`,
      NOTZONE: `${record?.name ?? 'the name'} is not inside zone ${zone}`,
      SERVFAIL: 'the server failed to apply it; it may succeed later',
    };
    const what = change ? `the ${change} of TXT ${record?.name}` : `the update of zone ${zone}`;
    return new DnsProviderError(`${server} refused ${what} (${code}): ${why[code] ?? 'see the server log'}`, code === 'SERVFAIL');
  }
}

/** A TXT value as character-strings of at most 255 bytes each (longer values are split, as publishers do). */
function txtStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let at = 0; at === 0 || at < bytes.length; at += 255) chunks.push(bytes.subarray(at, at + 255));
  return chunks;
}
