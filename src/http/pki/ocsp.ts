import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { refusal, type OcspAnswer, type OcspResponder } from '../../core/private-ca/ocsp-responder.js';
import { OCSP_REQUEST_MAX_BYTES } from '../../core/private-ca/revocation.js';

const GET_PREFIX = '/pki/ocsp/';

/** HTTP status of each answer, as Go's OCSP responders send them; the body is an OCSPResponse every time. */
const STATUS: Record<OcspAnswer['outcome'], number> = {
  successful: 200,
  unauthorized: 200,
  malformedRequest: 400,
  internalError: 500,
  tryLater: 503,
  sigRequired: 200,
};

/**
 * The OCSP responder over HTTP (RFC 6960 appendix A): `POST /pki/ocsp` with the DER request as
 * the body (any content type: clients do not all send `application/ocsp-request`), and
 * `GET /pki/ocsp/{request}` with the request base64-encoded, then URL-encoded. Every answer is an
 * OCSPResponse (`application/ocsp-response`), refusals included: a request that does not parse, is
 * not base64 or is larger than 16 KiB gets `malformedRequest`, a failure of ours `internalError`.
 */
export function ocspRoutes(ocsp: OcspResponder) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    // In this plugin only: the body is the DER request, whatever the client calls it.
    server.removeAllContentTypeParsers();
    server.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: OCSP_REQUEST_MAX_BYTES }, (_request, body, done) => done(null, body));
    server.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.statusCode === 413) return send(reply, refusal('malformedRequest'), 413);
      request.log.error({ err: error }, 'the OCSP responder failed');
      return send(reply, refusal('internalError'));
    });

    server.post('/pki/ocsp', async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      return send(reply, await ocsp.respond(body));
    });
    server.get('/pki/ocsp/*', async (request, reply) => {
      const der = requestFromPath(request.url);
      return send(reply, der ? await ocsp.respond(der) : refusal('malformedRequest'));
    });
  };
}

function send(reply: FastifyReply, answer: OcspAnswer, status = STATUS[answer.outcome]): FastifyReply {
  // Answers follow the inventory at once: nothing in between may keep one.
  return reply.code(status).header('content-type', 'application/ocsp-response').header('cache-control', 'no-cache').send(answer.der);
}

/** Base64 characters of the largest request accepted, with room for padding. */
const MAX_BASE64 = Math.ceil(OCSP_REQUEST_MAX_BYTES / 3) * 4;

/**
 * The DER request of a GET: the path after `/pki/ocsp/`, URL-decoded (`%2B`, `%2F`, `%3D`), then
 * base64-decoded. A `+` that a form encoder turned into a space, and the URL-safe alphabet
 * (`-`, `_`), are taken too. Undefined when it is not base64 of at most 16 KiB.
 */
export function requestFromPath(url: string): Buffer | undefined {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (!path.startsWith(GET_PREFIX)) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(path.slice(GET_PREFIX.length));
  } catch {
    return undefined;
  }
  text = text.replaceAll(' ', '+').replaceAll('-', '+').replaceAll('_', '/').replace(/=+$/, '');
  if (text.length === 0 || text.length > MAX_BASE64 || text.length % 4 === 1 || !/^[A-Za-z0-9+/]+$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
