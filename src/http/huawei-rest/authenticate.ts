import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import { errors } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import { accessKeySecrets } from '../access-key-secrets.js';
import { AkSkError, isAkSkSigned, verifyAkSk } from './signature.js';

/**
 * Who calls an APIG route: an `X-Auth-Token`, or an access key's AK/SK signature (the same keys as
 * the RPC dialect's). Either way the credential is looked up in the database on every request, so a
 * revoked token or a disabled or deleted key is refused at once; and the path's `project_id` must be
 * the credential's account's project.
 */
export async function authenticateApig(app: App, request: FastifyRequest, body: Buffer): Promise<Principal> {
  const headers = request.headers;
  const principal = isAkSkSigned(headers)
    ? await bySignature(app, request, body)
    : await app.accounts.authenticateToken(single(headers['x-auth-token']));
  const projectId = (request.params as { project_id?: string }).project_id;
  // A credential only opens its own account's project; any other project id is simply not its to use.
  if (projectId !== principal.projectId) throw errors.forbidden('this project');
  return principal;
}

async function bySignature(app: App, request: FastifyRequest, body: Buffer): Promise<Principal> {
  if (request.headers['x-auth-token'] !== undefined) {
    throw errors.signatureInvalid('a request carries either X-Auth-Token or an AK/SK signature, not both');
  }
  const keys = accessKeySecrets(app);
  try {
    await verifyAkSk(
      { method: request.method, rawPath: pathOf(request), query: request.query as Record<string, string | string[]>, headers: request.headers, body },
      { now: app.clock.now(), maxSkewMs: app.config.signatureMaxSkewMs, secretFor: keys.secretFor },
    );
  } catch (err) {
    if (!(err instanceof AkSkError)) throw err;
    request.log.info({ failure: err.failure }, 'signature rejected');
    throw err.failure === 'stale_date' ? errors.signatureStale(err.message) : errors.signatureInvalid(err.message);
  }
  const principal = keys.principal;
  if (!principal) throw errors.signatureInvalid('verify aksk signature fail');
  // Signed whenever sent (the SDK sends its credentials' project): it must name the path's project.
  const signedProject = request.headers['x-project-id'];
  if (signedProject !== undefined && signedProject !== (request.params as { project_id?: string }).project_id) {
    throw errors.forbidden('this project');
  }
  return principal;
}

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
