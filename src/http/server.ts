import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { App } from '../main.js';
import { aliyunRpc } from './aliyun-rpc/plugin.js';
import { huaweiRest } from './huawei-rest/plugin.js';

/** Headers beyond Node's 16 KB default: the Alibaba SDKs put whole PEM chains in the query string. */
const MAX_HEADER_BYTES = 96 * 1024;

/** The HTTP transport: request ids, health probes and one plugin per wire dialect. */
export function buildServer(app: App): FastifyInstance {
  const server = Fastify({
    loggerInstance: app.logger.child({ component: 'http' }) as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: app.config.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  server.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const ready = await app.database.ping();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'database unreachable' });
  });

  server.register(huaweiRest(app), { prefix: '/v2' });
  server.register(aliyunRpc(app));
  return server;
}
