/**
 * A tiny ACME server over plain HTTP for unit tests of the client side: a directory, newNonce,
 * newAccount and newOrder that always work, nonces checked the way a CA checks them (each good once),
 * and every other POST answered from a script the test writes. Every request is recorded with its
 * arrival time and its decoded JWS, so a test can count requests, see which nonce each one used and
 * how far apart polls came. JWS signatures are not checked: the adapter's signing is acme-client's,
 * and pebble checks it in the integration tests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** performance.now() when the request arrived. */
  at: number;
  /** The JWS protected header (POST only). */
  protected?: { nonce?: string; url?: string; kid?: string; jwk?: unknown };
  /** The decoded payload; null for POST-as-GET. */
  payload?: unknown;
}

export interface FakeAcme {
  readonly directoryUrl: string;
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Answers POSTs to `path` with these replies in turn (the last one repeats). */
  script(path: string, replies: FakeReply[]): void;
  /** The next `count` signed requests get badNonce, whatever nonce they carry. */
  rejectNonces(count: number): void;
  /** Forgets the scripts, the pending rejections and the recorded requests (nonces stay good). */
  reset(): void;
  stop(): Promise<void>;
}

export async function startFakeAcme(): Promise<FakeAcme> {
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, FakeReply[]>();
  const issued = new Set<string>();
  let nonceCounter = 0;
  let toReject = 0;
  let base = '';

  const nonce = () => {
    const value = `nonce-${++nonceCounter}`;
    issued.add(value);
    return value;
  };

  const builtIn = (path: string): FakeReply | undefined => {
    if (path === '/new-account') return { status: 201, body: { status: 'valid' }, headers: { location: `${base}/account/1` } };
    if (path === '/new-order') return { status: 201, body: orderBody(base, 'pending'), headers: { location: `${base}/order/1` } };
    if (path === '/order/1') return { status: 200, body: orderBody(base, 'pending') };
    if (path === '/finalize/1') return { status: 200, body: orderBody(base, 'processing') };
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const entry: RecordedRequest = { method: req.method ?? '', path, at: performance.now() };
      requests.push(entry);
      const send = (reply: FakeReply) => {
        const json = reply.body === undefined ? '' : JSON.stringify(reply.body);
        const type = (reply.body as { type?: string } | undefined)?.type?.startsWith('urn:') ? 'application/problem+json' : 'application/json';
        res.writeHead(reply.status, { 'replay-nonce': nonce(), 'content-type': type, ...(reply.headers ?? {}) }).end(json);
      };
      if (req.method === 'GET' && path === '/dir') {
        send({ status: 200, body: { newNonce: `${base}/new-nonce`, newAccount: `${base}/new-account`, newOrder: `${base}/new-order` } });
        return;
      }
      if (req.method === 'HEAD' && path === '/new-nonce') {
        send({ status: 200 });
        return;
      }
      const jws = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { protected: string; payload: string };
      entry.protected = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as RecordedRequest['protected'];
      entry.payload = jws.payload === '' ? null : JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8'));
      const used = entry.protected?.nonce ?? '';
      if (toReject > 0 || !issued.delete(used)) {
        toReject = Math.max(0, toReject - 1);
        send({ status: 400, body: { type: 'urn:ietf:params:acme:error:badNonce', detail: `nonce ${used} is not good` } });
        return;
      }
      const replies = scripts.get(path);
      const reply = replies && replies.length > 1 ? replies.shift()! : replies?.[0] ?? builtIn(path) ?? { status: 404, body: { type: 'urn:ietf:params:acme:error:malformed', detail: 'no such resource' } };
      send(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    directoryUrl: `${base}/dir`,
    baseUrl: base,
    requests,
    script: (path, replies) => void scripts.set(path, [...replies]),
    rejectNonces: (count) => void (toReject = count),
    reset: () => {
      scripts.clear();
      toReject = 0;
      requests.length = 0;
    },
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An order body for scripted replies. */
export function orderBody(base: string, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status, identifiers: [{ type: 'dns', value: 'a.example.test' }], authorizations: [`${base}/authz/1`], finalize: `${base}/finalize/1`, ...extra };
}
