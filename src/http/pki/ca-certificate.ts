import type { FastifyInstance } from 'fastify';
import type { App } from '../../main.js';
import { pkiError } from './errors.js';

const SUFFIX = '.pem';

/** `GET /pki/ca/{CACertificateId}.pem`: a managed CA's certificate, the trust anchor clients and servers download. */
export function caCertificateRoute(server: FastifyInstance, app: App): void {
  server.get<{ Params: { file: string } }>('/pki/ca/:file', async (request, reply) => {
    const { file } = request.params;
    const pem = file.endsWith(SUFFIX) ? await app.privateCa.managedCaCertificate(file.slice(0, -SUFFIX.length)) : undefined;
    if (pem === undefined) {
      return reply.code(404).send(pkiError('certificate.not_found', `no CA certificate is published at /pki/ca/${file.slice(0, 80)}`));
    }
    // A CA certificate never changes under its id.
    return reply.header('content-type', 'application/x-pem-file').header('cache-control', 'public, max-age=86400').send(pem);
  });
}
