/**
 * Debian's `cfssl serve` (package golang-cfssl) as the client-cert bench's reference signer: an
 * ECDSA P-256 CA made by certplane's PKI toolkit (profile clientCa, the CA certplane would run), a
 * signing profile like certplane's client certificates (digitalSignature, clientAuth, CRL and OCSP
 * URLs, 30 days), on a free 127.0.0.1 port. Before any load, one CSR is signed through the API and
 * the answer checked: it chains to the CA, carries the CSR's key and is for client authentication.
 */
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCertificate, issuerFromKey, newSerial, parseCsr } from '../src/pki/index.js';
import { spawnPeer, stopPeer } from './_harness.js';

export const CFSSL = '/usr/bin/cfssl';
const HOST = '127.0.0.1';
const DAY = 24 * 3600_000;
const START_MS = 10_000;
const KP_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** The Node reference signer (bench/_node-signer.ts), compiled beside this file. */
const NODE_SIGNER_JS = join(dirname(fileURLToPath(import.meta.url)), '_node-signer.js');

export interface CfsslServer {
  port: number;
  /** For the load's CPU sampling. */
  pid: number | undefined;
  /** cfssl's last log lines, for a failure report. */
  logs(): string[];
  stop(): Promise<void>;
}

/** Throws, saying which package to install, when cfssl is missing. */
export function requireCfssl(): void {
  try {
    accessSync(CFSSL, constants.X_OK);
  } catch {
    throw new Error(`${CFSSL} not found: apt-get install golang-cfssl`);
  }
}

/** Starts cfssl serve and signs `csrPem` once through its API, checking the certificate; throws when cfssl is missing or misbehaves. */
export async function startCfssl(csrPem: string): Promise<CfsslServer> {
  requireCfssl();
  return startSigner('cfssl serve', csrPem, (dir, port) => [
    CFSSL,
    // -loglevel 2 (warnings): certplane serve runs at warn in the benches too; info logs every request.
    ['serve', '-address', HOST, '-port', String(port), '-ca', join(dir, 'ca.pem'), '-ca-key', join(dir, 'ca-key.pem'), '-config', join(dir, 'config.json'), '-loglevel', '2'],
  ]);
}

/**
 * Starts the Node reference signer (bench/_node-signer.ts: cfssl's API and work on a bare node:http
 * server, certplane's PKI toolkit, no authentication or storage) in `processes` processes with the
 * same kind of CA as cfssl's, and checks one signature as for cfssl.
 */
export async function startNodeSigner(csrPem: string, processes: number): Promise<CfsslServer> {
  return startSigner('node signer', csrPem, (dir, port) => [
    process.execPath,
    [NODE_SIGNER_JS, String(port), String(processes), join(dir, 'ca.pem'), join(dir, 'ca-key.pem')],
  ]);
}

async function startSigner(name: string, csrPem: string, command: (dir: string, port: number) => [string, string[]]): Promise<CfsslServer> {
  const dir = mkdtempSync(join(tmpdir(), 'certplane-cfssl-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const caPem = writeCa(dir);
  const port = await freeTcpPort();
  const logFile = join(dir, 'signer.log');
  const [file, args] = command(dir, port);
  const child = spawnPeer(file, args, logFile);
  const logs = (): string[] => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-10);
    } catch {
      return [];
    }
  };
  try {
    await waitForPort(name, child, port, logs);
    await checkOneSignature(name, port, csrPem, caPem);
  } catch (err) {
    await stopPeer(child);
    throw err;
  }
  return { port, pid: child.pid, logs, stop: () => stopPeer(child) };
}

/** The P-256 CA (certificate, SEC1 key) and the signing configuration, written into `dir`; returns the CA PEM. */
function writeCa(dir: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = issuerFromKey(privateKey, { organization: 'certplane bench', commonName: 'cfssl reference client CA' });
  const now = Date.now();
  const ca = buildCertificate(issuer, { kind: 'clientCa' }, { serial: newSerial(), notBefore: new Date(now - 3600_000), notAfter: new Date(now + 365 * DAY) });
  writeFileSync(join(dir, 'ca.pem'), ca.pem);
  writeFileSync(join(dir, 'ca-key.pem'), privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  const profile = {
    expiry: '720h',
    usages: ['digital signature', 'client auth'],
    crl_url: `http://${HOST}:8080/pki/crl/1.crl`,
    ocsp_url: `http://${HOST}:8080/pki/ocsp`,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ signing: { default: profile } }));
  return ca.pem;
}

async function waitForPort(name: string, child: ChildProcess, port: number, logs: () => string[]): Promise<void> {
  const deadline = Date.now() + START_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited:\n${logs().join('\n')}`);
    if (await connects(port)) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within ${START_MS} ms:\n${logs().join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function checkOneSignature(name: string, port: number, csrPem: string, caPem: string): Promise<void> {
  const res = await fetch(`http://${HOST}:${port}/api/v1/cfssl/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ certificate_request: csrPem }),
  });
  const answer = (await res.json()) as { success?: boolean; result?: { certificate?: string }; errors?: unknown };
  const pem = answer.result?.certificate;
  if (res.status !== 200 || answer.success !== true || typeof pem !== 'string') {
    throw new Error(`${name} answered ${res.status}: ${JSON.stringify(answer).slice(0, 500)}`);
  }
  const cert = new X509Certificate(pem);
  const ca = new X509Certificate(caPem);
  const csrKey = parseCsr(csrPem).publicKey.spki;
  const problems = [
    !cert.checkIssued(ca) || !cert.verify(ca.publicKey) ? 'it does not chain to the CA' : '',
    !cert.publicKey.export({ type: 'spki', format: 'der' }).equals(csrKey) ? "it does not carry the CSR's key" : '',
    !(cert.keyUsage ?? []).includes(KP_CLIENT_AUTH) ? 'it is not for client authentication' : '',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${name} signed a certificate, but ${problems.join('; ')}:\n${pem}`);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
