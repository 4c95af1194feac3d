/**
 * The http-01 responder (RFC 8555 §8.3): `GET /.well-known/acme-challenge/{token}` answers the
 * token's key authorization as text/plain while the token is stored and unexpired, 404 otherwise.
 * Tokens live in the database, so every server process answers every token. It is served on its
 * own listener (`http01Listen`, port 80 by default: where CAs connect) and on the API port too.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Http01Listen } from '../config/issuers.js';
import type { Http01Tokens } from '../core/issuance/ports.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';

/** RFC 8555 §8.1: a token is base64url. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export function acmeChallengeRoute(server: FastifyInstance, tokens: Http01Tokens, clock: Clock): void {
  server.get<{ Params: { token: string } }>('/.well-known/acme-challenge/:token', async (request, reply) => {
    const { token } = request.params;
    const keyAuthorization = TOKEN.test(token) ? await tokens.keyAuthorization(token, clock.now()) : undefined;
    reply.header('cache-control', 'no-store');
    if (keyAuthorization === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such challenge token\n');
    return reply.code(200).type('text/plain').send(keyAuthorization);
  });
}

/** The responder's own small server: the route, and 404 for everything else. */
export function buildHttp01Server(tokens: Http01Tokens, clock: Clock, logger: Logger): FastifyInstance {
  const server = Fastify({
    loggerInstance: logger.child({ component: 'http01' }) as FastifyBaseLogger,
    // A CA's fetches are no news; failures to listen are logged by the caller.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  acmeChallengeRoute(server, tokens, clock);
  server.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('not found\n'));
  return server;
}

/**
 * Starts the responder on `listen`; undefined when it is `off`, or when the address cannot be had:
 * that is logged once, naming the setting, and the service runs on without it (http-01 issuance
 * then needs another process, or a proxy to the API port, to answer the CA).
 */
export async function startHttp01Responder(
  listen: Http01Listen,
  tokens: Http01Tokens,
  clock: Clock,
  logger: Logger,
): Promise<{ server: FastifyInstance; address: string } | undefined> {
  if (!listen) return undefined;
  const server = buildHttp01Server(tokens, clock, logger);
  const at = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  try {
    await server.listen({ host: listen.host, port: listen.port });
  } catch (err) {
    await server.close().catch(() => undefined);
    logger.error({ err, http01Listen: at }, http01Problem((err as NodeJS.ErrnoException).code, at));
    return undefined;
  }
  const address = server.server.address();
  return { server, address: address && typeof address === 'object' ? `${address.address}:${address.port}` : at };
}

function http01Problem(code: string | undefined, at: string): string {
  const what =
    code === 'EACCES'
      ? `${at} needs privileges this process does not have (ports below 1024 need root or CAP_NET_BIND_SERVICE)`
      : code === 'EADDRINUSE'
        ? `${at} is already in use by another process`
        : code === 'EADDRNOTAVAIL'
          ? `${at} is not an address of this machine`
          : `${at} cannot be listened on (${code ?? 'error'})`;
  return `http-01 responder not started: ${what}; set CERTPLANE_HTTP01_LISTEN (http01Listen) to another HOST:PORT, or off. The service runs on without it.`;
}
