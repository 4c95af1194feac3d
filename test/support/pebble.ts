/**
 * A real ACME server for tests: Debian's pebble (/usr/bin/pebble) on 127.0.0.1 and free ports, in its
 * own temp dir, one per test file. Debian ships no TLS certificate for pebble's own API, so each start
 * makes a throwaway root and a `localhost`/`127.0.0.1` server certificate with openssl; clients trust
 * that root through `caBundlePath`. The certificates pebble issues chain to another root, pebble's own,
 * which it makes at start and serves on its management port (`roots()`).
 *
 * Validation is real: for http-01 pebble resolves the name through `dnsServer` and connects to
 * `httpPort` there (the test runs its responder on that port); for dns-01 it asks `dnsServer` for the
 * TXT record. `PEBBLE_VA_NOSLEEP=1` removes pebble's random validation delay; nonce rejection stays at
 * pebble's default (5% of good nonces answered with badNonce), so every client under test must retry.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPorts, logText, sleep, Supervised } from './supervised.js';
import { HOST, makeTlsMaterial, OPENSSL, pebbleConfig, type Ports } from './pebble-config.js';

export const PEBBLE = '/usr/bin/pebble';
const WAIT_MS = 10_000;
const run = promisify(execFile);

export interface StartPebbleOptions {
  /** `HOST:PORT` of the DNS server pebble resolves every name through (`-dnsserver`): a test BIND. */
  dnsServer?: string;
  /** Port pebble connects to for http-01 (default: a port free right now, see PebbleServer.httpPort). */
  httpPort?: number;
  /** Port pebble connects to for tls-alpn-01 (default: a port free right now; nothing listens there). */
  tlsPort?: number;
  /** EAB key id → HMAC key (base64url): when given, pebble requires external account binding. */
  externalAccountMacKeys?: Record<string, string>;
  /** PEBBLE_AUTHZREUSE, the percentage of new orders that reuse a valid authorization (default 0). */
  authzReusePercent?: number;
  /** Where the server's temp dir is made (default: os.tmpdir()). */
  baseDir?: string;
}

export interface PebbleRoots {
  /** Pebble's issuing root(s), PEM: what an issued chain must verify against. */
  roots: string[];
  /** The intermediate(s) under them, PEM (issued chains carry them too). */
  intermediates: string[];
}

export interface PebbleServer {
  /** `https://127.0.0.1:PORT/dir`. */
  readonly directoryUrl: string;
  /** `https://127.0.0.1:PORT`, pebble's management API. */
  readonly managementUrl: string;
  /** PEM file of the throwaway root pebble's own TLS certificate chains to. */
  readonly caBundlePath: string;
  /** The same root, PEM text. */
  readonly caBundlePem: string;
  readonly httpPort: number;
  readonly tlsPort: number;
  /** Pebble's process id. */
  readonly pid: number;
  /** Pebble's issuing root and intermediate, from its management API (`/roots/0`, `/intermediates/0`). */
  roots(): Promise<PebbleRoots>;
  /**
   * Runs `openssl verify` on a downloaded chain (leaf first) against pebble's root, the rest of the
   * chain given as untrusted intermediates; resolves with openssl's output, rejects with it on failure.
   */
  verifyChain(chainPem: string): Promise<string>;
  /** Pebble's log so far. */
  log(): string;
  /** Kills pebble and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startPebble(options: StartPebbleOptions = {}): Promise<PebbleServer> {
  for (const [tool, pkg] of [[PEBBLE, 'pebble'], [OPENSSL, 'openssl']] as const) {
    try {
      accessSync(tool, constants.X_OK);
    } catch {
      throw new Error(`${tool} not found: apt-get install ${pkg}`);
    }
  }
  // Free ports are only probed, not held: another process may take one before pebble binds it;
  // pebble then exits with "address already in use" and the start is retried on other ports.
  for (let attempt = 1; ; attempt++) {
    const [listen, management, http, tls] = await freeTcpPorts(4);
    const ports = { listen: listen!, management: management!, http: options.httpPort ?? http!, tls: options.tlsPort ?? tls! };
    const server = new Pebble(options, options.baseDir ?? tmpdir(), ports);
    try {
      await server.waitUntilServing();
      return server;
    } catch (err) {
      await server.stop();
      if (!(err instanceof PortTaken) || attempt === 3) throw err;
    }
  }
}

class PortTaken extends Error {}

class Pebble implements PebbleServer {
  readonly directoryUrl: string;
  readonly managementUrl: string;
  readonly caBundlePath: string;
  readonly caBundlePem: string;
  readonly httpPort: number;
  readonly tlsPort: number;
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly process: Supervised;

  get pid(): number {
    return this.child.pid ?? -1;
  }

  constructor(options: StartPebbleOptions, baseDir: string, ports: Ports) {
    this.directoryUrl = `https://${HOST}:${ports.listen}/dir`;
    this.managementUrl = `https://${HOST}:${ports.management}`;
    this.httpPort = ports.http;
    this.tlsPort = ports.tls;
    this.dir = mkdtempSync(join(baseDir, 'certplane-pebble-'));
    this.caBundlePath = this.file('tls-root.pem');
    this.caBundlePem = makeTlsMaterial(this.dir);
    writeFileSync(this.file('pebble.json'), JSON.stringify({ pebble: pebbleConfig(this.dir, ports, options) }, null, 2));
    const args = ['-config', this.file('pebble.json')];
    if (options.dnsServer !== undefined) args.push('-dnsserver', options.dnsServer);
    const log = openSync(this.file('pebble.log'), 'a');
    this.child = spawn(PEBBLE, args, {
      cwd: this.dir,
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: String(options.authzReusePercent ?? 0) },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    // A failed start is reported by waitUntilServing through the exit and the log.
    this.process = new Supervised(this.child, this.dir, { comm: 'pebble' });
  }

  async roots(): Promise<PebbleRoots> {
    const [root, intermediate] = await Promise.all([this.management('/roots/0'), this.management('/intermediates/0')]);
    return { roots: [root], intermediates: [intermediate] };
  }

  async verifyChain(chainPem: string): Promise<string> {
    const certs = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    if (certs.length === 0) throw new Error('no certificate in the chain');
    const { roots } = await this.roots();
    const scratch = mkdtempSync(join(this.dir, 'verify-'));
    try {
      writeFileSync(join(scratch, 'roots.pem'), roots.join('\n'));
      writeFileSync(join(scratch, 'leaf.pem'), `${certs[0]}\n`);
      writeFileSync(join(scratch, 'untrusted.pem'), certs.slice(1).join('\n') + '\n');
      const args = ['verify', '-x509_strict', '-CAfile', join(scratch, 'roots.pem')];
      if (certs.length > 1) args.push('-untrusted', join(scratch, 'untrusted.pem'));
      try {
        const { stdout } = await run(OPENSSL, [...args, join(scratch, 'leaf.pem')]);
        return stdout;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        throw new Error(`openssl verify failed: ${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  log(): string {
    return logText(this.file('pebble.log'));
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Resolves once pebble says it listens and its directory answers over TLS with the throwaway root. */
  async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const log = this.log();
      if (/address already in use/.test(log)) throw new PortTaken('a port was taken');
      if (this.process.exited) {
        throw new Error(`pebble exited during start-up:\n${this.logTail()}`);
      }
      if (/ACME directory available/.test(log) && /Management interface listening/.test(log)) {
        const answered = await get(this.directoryUrl, this.caBundlePem).then(() => true, () => false);
        if (answered) return;
      }
      if (Date.now() > deadline) throw new Error(`pebble did not start within ${WAIT_MS} ms:\n${this.logTail()}`);
      await sleep(20);
    }
  }

  private management(path: string): Promise<string> {
    return get(`${this.managementUrl}${path}`, this.caBundlePem);
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private logTail(): string {
    return this.log().split('\n').slice(-25).join('\n');
  }
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

