import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { AuditStamp, actorOf } from '../../core/audit/ports.js';
import { AppError, errors } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import type { RpcAction, RpcRequestContext } from './action.js';
import { fromFramework, replyWithError } from '../failures.js';
import { RpcParams } from './params.js';
import { parseRpcParams } from './decode-params.js';
import { RPC_V1_PROTOCOL_PARAMS, SignatureError, verifyRequest, type Verified } from './signature.js';
import { findAction } from './table.js';
import { accessKeySecrets, type AccessKeySecrets } from '../access-key-secrets.js';
import { recordAlone } from '../audit.js';

/**
 * The Alibaba Cloud RPC dialect: `GET`/`POST /` routed on (`x-acs-version`, `x-acs-action`),
 * parameters from the query and a form body, ACS3-HMAC-SHA256 (or v1) signatures with nonces kept
 * in the database, RAM-style authorization, JSON answers with `RequestId`.
 */
export function aliyunRpc(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    // Every body is kept as raw bytes: the signature covers them exactly as sent.
    server.removeAllContentTypeParsers();
    server.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    server.setErrorHandler((error: FastifyError, request, reply) =>
      replyWithError(fromFramework(error, 'rpc', app.config.bodyLimitBytes), request, reply, 'rpc', routeOf(request)?.errors),
    );

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const action = routeOf(request);
      if (!action) throw errors.routeNotFound();
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const rawQuery = queryOf(request);
      const { verified, principal } = await authenticate(app, request, rawQuery, body);
      if (verified.action !== action.name || verified.version !== action.version) throw errors.routeNotFound();
      const params = parseRpcParams(rawQuery, body, headerOf(request, 'content-type'));
      if (verified.scheme === 'v1') for (const name of RPC_V1_PROTOCOL_PARAMS) params.delete(name);
      const ctx = { app, principal, params: new RpcParams(params), requestId: request.id };
      const result = await runAudited(app, action, ctx, request.log, (resource) =>
        app.identity.authorize(principal, action.permission, resource),
      );
      return reply.send({ RequestId: request.id, ...result });
    };
    server.get('/', handler);
    server.post('/', handler);
  };
}

/** The name of the known RPC action a request names (unverified: for metrics), or undefined. */
export function rpcActionName(request: FastifyRequest): string | undefined {
  // A request refused before it was parsed (a bad URL) has no query.
  if (request.query === undefined || request.query === null) return undefined;
  return routeOf(request)?.name;
}

/** The action named by the headers (ACS3) or by the query (v1); the signature check confirms it later. */
function routeOf(request: FastifyRequest): RpcAction | undefined {
  const query = request.query as Record<string, unknown>;
  const version = headerOf(request, 'x-acs-version') ?? (typeof query.Version === 'string' ? query.Version : undefined);
  const action = headerOf(request, 'x-acs-action') ?? (typeof query.Action === 'string' ? query.Action : undefined);
  return findAction(version, action);
}

async function authenticate(
  app: App,
  request: FastifyRequest,
  rawQuery: string,
  body: Buffer,
): Promise<{ verified: Verified; principal: Principal }> {
  const signed = { method: request.method, rawQuery, headers: request.headers, body };
  const attempt = async (keys: AccessKeySecrets): Promise<Verified | SignatureError> => {
    try {
      return await verifyRequest(signed, { now: app.clock.now(), maxSkewMs: app.config.signatureMaxSkewMs, secretFor: keys.secretFor });
    } catch (err) {
      if (err instanceof SignatureError) return err;
      throw err;
    }
  };
  // With the secret this process opened for the key before, if any: the nonce is then stored by the
  // statement that checks the key still holds, and the key is not read apart. Anything but that
  // success (a bad signature, a key since disabled, deleted or resealed, a replay) is checked again
  // reading the key, so it gets exactly the answer it always got.
  let keys = accessKeySecrets(app, { useRemembered: true });
  let outcome = await attempt(keys);
  if (keys.remembered) {
    if (!(outcome instanceof SignatureError)) {
      const { accessKeyId, sealed } = keys.remembered;
      const principal = await app.accounts.confirmKeyAndUseNonce(accessKeyId, sealed, outcome.nonce, nonceExpiry(app, outcome));
      if (principal) return { verified: outcome, principal };
    }
    keys = accessKeySecrets(app);
    outcome = await attempt(keys);
  }
  if (outcome instanceof SignatureError) {
    request.log.info({ failure: outcome.failure }, 'signature rejected');
    if (outcome.failure === 'stale_date') throw errors.signatureStale();
    if (outcome.failure === 'missing') throw errors.credentialsMissing();
    throw errors.credentialsInvalid(outcome.message);
  }
  const principal = keys.principal;
  if (!principal) throw errors.credentialsInvalid();
  await app.accounts.useNonce(outcome.accessKeyId, outcome.nonce, nonceExpiry(app, outcome));
  return { verified: outcome, principal };
}

/** A nonce is kept as long as a request carrying it could still pass the date check. */
function nonceExpiry(app: App, verified: Verified): Date {
  return new Date(verified.date.getTime() + app.config.signatureMaxSkewMs);
}

/**
 * Authorizes and runs the action. A write's use case stores its success event with its change; a
 * denial, a failure, or a write that changed nothing is recorded here on its own.
 */
async function runAudited(
  app: App,
  action: RpcAction,
  ctx: RpcRequestContext,
  log: FastifyBaseLogger,
  authorize: (resource: string) => Promise<void>,
): Promise<Record<string, unknown>> {
  const resource = action.resource(ctx);
  const created = action.created;
  const stamp = new AuditStamp(
    ctx.principal.accountId,
    actorOf(ctx.principal),
    action.permission,
    created ? (id) => created(ctx, id) : resource,
    ctx.requestId,
  );
  try {
    await authorize(resource);
  } catch (err) {
    if (err instanceof AppError && err.code === 'auth.forbidden') {
      await recordAlone(app, log, stamp.outcomeAt(app.clock.now(), 'denied'));
    }
    throw err;
  }
  if (!action.writes) return action.handle({ ...ctx, audit: stamp });
  let result: Record<string, unknown>;
  try {
    result = await action.handle({ ...ctx, audit: stamp });
  } catch (err) {
    await recordAlone(app, log, stamp.outcomeAt(app.clock.now(), err instanceof AppError ? err.code : 'internal'));
    throw err;
  }
  if (!stamp.used) await app.audit.record(stamp.eventAt(app.clock.now()));
  return result;
}

function queryOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
