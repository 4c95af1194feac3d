import type { FastifyError, FastifyInstance } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { errors } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import { fromFramework, replyWithError } from '../failures.js';
import { certificateRoutes } from './certificates.js';

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
    // JSON only: without the text/plain parser every other type is refused by name.
    server.removeContentTypeParser('text/plain');
    server.setErrorHandler((error: FastifyError, request, reply) =>
      replyWithError(fromFramework(error, 'apig', app.config.bodyLimitBytes), request, reply, 'apig'),
    );
    server.setNotFoundHandler((request, reply) => replyWithError(errors.routeNotFound(), request, reply, 'apig'));

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
