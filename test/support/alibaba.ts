import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Esa from '@alicloud/esa20240910';
import OpenApi from '@alicloud/openapi-core';

export { Esa };

/** The unmodified official ESA SDK pointed at a local endpoint (`127.0.0.1:PORT`, plain HTTP). */
export function esaClient(
  endpoint: string,
  credentials: { accessKeyId: string; accessKeySecret: string },
  extra: Record<string, unknown> = {},
): InstanceType<typeof Esa.default> {
  return new Esa.default(
    new OpenApi.$OpenApiUtil.Config({ ...credentials, endpoint, protocol: 'http', regionId: 'cn-hangzhou', ...extra }),
  );
}

/** What the SDK surfaces on failure (`ClientError`/`ServerError` from @darabonba). */
export interface SdkError {
  code: string;
  statusCode: number;
  message: string;
  data?: Record<string, unknown>;
}

/** Runs an SDK call that must fail, and returns its error. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the SDK call to fail');
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A pass-through proxy in front of certplane that keeps every request the SDK sent, byte for byte,
 * so a test can replay or tamper with a real signed request.
 */
export async function recordingProxy(target: string): Promise<{
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      send(target, recorded).then(
        (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(answer.body);
        },
        (err: Error) => {
          res.writeHead(502);
          res.end(JSON.stringify({ Code: 'ProxyError', Message: err.message }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Sends a recorded request (headers as recorded, the signed Host included) to `target` (`http://127.0.0.1:PORT`). */
export function send(
  target: string,
  req: RecordedRequest,
  options: { chunked?: boolean } = {},
): Promise<{ status: number; body: string; json: Record<string, unknown> }> {
  const url = new URL(target);
  const headers = { ...req.headers };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  if (!options.chunked) headers['content-length'] = String(req.body.length);
  return new Promise((resolve, reject) => {
    const out = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            // left empty: the caller asserts on status and body
          }
          resolve({ status: res.statusCode ?? 0, body, json });
        });
      },
    );
    out.on('error', reject);
    out.end(req.body);
  });
}
