import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { App } from '../main.js';
import { aliyunRpc } from './aliyun-rpc/plugin.js';
import { clientErrorHandler } from './client-errors.js';
import { dialectOf, fromFramework, replyWithError } from './failures.js';
import { huaweiRest } from './huawei-rest/plugin.js';
import { pki } from './pki/plugin.js';
import { acmeChallengeRoute } from './acme-challenge.js';
import { httpLoggerOptions, RequestLogController } from './request-log.js';
import { errors } from '../kernel/errors.js';
import { metricsRoute, observeRequests } from './metrics.js';

/**
 * Request line and headers together, beyond Node's 16 KB default: the Alibaba SDKs put whole PEM
 * chains in the query string (a three-certificate RSA-4096 chain and its key make ≈ 10 KB; a long
 * tag filter more than 64 KB).
 */
const MAX_HEADER_BYTES = 96 * 1024;

/** A client's own request id is kept only when it is short and plain: it goes into logs and headers. */
const PLAIN_REQUEST_ID = /^[\w.-]{1,64}$/;

/** The HTTP transport: request ids, health probes and one plugin per wire dialect. */
export function buildServer(app: App): FastifyInstance {
  const logger = app.logger.child({ component: 'http' }, httpLoggerOptions) as FastifyBaseLogger;
  const server = Fastify({
    loggerInstance: logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && PLAIN_REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new RequestLogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: app.config.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    clientErrorHandler: clientErrorHandler(MAX_HEADER_BYTES, logger),
    frameworkErrors: (error, request, reply) => {
      const dialect = dialectOf(request.url);
      return replyWithError(fromFramework(error, dialect, app.config.bodyLimitBytes), request, reply, dialect);
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  server.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  observeRequests(server, app.metrics);

  // Outside the dialects' own routes (unknown paths, the probes), errors still answer in the dialect of the path.
  server.setErrorHandler((error: FastifyError, request, reply) => {
    const dialect = dialectOf(request.url);
    return replyWithError(fromFramework(error, dialect, app.config.bodyLimitBytes), request, reply, dialect);
  });
  server.setNotFoundHandler((request, reply) => replyWithError(errors.routeNotFound(), request, reply, dialectOf(request.url)));

  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const ready = await app.database.ping();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'database unreachable' });
  });

  metricsRoute(server, app.metrics, { token: app.config.metricsToken });

  server.register(huaweiRest(app), { prefix: '/v2' });
  server.register(aliyunRpc(app));
  server.register(pki(app));
  // The http-01 responder's route on the API port too, for a proxy that forwards port 80 here.
  acmeChallengeRoute(server, app.http01Tokens, app.clock);
  return server;
}
