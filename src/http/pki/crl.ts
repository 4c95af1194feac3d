import type { FastifyInstance } from 'fastify';
import type { CrlIssuer } from '../../core/private-ca/crls.js';
import { pkiError } from './errors.js';

const SUFFIX = '.crl';

/**
 * `GET /pki/crl/{CACertificateId}.crl`: the managed CA's current CRL, DER (what `ssl_crl` and
 * `openssl crl -inform DER` read). Always up to date with the inventory when served, so caches
 * must ask again each time.
 */
export function crlRoute(server: FastifyInstance, crls: CrlIssuer): void {
  server.get<{ Params: { file: string } }>('/pki/crl/:file', async (request, reply) => {
    const { file } = request.params;
    const der = file.endsWith(SUFFIX) ? await crls.current(file.slice(0, -SUFFIX.length)) : undefined;
    if (der === undefined) {
      return reply.code(404).send(pkiError('certificate.not_found', `no CRL is published at /pki/crl/${file.slice(0, 80)}`));
    }
    return reply.header('content-type', 'application/pkix-crl').header('cache-control', 'no-cache').send(der);
  });
}
