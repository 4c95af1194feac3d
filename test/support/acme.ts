/**
 * What an ACME test needs besides pebble: an http-01 responder on the port pebble connects to, a CSR
 * for a set of names (made by openssl from a node:crypto key), and a look at what openssl reads from an
 * issued certificate.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeCsr, opensslOk, pemToDer, type TestKey } from './pki.js';

export interface Http01Responder {
  readonly port: number;
  /**
   * Serves `body` at /.well-known/acme-challenge/<token>; with `changed`, only to the first
   * `changed.after` requests, then `changed.body` (a site whose file was replaced meanwhile).
   */
  set(token: string, body: string, changed?: { after: number; body: string }): void;
  remove(token: string): void;
  /** Host headers of the requests that fetched a token, in order. */
  readonly fetchedBy: string[];
  stop(): Promise<void>;
}

export async function startHttp01Responder(port: number): Promise<Http01Responder> {
  const tokens = new Map<string, { body: string; fetches: number; changed?: { after: number; body: string } | undefined }>();
  const fetchedBy: string[] = [];
  const server = http.createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    const file = token === undefined ? undefined : tokens.get(token);
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    fetchedBy.push(req.headers.host ?? '');
    const body = file.changed && file.fetches >= file.changed.after ? file.changed.body : file.body;
    file.fetches += 1;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    set: (token, body, changed) => void tokens.set(token, { body, fetches: 0, changed }),
    remove: (token) => void tokens.delete(token),
    fetchedBy,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TestCsr {
  key: TestKey;
  pem: string;
  der: Buffer;
}

/** A CSR for `names` (the first also as CN) with a fresh P-256 key. */
export function csrFor(names: string[]): TestCsr {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key: TestKey = {
    alg: 'p256',
    privateKey: pair.privateKey,
    pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
  const pem = makeCsr(key, { subject: `/CN=${names[0]}`, addext: [`subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`] });
  return { key, pem, der: pemToDer(pem, 'req') };
}

/** The DNS names openssl reads from a certificate's subjectAltName, sorted. */
export function sanNames(certPem: string): string[] {
  const text = opensslOk(['x509', '-noout', '-ext', 'subjectAltName'], certPem);
  return [...text.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!).sort();
}

/** The public key of a certificate, DER SPKI as openssl writes it. */
export function certificateSpki(certPem: string): Buffer {
  const pem = opensslOk(['x509', '-noout', '-pubkey'], certPem);
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
