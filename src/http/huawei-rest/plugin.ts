import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { AuditStamp, actorOf } from '../../core/audit/ports.js';
import { apigCertificateResource } from '../../core/policy/index.js';
import { errors, type AppError } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import { fromFramework, replyWithError } from '../failures.js';
import { certificateRoutes } from './certificates.js';
import { recordAlone } from '../audit.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** Set for writes: the audit event the use case completes and stores with its change. */
    audit?: AuditStamp;
  }
  interface FastifyContextConfig {
    /** The IAM action of an APIG route, e.g. `apig:certificate:create`. */
    permission?: string;
  }
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * The Huawei APIG dialect (`/v2/{project_id}/apigw/…`): `X-Auth-Token` authentication,
 * JSON bodies, `{error_code, error_msg}` errors.
 */
export function huaweiRest(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    // JSON only: without the text/plain parser every other type is refused by name.
    server.removeContentTypeParser('text/plain');
    server.setErrorHandler(async (error: FastifyError, request, reply) => {
      const err = fromFramework(error, 'apig', app.config.bodyLimitBytes);
      await recordFailure(app, request, err);
      return replyWithError(err, request, reply, 'apig');
    });
    server.setNotFoundHandler((request, reply) => replyWithError(errors.routeNotFound(), request, reply, 'apig'));

    server.addHook('preHandler', async (request) => {
      if (request.is404) return;
      const token = request.headers['x-auth-token'];
      const principal = await app.accounts.authenticateToken(typeof token === 'string' ? token : undefined);
      const projectId = (request.params as { project_id?: string }).project_id;
      // A token only opens its own account's project; any other project id is simply not its to use.
      if (projectId !== principal.projectId) throw errors.forbidden('this project');
      request.principal = principal;
      request.audit = writeStamp(app, request, principal);
    });

    // A write whose use case changed nothing (so stored no audit row) is still on record.
    server.addHook('onResponse', async (request, reply) => {
      const stamp = request.audit;
      if (!stamp || stamp.used || reply.statusCode >= 400) return;
      await recordAlone(app, request.log, stamp.eventAt(app.clock.now()));
    });

    await server.register(certificateRoutes(app));
  };
}

function writeStamp(app: App, request: FastifyRequest, principal: Principal): AuditStamp | undefined {
  const permission = request.routeOptions.config.permission;
  if (!WRITE_METHODS.has(request.method) || permission === undefined) return undefined;
  const certificateId = (request.params as { certificate_id?: string }).certificate_id;
  const resource = (id: string) => apigCertificateResource(app.config.regionId, principal.projectId, id);
  return new AuditStamp(
    principal.accountId,
    actorOf(principal),
    permission,
    certificateId === undefined ? resource : resource(certificateId),
    request.id,
  );
}

/** A failed write is audited with its error code. */
async function recordFailure(app: App, request: FastifyRequest, err: AppError): Promise<void> {
  const stamp = request.audit;
  if (!stamp) return;
  request.audit = undefined;
  await recordAlone(app, request.log, stamp.outcomeAt(app.clock.now(), err.code));
}
