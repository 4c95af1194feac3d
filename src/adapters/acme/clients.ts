/**
 * AcmeClients over acme-client: one Connection (agent, nonces) per directory, one client per
 * (directory, account key), both kept for the life of the process so every order of an account
 * reuses the same connections, nonces and parsed key. Nothing global is configured: acme-client's
 * module-wide axios instance and logger are never touched.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AcmeAccount, AcmeDirectory } from '../../core/acme/model.js';
import type { AccountRequest, AcmeClient, AcmeClients, PollOptions } from '../../core/acme/ports.js';
import { AcmeUnavailable } from '../../core/acme/problem.js';
import { AccountClient } from './client.js';
import { DEFAULT_POLL_POLICY, pollPolicy, realTimer, type PollTimer } from './polling.js';
import { AcmeHttp, Connection, type AcmeRequestEvent } from './transport.js';
import { problemFrom } from './wire.js';

export interface AcmeClientsOptions {
  /** Defaults for waitForAuthorization / waitForOrder (each call may override them). */
  poll?: PollOptions;
  /** Longest one HTTP exchange may take (default 30 s). */
  requestTimeoutMs?: number;
  /** Called after every HTTP exchange with a CA (metrics, benchmarks). */
  onRequest?: (event: AcmeRequestEvent) => void;
  /** How polling waits (tests replace it to see the waits without waiting). */
  timer?: PollTimer;
}

type Ensured = { account: AcmeAccount; client: AcmeClient };

export class CachedAcmeClients implements AcmeClients {
  private readonly connections = new Map<string, Connection>();
  private readonly clients = new Map<string, Promise<Ensured>>();

  constructor(private readonly options: AcmeClientsOptions = {}) {
    pollPolicy(DEFAULT_POLL_POLICY, options.poll); // a bad policy fails here, at start-up
  }

  ensureAccount(request: AccountRequest): Promise<Ensured> {
    const keyPem = request.keyPem ?? newAccountKey();
    const key = createPrivateKey(keyPem);
    const thumbprint = jwkThumbprint(key);
    const cacheKey = `${connectionId(request.directory)}\n${thumbprint}`;
    const cached = this.clients.get(cacheKey);
    if (cached) return cached.then(({ account, client }) => ({ account: { ...account, created: false }, client }));
    const ensured = this.register(request, keyPem, key, thumbprint);
    this.clients.set(cacheKey, ensured);
    ensured.catch(() => this.clients.delete(cacheKey));
    return ensured;
  }

  /** Closes the kept connections (their sockets would otherwise keep the process alive until they idle out). */
  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    this.clients.clear();
  }

  private async register(request: AccountRequest, keyPem: string, key: KeyObject, thumbprint: string): Promise<Ensured> {
    const http = new AcmeHttp(this.connection(request.directory), key, request.externalAccountBinding);
    const registered = request.url !== undefined ? { url: request.url, status: 'valid' as const, created: false } : await newAccount(http, request);
    const policy = pollPolicy(DEFAULT_POLL_POLICY, this.options.poll);
    const client = new AccountClient(http, registered.url, thumbprint, policy, this.options.timer ?? realTimer);
    return { account: { ...registered, keyPem }, client };
  }

  private connection(directory: AcmeDirectory): Connection {
    const id = connectionId(directory);
    let connection = this.connections.get(id);
    if (!connection) {
      connection = new Connection(directory, { requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000, onRequest: this.options.onRequest });
      this.connections.set(id, connection);
    }
    return connection;
  }
}

/** RFC 8555 §7.3 newAccount: 201 registers the key, 200 says it has an account already. */
async function newAccount(http: AcmeHttp, request: AccountRequest): Promise<Omit<AcmeAccount, 'keyPem'>> {
  const url = await http.getResourceUrl('newAccount');
  const payload = { termsOfServiceAgreed: request.termsOfServiceAgreed, ...(request.contact ? { contact: request.contact } : {}) };
  const response = await http.signedRequest(url, payload, { includeExternalAccountBinding: request.externalAccountBinding !== undefined });
  if (response.status !== 201 && response.status !== 200) throw problemFrom(response, url);
  const location = response.headers['location'];
  if (!location) throw new AcmeUnavailable(`newAccount at ${url} answered without the account's URL (Location)`);
  const status = (response.data as { status?: unknown } | null)?.status;
  return {
    url: new URL(location, url).href,
    status: status === 'deactivated' || status === 'revoked' ? status : 'valid',
    created: response.status === 201,
  };
}

/** A directory as reached: the same URL trusted through another CA bundle is another connection. */
function connectionId(directory: AcmeDirectory): string {
  return `${directory.url}\n${directory.caBundlePem ?? ''}`;
}

function newAccountKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** RFC 7638: SHA-256 of the public JWK's required members in lexicographic order, base64url. */
function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
