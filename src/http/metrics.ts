/**
 * `GET /metrics` (Prometheus text format, docs/metrics.md) and the hook that counts every request.
 * Who may scrape: with `metricsToken` set, any caller presenting `Authorization: Bearer <token>`;
 * without it, loopback callers only. A scraper that accepts gzip (Prometheus does) gets the text
 * gzipped: one sample per certificate makes it large.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpDialect, PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { rpcActionName } from './aliyun-rpc/plugin.js';
import { pathOf } from './request-log.js';

interface MetricsAccess {
  /** The bearer token a scraper must present; undefined: loopback callers only. */
  token: string | undefined;
}

/** IPv4 127/8, IPv6 ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares the presented bearer token to the configured one in constant time (both hashed first: equal lengths). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

const gzipAsync = promisify(gzip);

/** Smaller bodies go as they are: gzip would save little. */
const GZIP_FROM_BYTES = 1024;

/**
 * Whether an `Accept-Encoding` header accepts gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip`, or `*`
 * when gzip is not named, with a q-value above 0.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let named: number | undefined;
  let star: number | undefined;
  for (const item of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [token = '', ...params] = item.split(';').map((part) => part.trim());
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([0-9.]+)$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    const name = token.toLowerCase();
    if (name === 'gzip' || name === 'x-gzip') named = Math.max(named ?? 0, q);
    else if (name === '*') star = q;
  }
  return (named ?? star ?? 0) > 0;
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: 401 | 403, code: string, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="certplane metrics"');
  request.log.info({ code }, message);
  return reply.code(status).header('cache-control', 'no-store').send({ error: { code, message } });
}

export function metricsRoute(server: FastifyInstance, metrics: PrometheusMetrics, access: MetricsAccess): void {
  server.get('/metrics', async (request, reply) => {
    if (access.token !== undefined) {
      const given = request.headers.authorization;
      if (given === undefined) return refuse(request, reply, 401, 'auth.credentials_missing', 'metrics need Authorization: Bearer <metricsToken>');
      if (!bearerMatches(given, access.token)) return refuse(request, reply, 401, 'auth.credentials_invalid', 'the metrics bearer token is not valid');
    } else if (!isLoopback(request.socket.remoteAddress)) {
      return refuse(request, reply, 403, 'auth.forbidden', 'metrics are served to loopback callers only unless metricsToken is set');
    }
    let body: string;
    try {
      body = await metrics.render();
    } catch (err) {
      // Behind --workers: a worker that cannot give its counts in time. Part of the counts would read as a reset.
      request.log.warn({ err }, 'metrics could not be gathered');
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .send({ error: { code: 'metrics.unavailable', message: 'the metrics could not be gathered; scrape again' } });
    }
    reply.code(200).header('content-type', metrics.contentType).header('cache-control', 'no-store').header('vary', 'accept-encoding');
    if (Buffer.byteLength(body) < GZIP_FROM_BYTES || !acceptsGzip(request.headers['accept-encoding'])) return reply.send(body);
    // On libuv's thread pool: a scrape of 100,000 certificates is about 21 MB of text.
    return reply.header('content-encoding', 'gzip').send(await gzipAsync(body));
  });
}

/** The dialect of a request, by path: `/` is the Alibaba RPC dialect, `/v2/` Huawei APIG, `/pki/` the CA routes. */
export function httpDialectOf(path: string): HttpDialect {
  if (path === '/') return 'aliyun-rpc';
  if (path === '/v2' || path.startsWith('/v2/')) return 'huawei-rest';
  if (path.startsWith('/pki/')) return 'pki';
  return 'other';
}

/**
 * The `action` label: the RPC action when it is one certplane knows (`unknown` otherwise, so a
 * caller cannot grow the label set), else the route's method and path pattern (`unmatched` for a
 * path no route has).
 */
function actionLabel(request: FastifyRequest, dialect: HttpDialect): string {
  if (dialect === 'aliyun-rpc') return rpcActionName(request) ?? 'unknown';
  const pattern = request.routeOptions.url;
  return pattern === undefined ? 'unmatched' : `${request.method} ${pattern}`;
}

/** Counts and times every answered request. */
export function observeRequests(server: FastifyInstance, metrics: PrometheusMetrics): void {
  server.addHook('onResponse', async (request, reply) => {
    const dialect = httpDialectOf(pathOf(request.url ?? ''));
    metrics.httpAnswered({
      dialect,
      action: actionLabel(request, dialect),
      code: reply.statusCode,
      durationSeconds: reply.elapsedTime / 1000,
    });
  });
}
