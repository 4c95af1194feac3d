/**
 * The client-cert bench's Node reference: cfssl's work and nothing more, done in Node by
 * certplane's PKI toolkit on a bare `node:http` server.
 *
 * `node dist/bench/_node-signer.js PORT PROCESSES CA_PEM CA_KEY_PEM` answers
 * `POST /api/v1/cfssl/sign` {certificate_request} as cfssl serve does: the CSR parsed and its
 * signature verified, a clientAuth certificate built from the profile template (the CA of the files
 * given, as cfssl's; CRL and OCSP URLs, 30 days), signed and checked, returned as PEM in cfssl's
 * JSON. No authentication, no storage, no audit, no framework: what a certificate from a CSR costs
 * in this runtime before anything certplane adds around it. PROCESSES > 1 runs that many
 * node:cluster workers on the one port (every core, as cfssl's Go runtime uses them).
 *
 * It prints `listening PORT` once every process listens; SIGTERM stops every process.
 */
import cluster from 'node:cluster';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CertificateTemplate, buildCheckedCertificateSync, issuerFromCertificate, newSerial, parseCsr } from '../src/pki/index.js';

const HOST = '127.0.0.1';
const DAY_MS = 24 * 3600_000;
const BACKDATE_MS = 60_000;
const MAX_BODY = 64 * 1024;

function template(caPemFile: string, caKeyFile: string): CertificateTemplate {
  const issuer = issuerFromCertificate(readFileSync(caPemFile, 'utf8'), createPrivateKey(readFileSync(caKeyFile)));
  const base = `http://${HOST}`;
  return new CertificateTemplate(issuer, { kind: 'clientAuth', crlUrl: `${base}/pki/crl/bench.crl`, ocspUrl: `${base}/pki/ocsp` });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sign(tpl: CertificateTemplate, body: string): string {
  const { certificate_request: csrPem } = JSON.parse(body) as { certificate_request?: unknown };
  if (typeof csrPem !== 'string') throw new Error('certificate_request: a PEM CSR');
  const csr = parseCsr(csrPem);
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const fields = { subject: csr.subjectName.der, subjectSpki: csr.publicKey.spki, serial: newSerial(), notBefore, notAfter: new Date(notBefore.getTime() + 30 * DAY_MS) };
  return buildCheckedCertificateSync(tpl, fields).pem;
}

function serve(port: number, tpl: CertificateTemplate, listening: () => void): void {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/api/v1/cfssl/sign') return answer(res, 404, { success: false, errors: [{ message: 'not found' }] });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return answer(res, 413, { success: false, errors: [{ message: 'body too large' }] });
      try {
        answer(res, 200, { success: true, result: { certificate: sign(tpl, Buffer.concat(chunks).toString('utf8')) }, errors: [], messages: [] });
      } catch (err) {
        answer(res, 400, { success: false, errors: [{ message: err instanceof Error ? err.message : String(err) }] });
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, HOST, listening);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

function main(): void {
  const port = Number(process.argv[2]);
  const processes = Number(process.argv[3]);
  const [caPemFile, caKeyFile] = process.argv.slice(4);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !caPemFile || !caKeyFile) throw new Error('usage: _node-signer PORT PROCESSES CA_PEM CA_KEY_PEM');
  if (!Number.isInteger(processes) || processes < 1 || processes > 64) throw new Error('PROCESSES: 1..64');
  if (cluster.isPrimary && processes > 1) {
    let listening = 0;
    for (let i = 0; i < processes; i++) {
      cluster.fork().on('message', (message) => {
        if (message === 'listening' && ++listening === processes) process.stdout.write(`listening ${port}\n`);
      });
    }
    process.once('SIGTERM', () => {
      cluster.on('exit', () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      });
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    });
    return;
  }
  serve(port, template(caPemFile, caKeyFile), () => (cluster.isPrimary ? process.stdout.write(`listening ${port}\n`) : process.send?.('listening')));
}

main();
