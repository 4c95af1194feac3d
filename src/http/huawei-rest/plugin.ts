import type { FastifyBodyParser, FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { AuditStamp, actorOf } from '../../core/audit/ports.js';
import { apigCertificateResource } from '../../core/policy/index.js';
import { AppError, errors } from '../../kernel/errors.js';
import { NUL_REFUSAL, nulPath } from '../../kernel/text.js';
import type { App } from '../../main.js';
import { fromFramework, replyWithError } from '../failures.js';
import { certificateRoutes } from './certificates.js';
import { recordAlone } from '../audit.js';
import { authenticateApig } from './authenticate.js';

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
const EMPTY = Buffer.alloc(0);

/**
 * The Huawei APIG dialect (`/v2/{project_id}/apigw/…`): `X-Auth-Token` or AK/SK authentication,
 * IAM policies on every route, JSON bodies, `{error_code, error_msg}` errors.
 */
export function huaweiRest(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    // JSON only, kept as bytes until the caller is known: an AK/SK signature covers the body as sent,
    // and nothing an unauthenticated caller sends is parsed.
    server.removeAllContentTypeParsers();
    server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const parseJson = promisify(server.getDefaultJsonParser('error', 'error'));

    server.setErrorHandler(async (error: FastifyError, request, reply) => {
      const err = fromFramework(error, 'apig', app.config.bodyLimitBytes);
      await recordFailure(app, request, err);
      return replyWithError(err, request, reply, 'apig');
    });
    server.setNotFoundHandler((request, reply) => replyWithError(errors.routeNotFound(), request, reply, 'apig'));

    server.addHook('preHandler', async (request) => {
      if (request.is404) return;
      refuseNul(request.params);
      refuseNul(request.query);
      const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
      const principal = await authenticateApig(app, request, raw ?? EMPTY);
      request.principal = principal;
      await authorize(app, request, principal);
      // Clients send `Content-Type: application/json` on every request, a DELETE's empty body included.
      request.body = raw !== undefined && raw.length > 0 ? await parseJson(request, raw.toString('utf8')) : undefined;
      refuseNul(request.body, PEM_FIELDS);
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

/**
 * Body fields the certificate reader parses (and refuses as APIG.2106 when they hold anything but
 * PEM, binary DER included); what is stored of them is re-encoded, never the text as sent.
 */
const PEM_FIELDS = new Set(['cert_content', 'private_key', 'trusted_root_ca', 'cert_content_sign', 'private_key_sign']);

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * A path, query or body field holding U+0000 is refused by its name (e.g. `domains.0.domain`)
 * before it reaches a query. A body that is no JSON object is left to parseBody, which refuses it.
 */
function refuseNul(fields: unknown, skip = NO_FIELDS): void {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return;
  for (const [key, value] of Object.entries(fields)) {
    if (skip.has(key)) continue;
    const path = nulPath(value, key);
    if (path !== undefined) throw errors.invalidParameter(path, NUL_REFUSAL);
  }
}

/** Fastify's body parser (prototype-poisoning checks included) as a promise. */
function promisify(parser: FastifyBodyParser<string>) {
  return (request: FastifyRequest, body: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      void parser(request, body, (err: Error | null, value?: unknown) => (err ? reject(err) : resolve(value)));
    });
}

/** The IAM action of the route (`apig:certificate:get`…), on the certificate it names (`…:certificate:*` for list and create). */
function actionOf(app: App, request: FastifyRequest, principal: Principal): { permission: string; resource: string } {
  const permission = request.routeOptions.config.permission;
  if (permission === undefined) throw errors.internal(new Error(`APIG route ${request.url} names no IAM action`));
  const certificateId = (request.params as { certificate_id?: string }).certificate_id ?? '*';
  return { permission, resource: apigCertificateResource(app.config.regionId, principal.projectId, certificateId) };
}

/**
 * A user (by key or token) may do only what its policies allow; an account's own credentials may do
 * everything in it. A refusal is on record with the outcome `denied`, reads included.
 */
async function authorize(app: App, request: FastifyRequest, principal: Principal): Promise<void> {
  const { permission, resource } = actionOf(app, request, principal);
  try {
    await app.identity.authorize(principal, permission, resource);
  } catch (err) {
    if (err instanceof AppError && err.code === 'auth.forbidden') {
      const stamp = new AuditStamp(principal.accountId, actorOf(principal), permission, resource, request.id);
      await recordAlone(app, request.log, stamp.outcomeAt(app.clock.now(), 'denied'));
    }
    throw err;
  }
}

function writeStamp(app: App, request: FastifyRequest, principal: Principal): AuditStamp | undefined {
  if (!WRITE_METHODS.has(request.method)) return undefined;
  const { permission } = actionOf(app, request, principal);
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
