/**
 * The files a test pebble starts from: its JSON configuration, and the TLS material for its own API
 * (Debian ships none): a throwaway root and, signed by it, a `localhost`/`127.0.0.1` server certificate.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StartPebbleOptions } from './pebble.js';

export const OPENSSL = '/usr/bin/openssl';
export const HOST = '127.0.0.1';

export interface Ports {
  listen: number;
  management: number;
  http: number;
  tls: number;
}

export function pebbleConfig(dir: string, ports: Ports, options: StartPebbleOptions): Record<string, unknown> {
  const eab = options.externalAccountMacKeys;
  return {
    listenAddress: `${HOST}:${ports.listen}`,
    managementListenAddress: `${HOST}:${ports.management}`,
    certificate: join(dir, 'tls-server.pem'),
    privateKey: join(dir, 'tls-server.key'),
    httpPort: ports.http,
    tlsPort: ports.tls,
    ocspResponderURL: '',
    externalAccountBindingRequired: eab !== undefined,
    ...(eab !== undefined ? { externalAccountMACKeys: eab } : {}),
  };
}

/** A throwaway root and, signed by it, pebble's server certificate; returns the root's PEM. */
export function makeTlsMaterial(dir: string): string {
  const at = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const openssl = (args: string[]) => execFileSync(OPENSSL, args, { stdio: 'pipe' });
  openssl(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=certplane test pebble TLS root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
    '-keyout', at('tls-root.key'), '-out', at('tls-root.pem')]);
  openssl(['req', ...ec, '-subj', '/CN=localhost', '-keyout', at('tls-server.key'), '-out', at('tls-server.csr')]);
  writeFileSync(at('tls-server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', at('tls-server.csr'), '-CA', at('tls-root.pem'), '-CAkey', at('tls-root.key'),
    '-CAcreateserial', '-days', '2', '-extfile', at('tls-server.ext'), '-out', at('tls-server.pem')]);
  return readFileSync(at('tls-root.pem'), 'utf8');
}
