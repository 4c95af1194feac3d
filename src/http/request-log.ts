/**
 * What the HTTP layer writes to the log. The official Alibaba SDKs put every parameter in the query
 * string (CSRs today, certificate private keys with CAS `UploadUserCertificate`), and APIG bodies
 * carry private keys: a request line therefore names the method, the path and (RPC) the action,
 * never the query string, the headers or the body. Credentials are redacted wherever an object that
 * holds them is logged anyway, as a second line of defence.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, type ChildLoggerOptions } from 'pino';
import { REDACTED, REDACTED_PATHS } from '../kernel/logger.js';

/** Longer paths are cut in the log: a path is not a secret, but the log is no place for 60 KB of one. */
const MAX_LOGGED_PATH = 200;
const ACTION_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** The URL without its query string, cut to a loggable length. */
export function pathOf(url: string): string {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}

/** The RPC action a request names (ACS3 header, or v1 `Action` parameter), when it names a plausible one. */
function actionOf(request: FastifyRequest, path: string): string | undefined {
  if (path !== '/') return undefined;
  const header = request.headers?.['x-acs-action'];
  const query = request.query as Record<string, unknown> | undefined;
  const action = typeof header === 'string' ? header : query?.Action;
  return typeof action === 'string' && ACTION_NAME.test(action) ? action : undefined;
}

function requestSummary(request: FastifyRequest): Record<string, unknown> {
  const path = pathOf(request.url ?? '');
  const action = actionOf(request, path);
  return action ? { method: request.method, path, action } : { method: request.method, path };
}

/** Node attaches the raw bytes of a request it could not parse (headers, query and all) to its error. */
function errorSummary(err: Error): Record<string, unknown> {
  const { rawPacket: _rawPacket, ...rest } = pino.stdSerializers.err(err) as Record<string, unknown>;
  return rest;
}

/** Options of the HTTP layer's child logger. */
export const httpLoggerOptions: ChildLoggerOptions = {
  serializers: {
    req: requestSummary,
    res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
    err: errorSummary,
  },
  // The root logger redacts too; this keeps a logger handed in from outside (tests, embedders) as strict.
  redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
};

/** fastify's own request lines, minus the one that prints the raw URL (query string included). */
export class RequestLogController extends LogController {
  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info({ req: request }, 'route not found');
  }
}
