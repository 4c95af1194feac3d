/**
 * A real BIND 9 for tests: an authoritative-only `named` on 127.0.0.1 and a random port, in its own
 * temp dir, whose zones tests create and replace while it runs. Every zone accepts RFC 2136 updates
 * signed with `tsig`, so ACME dns-01 tests can talk to the same server.
 *
 * Zones are managed with `rndc addzone`/`delzone` over a private control channel. A replaced zone
 * is deleted and added again from a new file, because named ignores file changes of a dynamic zone
 * (and `rndc modzone` keeps the old contents). Every version of a zone carries a unique marker in
 * its SOA RNAME, so "the server now answers with this version" is checked over DNS, not guessed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { accessSync, closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort, HOST, logText, sleep, Supervised } from './supervised.js';

export type BindRecordType = 'NS' | 'TXT' | 'A' | 'AAAA' | 'CNAME';

export interface BindRecord {
  /** '@' (or '') for the apex, a name relative to the zone ('www'), or a name inside it ('www.example.test'). */
  name: string;
  type: BindRecordType;
  /** NS/CNAME: a host name (always absolute); TXT: the text, split into 255-byte strings when longer. */
  value: string;
  ttl?: number;
}

export interface TsigKey {
  name: string;
  algorithm: 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha384' | 'hmac-sha224' | 'hmac-sha1';
  /** base64 */
  secret: string;
}

export interface BindServer {
  /** '127.0.0.1:PORT', ready for NodeDnsResolver and node's Resolver.setServers. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Key accepted for dynamic updates (RFC 2136) on every zone. */
  readonly tsig: TsigKey;
  /** The keys of `extraKeys`, with their secrets: each also accepted for updates on every zone. */
  readonly extraKeys: readonly TsigKey[];
  /**
   * Serves `zone` with exactly these records (creating it, or replacing all of it) and resolves
   * once the server answers with them. Without an apex NS record, `ns.harness.invalid` is used.
   */
  addZone(zone: string, records: readonly BindRecord[]): Promise<void>;
  /** Like addZone, but the zone must exist already. */
  setRecords(zone: string, records: readonly BindRecord[]): Promise<void>;
  /** Stops serving `zone`: queries for it are REFUSED afterwards. */
  removeZone(zone: string): Promise<void>;
  /** Kills named and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartBindOptions {
  /** Where the server's temp dir is made (default: os.tmpdir()). */
  baseDir?: string;
  /** More update keys (e.g. other algorithms), by name and algorithm; each gets a random secret. */
  extraKeys?: ReadonlyArray<Pick<TsigKey, 'name' | 'algorithm'>>;
}

const TSIG_NAME = 'certplane-test';
const DEFAULT_NS = 'ns.harness.invalid.';
const WAIT_MS = 5000;
const run = promisify(execFile);

export async function startBind(options: StartBindOptions = {}): Promise<BindServer> {
  const bins = { named: findBinary('named'), rndc: findBinary('rndc') };
  if (bins.named === undefined || bins.rndc === undefined) {
    throw new Error('named not found: apt-get install bind9 bind9-utils');
  }
  const tools = { named: bins.named, rndc: bins.rndc };
  // Free ports are only probed, not held, so another process may take one before named binds it;
  // named then keeps running without that listener, so the clash is read from its log and retried.
  for (let attempt = 1; ; attempt++) {
    const extraKeys = (options.extraKeys ?? []).map((key) => ({ ...key, secret: secret() }));
    const server = new Bind(tools, options.baseDir ?? tmpdir(), extraKeys, ...(await freePorts()));
    try {
      await server.waitUntilRunning();
      return server;
    } catch (err) {
      await server.stop();
      if (!(err instanceof PortTaken) || attempt === 3) throw err;
    }
  }
}

class PortTaken extends Error {}

class Bind implements BindServer {
  readonly host = HOST;
  readonly address: string;
  readonly tsig: TsigKey = { name: TSIG_NAME, algorithm: 'hmac-sha256', secret: secret() };
  private readonly id = randomBytes(4).toString('hex');
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly process: Supervised;
  private readonly zones = new Set<string>();
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bins: { named: string; rndc: string },
    baseDir: string,
    readonly extraKeys: readonly TsigKey[],
    readonly port: number,
    controlPort: number,
  ) {
    this.address = `${HOST}:${port}`;
    this.dir = mkdtempSync(join(baseDir, 'certplane-bind-'));
    const rndcKey = `key "rndc" { algorithm hmac-sha256; secret "${secret()}"; };`;
    writeFileSync(this.file('named.conf'), namedConf(this.dir, port, controlPort, [this.tsig, ...extraKeys], rndcKey));
    writeFileSync(
      this.file('rndc.conf'),
      `${rndcKey}\noptions { default-server ${HOST}; default-port ${controlPort}; default-key "rndc"; };\n`,
    );
    // Logs go to a file rather than a pipe: nobody has to drain it, and it stays readable for errors.
    const log = openSync(this.file('named.log'), 'a');
    this.child = spawn(bins.named, ['-g', '-4', '-n', '1', '-c', this.file('named.conf')], {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    // A failed start is reported by waitUntilRunning through the exit and the log.
    this.process = new Supervised(this.child, this.dir, { comm: 'named' });
  }

  addZone(zone: string, records: readonly BindRecord[]): Promise<void> {
    return this.serially(() => this.install(zoneName(zone), records));
  }

  setRecords(zone: string, records: readonly BindRecord[]): Promise<void> {
    return this.serially(async () => {
      const origin = zoneName(zone);
      if (!this.zones.has(origin)) throw new Error(`zone ${origin} was never added`);
      await this.install(origin, records);
    });
  }

  removeZone(zone: string): Promise<void> {
    return this.serially(async () => {
      const origin = zoneName(zone);
      if (!this.zones.delete(origin)) return;
      await this.rndc('delzone', origin);
    });
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Resolves once named logs "running" and answers on its port. */
  async waitUntilRunning(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const log = this.log();
      if (/address in use/.test(log)) throw new PortTaken(`port ${this.port} is taken`);
      if (this.process.exited) {
        const hint = /permission denied/i.test(log)
          ? '\n(named could not use its temp dir; under AppArmor run `aa-complain /usr/sbin/named`)'
          : '';
        throw new Error(`named exited during start-up:\n${this.logTail()}${hint}`);
      }
      if (/ running$/m.test(log) && (await this.answers())) return;
      if (Date.now() > deadline) throw new Error(`named did not start within ${WAIT_MS} ms:\n${this.logTail()}`);
      await sleep(10);
    }
  }

  private async install(origin: string, records: readonly BindRecord[]): Promise<void> {
    const generation = ++this.generation;
    const marker = `g${generation}-${this.id}`;
    // A new file per version, so the old version's journal (<file>.jnl, holding RFC 2136 changes)
    // is not replayed into the new one; delzone runs without -clean so it cannot race this file.
    const file = this.file(`${origin}.${generation}.zone`);
    writeFileSync(file, renderZone(origin, records, marker, generation));
    if (this.zones.delete(origin)) await this.rndc('delzone', origin);
    const keys = [this.tsig, ...this.extraKeys].map((key) => `key "${key.name}";`).join(' ');
    await this.rndc('addzone', origin, `{ type primary; file "${file}"; allow-update { ${keys} }; };`);
    this.zones.add(origin);
    await this.waitForMarker(origin, marker);
  }

  private async waitForMarker(origin: string, marker: string): Promise<void> {
    const resolver = this.resolver();
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const soa = await resolver.resolveSoa(origin).catch(() => undefined);
      if (soa?.hostmaster.startsWith(`${marker}.`)) return;
      await sleep(5);
    }
    throw new Error(`named did not serve the new ${origin} within ${WAIT_MS} ms:\n${this.logTail()}`);
  }

  /** Any DNS answer, even REFUSED, proves named is listening; a refused or silent port does not. */
  private async answers(): Promise<boolean> {
    try {
      await this.resolver().resolveSoa('harness.invalid');
      return true;
    } catch (err) {
      return !['ECONNREFUSED', 'ETIMEOUT'].includes((err as { code?: string }).code ?? '');
    }
  }

  private async rndc(...args: string[]): Promise<void> {
    try {
      await run(this.bins.rndc, ['-c', this.file('rndc.conf'), ...args], { timeout: WAIT_MS });
    } catch (err) {
      const output = (err as { stderr?: string }).stderr?.trim() || String(err);
      throw new Error(`rndc ${args.slice(0, 2).join(' ')} failed: ${output}\n${this.logTail()}`);
    }
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private resolver(): Resolver {
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([this.address]);
    return resolver;
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private log(): string {
    return logText(this.file('named.log'));
  }

  private logTail(): string {
    return this.log().split('\n').filter((line) => !line.includes('built with')).slice(-25).join('\n');
  }

}

function namedConf(dir: string, port: number, controlPort: number, tsigKeys: readonly TsigKey[], rndcKey: string): string {
  const keys = tsigKeys.map((key) => `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`).join('\n');
  return `${keys}
${rndcKey}
controls { inet ${HOST} port ${controlPort} allow { ${HOST}; } keys { "rndc"; }; };
options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile none;
  listen-on port ${port} { ${HOST}; };
  listen-on-v6 { none; };
  // Without this, a second named silently shares the port (SO_REUSEPORT) instead of failing.
  reuseport no;
  automatic-interface-scan no;
  recursion no;
  dnssec-validation no;
  notify no;
  allow-new-zones yes;
};
`;
}

function renderZone(origin: string, records: readonly BindRecord[], marker: string, serial: number): string {
  const apex = `${origin}.`;
  const lines = [`$ORIGIN ${apex}`, `@ 60 IN SOA ${DEFAULT_NS} ${marker}.hostmaster.invalid. ${serial} 3600 600 86400 1`];
  // named refuses to load a zone without NS records at its apex.
  if (!records.some((r) => r.type === 'NS' && ownerName(origin, r.name) === apex)) lines.push(`@ 60 IN NS ${DEFAULT_NS}`);
  for (const r of records) lines.push(`${ownerName(origin, r.name)} ${r.ttl ?? 60} IN ${r.type} ${rdata(r)}`);
  return `${lines.join('\n')}\n`;
}

function ownerName(origin: string, name: string): string {
  const bare = name.trim().toLowerCase().replace(/\.$/, '');
  if (bare === '' || bare === '@' || bare === origin) return `${origin}.`;
  if (bare.endsWith(`.${origin}`)) return `${bare}.`;
  if (name.trim().endsWith('.')) throw new Error(`${name} is outside zone ${origin}`);
  return `${bare}.${origin}.`;
}

function rdata(record: BindRecord): string {
  switch (record.type) {
    case 'NS':
    case 'CNAME':
      return record.value.endsWith('.') ? record.value : `${record.value}.`;
    case 'A':
    case 'AAAA':
      if (net.isIP(record.value) !== (record.type === 'A' ? 4 : 6)) throw new Error(`bad ${record.type} ${record.value}`);
      return record.value;
    case 'TXT': {
      const bytes = Buffer.from(record.value, 'utf8');
      const strings = [];
      for (let i = 0; i === 0 || i < bytes.length; i += 255) strings.push(quoted(bytes.subarray(i, i + 255)));
      return strings.join(' ');
    }
  }
}

/** A zone-file character-string: printable ASCII as is, quotes and backslashes escaped, the rest \DDD. */
function quoted(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) text += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) text += String.fromCharCode(b);
    else text += `\\${String(b).padStart(3, '0')}`;
  }
  return `"${text}"`;
}

function zoneName(zone: string): string {
  const origin = zone.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(origin)) throw new Error(`bad zone name ${JSON.stringify(zone)}`);
  return origin;
}

function findBinary(name: string): string | undefined {
  // /usr/sbin is often missing from a non-root PATH, and named and rndc live there.
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Two distinct ports free right now: the first for DNS on UDP and TCP, the second for rndc (TCP). */
async function freePorts(): Promise<[number, number]> {
  for (;;) {
    const dns = await freeTcpPort();
    if (!(await udpFree(dns))) continue;
    const control = await freeTcpPort();
    if (control !== dns) return [dns, control];
  }
}


async function udpFree(port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  const bound = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, HOST, () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => socket.close(() => resolve()));
  return bound;
}


function secret(): string {
  return randomBytes(32).toString('base64');
}
