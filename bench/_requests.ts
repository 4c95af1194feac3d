/**
 * The kinds of request bench/_load.ts can send, each checked once and then made afresh per request:
 * - `upload`: POST CreateCertificateV2 (Huawei REST dialect, token auth), a pool of chains sent in
 *   turn, every certificate with a unique name;
 * - `getsite`: GetSite (Alibaba RPC dialect), every request signed anew by the independent
 *   ACS3-HMAC-SHA256 signer of the tests (PreparedAcs3: the body and its hash made once), with a
 *   fresh nonce and the current date;
 * - `healthz`: `GET /healthz`, unauthenticated;
 * - `cfssl-sign`: POST /api/v1/cfssl/sign to Debian's `cfssl serve` (the reference signer of the
 *   client-cert bench), the same CSR every time: cfssl signs each with a fresh serial.
 * - `client-cert`: CreateClientCertificate (Alibaba RPC dialect, POST with a form body, signed anew
 *   each time), with the same CSR every time or with `PkeyType=ECC` (certplane makes the key).
 */
import { PreparedAcs3 } from '../test/support/acs3.js';

export interface UploadLoad {
  kind: 'upload';
  projectId: string;
  token: string;
  /** Distinct uploads (each a leaf + intermediate chain, PEM, and the leaf's key), sent in turn. */
  uploads: Array<{ chainPem: string; keyPem: string }>;
  /** Part of every certificate name: `b<run>_<worker>_<n>` (letters, digits, '_'). */
  run: string;
}

export interface GetSiteLoad {
  kind: 'getsite';
  siteId: number;
  accessKeyId: string;
  accessKeySecret: string;
}

export interface HealthzLoad {
  kind: 'healthz';
}

export interface CfsslSignLoad {
  kind: 'cfssl-sign';
  /** PKCS#10 CSR, PEM. */
  csrPem: string;
}

export interface ClientCertLoad {
  kind: 'client-cert';
  siteId: number;
  accessKeyId: string;
  accessKeySecret: string;
  /** PKCS#10 CSR, PEM; absent → `PkeyType=ECC`. */
  csrPem?: string;
  validityDays: number;
}

export type LoadKind = UploadLoad | GetSiteLoad | HealthzLoad | CfsslSignLoad | ClientCertLoad;

export interface OutgoingRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string | number>;
  body: string | Buffer | undefined;
}

/** Makes the `n`-th request of worker `worker`. */
export type RequestMaker = (worker: number, n: number) => OutgoingRequest;

const NAME = /^[A-Za-z][A-Za-z0-9_]{3,49}$/;
export const ESA_VERSION = '2024-09-10';

/** Checks the kind's fields (throws on a bad one) and returns its request maker. */
export function requestMaker(load: LoadKind, port: number, concurrency: number): RequestMaker {
  switch (load.kind) {
    case 'upload':
      return uploads(load, concurrency);
    case 'getsite':
      return getSite(load, port);
    case 'healthz':
      return () => ({ method: 'GET', path: '/healthz', headers: {}, body: undefined });
    case 'cfssl-sign':
      return cfsslSign(load);
    case 'client-cert':
      return clientCert(load, port);
    default:
      throw new Error(`kind: one of upload, getsite, healthz, cfssl-sign, client-cert, not ${JSON.stringify((load as { kind: unknown }).kind)}`);
  }
}

function uploads(load: UploadLoad, concurrency: number): RequestMaker {
  if (!/^[A-Za-z0-9_]{1,20}$/.test(load.run)) throw new Error('run: 1-20 letters, digits or _');
  if (!NAME.test(`b${load.run}_${concurrency}_${10_000_000}`)) throw new Error('run: names would be too long');
  if (!/^[\w-]+$/.test(load.projectId)) throw new Error('projectId: bad characters');
  if (typeof load.token !== 'string' || load.token === '') throw new Error('token: required');
  if (!Array.isArray(load.uploads) || load.uploads.length === 0) throw new Error('uploads: at least one');
  for (const u of load.uploads) {
    if (typeof u.chainPem !== 'string' || typeof u.keyPem !== 'string') throw new Error('uploads: chainPem and keyPem');
  }
  const path = `/v2/${load.projectId}/apigw/certificates`;
  // Everything after the name is fixed per upload: serialise each once.
  const tails = load.uploads.map((u) => JSON.stringify({ cert_content: u.chainPem, private_key: u.keyPem }).slice(1));
  let next = 0;
  return (worker, n) => {
    const body = `{"name":"b${load.run}_${worker}_${n}",${tails[next++ % tails.length]!}`;
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-auth-token': load.token };
    return { method: 'POST', path, headers, body };
  };
}

function getSite(load: GetSiteLoad, port: number): RequestMaker {
  if (!Number.isSafeInteger(load.siteId) || load.siteId <= 0) throw new Error('siteId: a positive integer');
  if (typeof load.accessKeyId !== 'string' || typeof load.accessKeySecret !== 'string') throw new Error('accessKeyId, accessKeySecret: required');
  const credentials = { accessKeyId: load.accessKeyId, accessKeySecret: load.accessKeySecret };
  const query = { SiteId: String(load.siteId) };
  const signer = new PreparedAcs3({ method: 'GET', host: `127.0.0.1:${port}`, action: 'GetSite', version: ESA_VERSION, query }, credentials);
  return () => {
    const signed = signer.sign();
    return { method: signed.method, path: signed.url, headers: signed.headers, body: undefined };
  };
}

function cfsslSign(load: CfsslSignLoad): RequestMaker {
  if (typeof load.csrPem !== 'string' || !load.csrPem.includes('CERTIFICATE REQUEST')) throw new Error('csrPem: a PEM CSR');
  const body = JSON.stringify({ certificate_request: load.csrPem });
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  return () => ({ method: 'POST', path: '/api/v1/cfssl/sign', headers, body });
}

function clientCert(load: ClientCertLoad, port: number): RequestMaker {
  if (!Number.isSafeInteger(load.siteId) || load.siteId <= 0) throw new Error('siteId: a positive integer');
  if (typeof load.accessKeyId !== 'string' || typeof load.accessKeySecret !== 'string') throw new Error('accessKeyId, accessKeySecret: required');
  if (load.csrPem !== undefined && !load.csrPem.includes('CERTIFICATE REQUEST')) throw new Error('csrPem: a PEM CSR');
  const credentials = { accessKeyId: load.accessKeyId, accessKeySecret: load.accessKeySecret };
  const form: Record<string, string> = { ValidityDays: String(load.validityDays), ...(load.csrPem ? { CSR: load.csrPem } : { PkeyType: 'ECC' }) };
  const query = { SiteId: String(load.siteId) };
  const signer = new PreparedAcs3({ method: 'POST', host: `127.0.0.1:${port}`, action: 'CreateClientCertificate', version: ESA_VERSION, query, form }, credentials);
  return () => {
    const signed = signer.sign();
    return { method: signed.method, path: signed.url, headers: { ...signed.headers, 'content-length': signed.body.length }, body: signed.body };
  };
}
