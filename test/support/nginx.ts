/**
 * A real nginx for tests (Debian's, /usr/sbin/nginx): one HTTPS server on 127.0.0.1 and a free port,
 * in its own temp dir, that demands a client certificate from a given CA and checks its revocation
 * by CRL (`ssl_crl`, re-read on reload) or by OCSP (`ssl_ocsp`, asked on every handshake). Requests
 * go through real curl (./nginx-client.ts), so a test sees exactly what an mTLS user sees.
 *
 * Every configuration carries a generation number in a response header. reload() returns only once
 * the workers of the old configuration have exited and nginx answers with the new number: an old
 * worker still draining after SIGHUP would otherwise answer with the old CRL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curlRequest, type ClientCredentials, type ClientOutcome } from './nginx-client.js';
import { freeTcpPort, logText, sleep, Supervised } from './supervised.js';
import { crlPem, GENERATION_HEADER, HOST, makeServerCertificate, nginxConf, type Revocation } from './nginx-config.js';

export type { ClientCredentials, ClientOutcome } from './nginx-client.js';
export type { Revocation } from './nginx-config.js';

export const NGINX = '/usr/sbin/nginx';
const WAIT_MS = 10_000;

export interface StartNginxOptions {
  /** PEM of the CA certificate(s) whose clients are accepted (`ssl_client_certificate`). */
  clientCaPem: string;
  revocation: Revocation;
  /** Where the server's temp dir is made (default: os.tmpdir()). */
  baseDir?: string;
  /** CRL mode: the name of the CRL file in nginx's directory (default client.crl). */
  crlFile?: string;
}

export interface NginxServer {
  readonly port: number;
  /** `https://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The self-signed server certificate made at start (IP SAN 127.0.0.1): what a client trusts. */
  readonly serverCertPem: string;
  /** The file `ssl_crl` names (CRL mode), for tests that want to look at it. */
  readonly crlPath: string | undefined;
  /** Number of the configuration in effect; starts at 1, +1 per reload. */
  readonly generation: number;
  /**
   * Writes `crl` (if given) as the new CRL file, sends SIGHUP, and resolves once only workers of the
   * new configuration are left and nginx answers with its generation. Throws with nginx's log when
   * nginx rejects the new configuration (it then keeps serving the old one).
   */
  reload(options?: { crl?: string | Buffer }): Promise<void>;
  /**
   * One GET of `path` (default '/') through curl with this client certificate (none: no certificate
   * is offered); `curlArgs` are added to curl's command line (e.g. ['--tls-max', '1.2']).
   */
  request(credentials?: ClientCredentials, options?: { path?: string; curlArgs?: string[] }): Promise<ClientOutcome>;
  /** The master's pid and its workers' pids right now. */
  processes(): { master: number; workers: number[] };
  /** nginx's error log so far (level info: it names why a client certificate was refused). */
  errorLog(): string;
  /** `nginx -s reload` for this server, as argv: what an operator's reload command would be. */
  reloadArgv(): string[];
  /** Stops nginx (master and workers) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startNginx(options: StartNginxOptions): Promise<NginxServer> {
  for (const [tool, pkg] of [[NGINX, 'nginx'], ['/usr/bin/curl', 'curl'], ['/usr/bin/openssl', 'openssl']] as const) {
    try {
      accessSync(tool, constants.X_OK);
    } catch {
      throw new Error(`${tool} not found: apt-get install ${pkg}`);
    }
  }
  // A free port is only probed, not held: another process may take it first; nginx then exits
  // with "Address already in use", and the start is retried on another port.
  for (let attempt = 1; ; attempt++) {
    const server = new Nginx(options, options.baseDir ?? tmpdir(), await freeTcpPort());
    try {
      await server.waitUntilServing(1);
      return server;
    } catch (err) {
      await server.stop();
      if (!(err instanceof PortTaken) || attempt === 3) throw err;
    }
  }
}

class PortTaken extends Error {}

class Nginx implements NginxServer {
  readonly url: string;
  readonly serverCertPem: string;
  readonly crlPath: string | undefined;
  generation = 1;
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly process: Supervised;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: StartNginxOptions,
    baseDir: string,
    readonly port: number,
  ) {
    this.url = `https://${HOST}:${port}/`;
    this.dir = mkdtempSync(join(baseDir, 'certplane-nginx-'));
    this.serverCertPem = makeServerCertificate(this.dir);
    writeFileSync(this.file('client-ca.pem'), options.clientCaPem);
    this.crlPath = options.revocation.mode === 'crl' ? this.file(options.crlFile ?? 'client.crl') : undefined;
    if (options.revocation.mode === 'crl') writeFileSync(this.crlPath!, crlPem(options.revocation.crl));
    this.writeConfig();
    const log = openSync(this.file('startup.log'), 'a');
    // -e: errors before the config's error_log is read go here too, not to the build's default.
    this.child = spawn(NGINX, ['-e', this.file('error.log'), '-c', this.file('nginx.conf'), '-p', this.dir], {
      detached: true, // its own process group: stop() and the watchdog can reach the workers through it
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    // A failed start is reported by waitUntilServing through the exit and the log. The group leader
    // is nginx's master: its workers go with it.
    this.process = new Supervised(this.child, this.dir, { comm: 'nginx', group: true });
  }

  reload(options: { crl?: string | Buffer } = {}): Promise<void> {
    return this.serially(async () => {
      if (options.crl !== undefined) {
        if (!this.crlPath) throw new Error('reload({ crl }) needs an nginx started in CRL mode');
        writeFileSync(this.crlPath, crlPem(options.crl));
      }
      const before = this.processes().workers;
      const logFrom = this.errorLog().length;
      const next = this.generation + 1;
      this.writeConfig(next);
      this.child.kill('SIGHUP');
      await this.waitUntilServing(next, { before, logFrom });
      this.generation = next;
    });
  }

  request(credentials?: ClientCredentials, options: { path?: string; curlArgs?: string[] } = {}): Promise<ClientOutcome> {
    return curlRequest({
      url: new URL(options.path ?? '/', this.url).toString(),
      curlArgs: options.curlArgs ?? [],
      serverCertPem: this.serverCertPem,
      credentials,
      dir: this.dir,
      errorLog: () => this.errorLog(),
    });
  }

  processes(): { master: number; workers: number[] } {
    const master = this.child.pid ?? -1;
    return { master, workers: childrenOf(master) };
  }

  errorLog(): string {
    return logText(this.file('error.log'));
  }

  reloadArgv(): string[] {
    return [NGINX, '-s', 'reload', '-p', this.dir, '-c', this.file('nginx.conf'), '-e', this.file('error.log')];
  }

  /** SIGTERM: fast shutdown; the master stops its workers and exits after them (anything left is killed). */
  stop(): Promise<void> {
    return this.process.stop();
  }

  /**
   * Resolves once the old workers (`before`) have exited and nginx answers with `generation`; throws
   * when nginx exits, logs an [emerg] after `logFrom` (a rejected configuration), or takes too long.
   */
  async waitUntilServing(generation: number, since: { before: number[]; logFrom: number } = { before: [], logFrom: 0 }): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const log = this.errorLog().slice(since.logFrom);
      if (/Address already in use/.test(log)) throw new PortTaken(`port ${this.port} is taken`);
      if (this.process.exited) {
        throw new Error(`nginx exited:\n${this.logTail(since.logFrom)}`);
      }
      if (/\[emerg\]/.test(log)) throw new Error(`nginx refused configuration ${generation}:\n${this.logTail(since.logFrom)}`);
      const workers = this.processes().workers;
      const oldGone = workers.length > 0 && !workers.some((pid) => since.before.includes(pid));
      if (oldGone && (await probeGeneration(this.port)) === generation) return;
      if (Date.now() > deadline) {
        throw new Error(`nginx did not serve configuration ${generation} within ${WAIT_MS} ms (workers ${workers.join(',')}, old ${since.before.join(',')}):\n${this.logTail(since.logFrom)}`);
      }
      await sleep(10);
    }
  }

  private writeConfig(generation = 1): void {
    writeFileSync(this.file('nginx.conf'), nginxConf(this.dir, this.port, generation, this.options.revocation, this.crlPath));
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  private logTail(from = 0): string {
    const startup = logText(this.file('startup.log'));
    return (startup + this.errorLog().slice(from)).trim().split('\n').slice(-25).join('\n');
  }
}

/** The generation header of a request without a client certificate (nginx answers it with a 400). */
function probeGeneration(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: HOST, port, path: '/', rejectUnauthorized: false, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      const value = res.headers[GENERATION_HEADER];
      resolve(typeof value === 'string' ? Number(value) : undefined);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

/** Pids whose parent is `pid` (nginx's workers), from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(state[1]) === pid && state[0] !== 'Z') children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

