/**
 * Debian's nginx serving plain TLS from a deploy target's directory (`fullchain.pem`,
 * `privkey.pem`) on 127.0.0.1 and a free port, in its own temp dir, and the command line that
 * reloads it (`nginx -c … -p … -s reload`), which is what a deploy target runs. `handshake()` is
 * one `openssl s_client` connection: the serial of the certificate nginx presented, or the failure.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { NGINX } from './nginx.js';

const HOST = '127.0.0.1';

export interface TlsNginx {
  readonly port: number;
  /** argv-able command line a deploy target runs to reload this nginx. */
  readonly reloadCommand: string;
  handshake(): Promise<{ ok: true; serial: string } | { ok: false; output: string }>;
  /** Worker processes of the master now: after a reload, more than one while an old one drains. */
  workers(): number;
  errorLog(): string;
  stop(): Promise<void>;
}

export async function startTlsNginx(certificateDir: string): Promise<TlsNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'certplane-nginx-tls-'));
  const port = await freePort();
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
${user}
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  server {
    listen ${HOST}:${port} ssl;
    ssl_certificate ${certificateDir}/fullchain.pem;
    ssl_certificate_key ${certificateDir}/privkey.pem;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  const args = ['-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-p', dir];
  const child: ChildProcess = spawn(NGINX, args, { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone already
      }
      const force = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 3000);
      await exited;
      clearTimeout(force);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const nginx: TlsNginx = {
    port,
    reloadCommand: [NGINX, ...args, '-s', 'reload'].map((a) => `'${a}'`).join(' '),
    handshake: () => handshake(port),
    workers: () => (child.pid === undefined ? 0 : childrenOf(child.pid)),
    errorLog,
    stop,
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await nginx.handshake()).ok) return nginx;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not serve TLS on ${port}:\n${errorLog()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many processes have `pid` as their parent (from /proc: field 4 of each stat). */
function childrenOf(pid: number): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** One `openssl s_client` handshake (stdin closed: it ends once connected). */
function handshake(port: number): Promise<{ ok: true; serial: string } | { ok: false; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `${HOST}:${port}`], { timeout: 10_000 }, (err, stdout, stderr) => {
      const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(stdout)?.[0];
      if (err || !pem) {
        resolve({ ok: false, output: `${err?.message ?? ''}\n${stderr}` });
        return;
      }
      resolve({ ok: true, serial: new X509Certificate(pem).serialNumber.toLowerCase() });
    });
    child.stdin?.end();
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
