/**
 * The client side of the nginx harness: one GET through Debian's curl (OpenSSL), with or without a
 * client certificate, sorted into what an mTLS user can tell apart: a 200, nginx's 400 pages for a
 * refused or a missing client certificate, and a TLS handshake that failed. A refusal carries the
 * reason nginx logged ("certificate revoked", …), so a test can tell revocation from misconfiguration.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCredentials {
  /** The client certificate, PEM (followed by any intermediates to send). */
  certPem: string;
  /** Its private key, PEM (PKCS#8 or traditional). */
  keyPem: string;
}

export type ClientOutcome =
  /** nginx accepted the certificate; `serial` is what nginx saw ($ssl_client_serial, upper-case hex). */
  | { outcome: 'ok'; status: 200; serial: string; subject: string }
  /**
   * nginx's 400 "The SSL certificate error": the handshake completed, verification failed. `reason` is
   * the verify error nginx logged ("certificate revoked", "CRL has expired", "certificate status
   * request failed" for any OCSP trouble); `log` the lines nginx logged meanwhile (the OCSP detail).
   */
  | { outcome: 'certificate-error'; status: 400; reason: string | undefined; log: string[] }
  /** nginx's 400 "No required SSL certificate was sent". */
  | { outcome: 'no-certificate'; status: 400 }
  /**
   * TLS failed: the server refused the handshake or ended the connection with an alert (curl exit 35,
   * 56), or curl could not use the certificate and key it was given (58); curl's exit code and message.
   */
  | { outcome: 'handshake-failed'; curlExit: number; message: string }
  /** Any other HTTP answer. */
  | { outcome: 'other'; status: number; body: string };

export interface CurlRequest {
  url: string;
  /** Trusted as the server's certificate (--cacert). */
  serverCertPem: string;
  credentials: ClientCredentials | undefined;
  /** Added to curl's command line before the URL. */
  curlArgs: string[];
  /** Where the certificate, key and CA files are written for curl (removed after the request). */
  dir: string;
  /** nginx's error log so far; what it adds during the request names a refusal's reason. */
  errorLog: () => string;
}

/** curl exit codes that mean TLS failed: 35 handshake, 56 receive (a TLS 1.3 alert after the handshake), 58 client cert, 60 server cert, … */
const TLS_EXITS = new Set([35, 53, 54, 56, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91]);
const STATUS_MARK = '\n--harness-status:';

export async function curlRequest(req: CurlRequest): Promise<ClientOutcome> {
  const stem = join(req.dir, `curl-${randomBytes(6).toString('hex')}`);
  const files = { ca: `${stem}.ca.pem`, cert: `${stem}.cert.pem`, key: `${stem}.key.pem` };
  writeFileSync(files.ca, req.serverCertPem);
  const args = ['-q', '-sS', '--noproxy', '*', '--max-time', '20', '--cacert', files.ca, '-w', `${STATUS_MARK}%{http_code}`];
  if (req.credentials) {
    writeFileSync(files.cert, req.credentials.certPem);
    writeFileSync(files.key, req.credentials.keyPem, { mode: 0o600 });
    args.push('--cert', files.cert, '--key', files.key);
  }
  const logFrom = req.errorLog().length;
  try {
    const { code, stdout, stderr } = await run('/usr/bin/curl', [...args, ...req.curlArgs, req.url]);
    if (code !== 0) {
      const message = stderr.trim();
      if (code === 56 && !/SSL|alert|TLS/i.test(message)) throw new Error(`curl ${req.url} failed (exit ${code}): ${message}`);
      if (TLS_EXITS.has(code)) return { outcome: 'handshake-failed', curlExit: code, message };
      throw new Error(`curl ${req.url} failed (exit ${code}): ${message}`);
    }
    return classify(stdout, () => req.errorLog().slice(logFrom));
  } finally {
    for (const file of Object.values(files)) rmSync(file, { force: true });
  }
}

function classify(stdout: string, newLog: () => string): ClientOutcome {
  const at = stdout.lastIndexOf(STATUS_MARK);
  if (at < 0) throw new Error(`curl printed no status: ${stdout.slice(0, 300)}`);
  const body = stdout.slice(0, at);
  const status = Number(stdout.slice(at + STATUS_MARK.length));
  if (status === 200) {
    const field = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(body)?.[1] ?? '';
    return { outcome: 'ok', status, serial: field('serial'), subject: field('subject') };
  }
  if (status === 400 && body.includes('<title>400 The SSL certificate error</title>')) {
    // nginx logs the verification error (level info) before it answers.
    const log = newLog()
      .split('\n')
      .filter((line) => line !== '' && !/\[(notice|debug)\]/.test(line))
      .map((line) => line.replace(/^\S+ \S+ (\[\w+\]) \d+#\d+: (\*\d+ )?/, '$1 '));
    const reason = log.map((line) => /client SSL certificate verify error: (?:\(\d+:)?(.*?)\)? while /.exec(line)?.[1]).find(Boolean);
    return { outcome: 'certificate-error', status, reason, log };
  }
  if (status === 400 && body.includes('<title>400 No required SSL certificate was sent</title>')) {
    return { outcome: 'no-certificate', status };
  }
  return { outcome: 'other', status, body };
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
    });
  });
}
