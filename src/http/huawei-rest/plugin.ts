import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { AppError, errors } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import { certificateRoutes } from './certificates.js';
import { toApigError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * The Huawei APIG dialect (`/v2/{project_id}/apigw/…`): `X-Auth-Token` authentication,
 * JSON bodies, `{error_code, error_msg}` errors.
 */
export function huaweiRest(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    server.setErrorHandler((error: FastifyError, request, reply) => sendError(asAppError(error, app.config.bodyLimitBytes), request, reply));
    server.setNotFoundHandler((request, reply) => sendError(errors.routeNotFound(), request, reply));

    server.addHook('preHandler', async (request) => {
      if (request.is404) return;
      const token = request.headers['x-auth-token'];
      const principal = await app.accounts.authenticateToken(typeof token === 'string' ? token : undefined);
      const projectId = (request.params as { project_id?: string }).project_id;
      // A token only opens its own account's project; any other project id is simply not its to use.
      if (projectId !== principal.projectId) throw errors.forbidden('this project');
      request.principal = principal;
    });

    await server.register(certificateRoutes(app));
  };
}

/** Errors from fastify itself (body limits, bad JSON) join the catalogue; anything else is internal. */
function asAppError(error: FastifyError | AppError, bodyLimit: number): AppError {
  if (error instanceof AppError) return error;
  if (error.statusCode === 413) return errors.bodyTooLarge(bodyLimit);
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.malformedBody('Content-Type must be application/json');
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 && error.code?.startsWith('FST_')) {
    return errors.malformedBody(error.message);
  }
  if (error instanceof SyntaxError) return errors.malformedBody('the request body is not valid JSON');
  return errors.internal(error);
}

function sendError(err: AppError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apig = toApigError(err);
  if (err.code === 'internal') request.log.error({ err: err.cause }, 'internal error');
  else request.log.info({ code: err.code, apigCode: apig.code }, err.message);
  return reply.code(apig.status).send({ error_code: apig.code, error_msg: apig.message, request_id: request.id });
}
