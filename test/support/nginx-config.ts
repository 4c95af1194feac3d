/**
 * What the nginx harness (./nginx.ts) writes into its temp dir: nginx.conf for one HTTPS server that
 * demands a client certificate and checks its revocation, the CRL file, and a throwaway server
 * certificate. Every configuration names its generation in a response header, so the harness can
 * tell which configuration answered.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const HOST = '127.0.0.1';
export const GENERATION_HEADER = 'x-harness-generation';

/** How nginx checks that a client certificate is not revoked. */
export type Revocation =
  /** `ssl_crl`: the CRL (PEM, or DER as buildCrl makes it) is written to a file nginx reads at start and on reload. */
  | { mode: 'crl'; crl: string | Buffer }
  /** `ssl_ocsp on` with `ssl_ocsp_responder URL` and no OCSP cache: every full handshake asks the responder. */
  | { mode: 'ocsp'; responderUrl: string }
  /** Chain and validity only. */
  | { mode: 'none' };

export function nginxConf(dir: string, port: number, generation: number, revocation: Revocation, crlPath: string | undefined): string {
  const checks = {
    crl: [`ssl_crl ${crlPath};`],
    // No OCSP cache (off is also the default): nothing is remembered, each handshake asks anew.
    ocsp: revocation.mode === 'ocsp' ? ['ssl_ocsp on;', `ssl_ocsp_responder ${revocation.responderUrl};`, 'ssl_ocsp_cache off;'] : [],
    none: [],
  }[revocation.mode];
  // As root, nginx would switch its workers to `nobody`, who cannot enter the temp dir: keep our user.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : '';
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
${user}
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  default_type text/plain;
  server {
    listen ${HOST}:${port} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;
    ssl_client_certificate ${dir}/client-ca.pem;
    ssl_verify_client on;
    # A resumed session would skip the client certificate checks: every request is a full handshake.
    ssl_session_cache off;
    ssl_session_tickets off;
    ${checks.join('\n    ')}
    # On every response, nginx's own 400s included: which configuration answered.
    add_header ${GENERATION_HEADER} ${generation} always;
    location / { return 200 "serial=$ssl_client_serial\\nsubject=$ssl_client_s_dn\\n"; }
  }
}
`;
}

/** PEM for ssl_crl (nginx reads CRL files as PEM only). */
export function crlPem(crl: string | Buffer): string {
  if (typeof crl === 'string') return crl;
  const lines = crl.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}

/** A throwaway self-signed P-256 server certificate for 127.0.0.1, written as server.pem and server.key. */
export function makeServerCertificate(dir: string): string {
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=IP:${HOST}`,
    '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.pem'),
  ], { stdio: 'pipe' });
  return readFileSync(join(dir, 'server.pem'), 'utf8');
}
