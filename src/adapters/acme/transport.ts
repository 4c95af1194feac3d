/**
 * How the adapter talks HTTP to a CA: acme-client's HttpClient (JWS signing, EAB, the directory
 * cache, the badNonce retry) with three things changed, each by overriding one method:
 *
 * - `request`: its HTTP goes through node:http(s) with one keep-alive agent per directory instead of
 *   acme-client's module-wide axios instance. That agent carries the directory's own CA bundle (no
 *   global TLS or axios defaults are touched), and every reply is handed back as it came: axios'
 *   interceptor there would sleep 5–25 s on a 5xx or, on a 429, for as long as Retry-After says, inside
 *   one request of a worker. Here the status and Retry-After reach the caller, who can reschedule.
 * - `signedRequest`: takes the nonce from the `Replay-Nonce` of an earlier response when there is
 *   one, instead of a HEAD to newNonce before every signed request (half of acme-client's requests).
 * - `getNonce`/`getResourceUrl`: their plain Errors become AcmeUnavailable.
 */
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import HttpClient, { type AcmeHttpResponse } from 'acme-client/src/http.js';
import { AcmeProblem, AcmeUnavailable } from '../../core/acme/problem.js';
import type { AcmeDirectory, ExternalAccountBinding } from '../../core/acme/model.js';
import { problemFrom } from './wire.js';

const USER_AGENT = 'certplane (acme-client 5.4)';
/** Nonces kept per directory: enough for the requests in flight; older ones may have expired at the CA. */
const NONCE_POOL_SIZE = 64;

/** One request as it went, for metrics and the benchmark's request count. */
export interface AcmeRequestEvent {
  method: 'GET' | 'HEAD' | 'POST';
  url: string;
  status: number;
  ms: number;
}

export interface ConnectionOptions {
  requestTimeoutMs: number;
  onRequest?: ((event: AcmeRequestEvent) => void) | undefined;
}

/** One CA directory as this process talks to it: its agent, and the nonces its replies handed out. */
export class Connection {
  readonly url: string;
  private readonly agent: http.Agent;
  private readonly nonces: string[] = [];

  constructor(
    directory: AcmeDirectory,
    private readonly options: ConnectionOptions,
  ) {
    this.url = directory.url;
    const common = { keepAlive: true, maxSockets: 64 };
    this.agent = this.url.startsWith('https:')
      ? new https.Agent({ ...common, ...(directory.caBundlePem !== undefined ? { ca: directory.caBundlePem } : {}) })
      : new http.Agent(common);
  }

  takeNonce(): string | undefined {
    return this.nonces.pop();
  }

  keepNonce(nonce: string): void {
    this.nonces.push(nonce);
    if (this.nonces.length > NONCE_POOL_SIZE) this.nonces.shift();
  }

  /** One HTTP exchange; the body parsed as JSON when the CA says it is JSON. */
  async send(url: string, method: AcmeRequestEvent['method'], body?: string): Promise<AcmeHttpResponse> {
    const started = performance.now();
    const response = await exchange(this.agent, url, method, body, this.options.requestTimeoutMs);
    this.options.onRequest?.({ method, url, status: response.status, ms: performance.now() - started });
    return response;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** acme-client's HttpClient for one account key at one directory, over a Connection. */
export class AcmeHttp extends HttpClient {
  constructor(
    private readonly connection: Connection,
    accountKey: KeyObject,
    externalAccountBinding?: ExternalAccountBinding,
  ) {
    // A KeyObject rather than PEM: acme-client hands it to createSign and createPublicKey, which
    // take either, and the key is then parsed once instead of at every signature.
    super(connection.url, accountKey, externalAccountBinding ? { kid: externalAccountBinding.keyId, hmacKey: externalAccountBinding.hmacKey } : {});
  }

  override async request(url: string, method: string, opts: { data?: unknown } = {}): Promise<AcmeHttpResponse> {
    const verb = method.toUpperCase() as AcmeRequestEvent['method'];
    const response = await this.connection.send(url, verb, opts.data === undefined ? undefined : JSON.stringify(opts.data));
    // The directory (GET) and newNonce (HEAD) have nothing to retry: a refusal there ends the call.
    if (verb !== 'POST' && response.status >= 400) throw problemFrom(response, url);
    const nonce = response.headers['replay-nonce'];
    // HEAD's nonce goes straight to the request that asked for it, a badNonce reply's to its retry.
    if (nonce && verb !== 'HEAD' && !isBadNonce(response)) this.connection.keepNonce(nonce);
    return response;
  }

  override signedRequest(
    url: string,
    payload: unknown,
    opts: { kid?: string | null; nonce?: string | null; includeExternalAccountBinding?: boolean } = {},
    attempts = 0,
  ): Promise<AcmeHttpResponse> {
    const nonce = opts.nonce ?? this.connection.takeNonce() ?? null;
    return super.signedRequest(url, payload, { ...opts, nonce }, attempts);
  }

  override async getNonce(): Promise<string> {
    return unexpected(() => super.getNonce());
  }

  override async getResourceUrl(resource: string): Promise<string> {
    return unexpected(() => super.getResourceUrl(resource));
  }

  /** A resource URL of the directory, or undefined when the CA does not offer it (`renewalInfo`). */
  async optionalResourceUrl(resource: string): Promise<string | undefined> {
    const directory = await unexpected(() => super.getDirectory());
    const url = directory[resource];
    return typeof url === 'string' && url !== '' ? url : undefined;
  }
}

function isBadNonce(response: AcmeHttpResponse): boolean {
  return response.status === 400 && (response.data as { type?: unknown } | null)?.type === 'urn:ietf:params:acme:error:badNonce';
}

async function unexpected<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AcmeUnavailable || err instanceof AcmeProblem) throw err;
    throw new AcmeUnavailable(`unexpected reply from the ACME server: ${(err as Error).message}`, undefined, { cause: err });
  }
}

function exchange(agent: http.Agent, url: string, method: string, body: string | undefined, timeoutMs: number): Promise<AcmeHttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const headers: http.OutgoingHttpHeaders = { 'user-agent': USER_AGENT };
  if (body !== undefined) {
    headers['content-type'] = 'application/jose+json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = send(target, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (err) => reject(unreachable(method, url, err)));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: flatten(res.headers), data: parse(res.headers['content-type'], Buffer.concat(chunks)) });
        } catch (err) {
          reject(new AcmeUnavailable(`${method} ${url}: HTTP ${res.statusCode} with a body that is not valid JSON`, undefined, { cause: err }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(unreachable(method, url, err)));
    req.end(body);
  });
}

function unreachable(method: string, url: string, err: Error): AcmeUnavailable {
  const code = (err as { code?: string }).code;
  return new AcmeUnavailable(`${method} ${url} failed: ${code ? `${code} ` : ''}${err.message}`, undefined, { cause: err });
}

function parse(contentType: string | undefined, body: Buffer): unknown {
  if (body.length === 0) return null;
  return /json/i.test(contentType ?? '') ? JSON.parse(body.toString('utf8')) : body.toString('utf8');
}

function flatten(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
