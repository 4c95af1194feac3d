import type { FastifyInstance } from 'fastify';
import type { CrlIssuer } from '../../core/private-ca/crls.js';
import { encodePem } from '../../pki/index.js';
import { pkiError } from './errors.js';

/** The two forms of one CRL: `.crl` is the DER that certificates point at, `.crl.pem` the same CRL in PEM. */
const FORMS = [
  { suffix: '.crl.pem', contentType: 'application/x-pem-file', body: (der: Buffer) => encodePem('X509 CRL', der) },
  { suffix: '.crl', contentType: 'application/pkix-crl', body: (der: Buffer) => der },
] as const;

/**
 * `GET /pki/crl/{CACertificateId}.crl`: the managed CA's current CRL, DER (the CRL distribution
 * point of what the CA signs; `openssl crl -inform DER` reads it). `GET /pki/crl/{CACertificateId}.crl.pem`:
 * the same CRL in PEM, the form nginx's `ssl_crl` and envoy's `crl` read, so a server can be fed
 * with curl alone. Always up to date with the inventory when served, so caches must ask again each time.
 */
export function crlRoute(server: FastifyInstance, crls: CrlIssuer): void {
  server.get<{ Params: { file: string } }>('/pki/crl/:file', async (request, reply) => {
    const { file } = request.params;
    const form = FORMS.find((f) => file.endsWith(f.suffix));
    const der = form ? await crls.current(file.slice(0, -form.suffix.length)) : undefined;
    if (form === undefined || der === undefined) {
      return reply.code(404).send(pkiError('certificate.not_found', `no CRL is published at /pki/crl/${file.slice(0, 80)}`));
    }
    return reply.header('content-type', form.contentType).header('cache-control', 'no-cache').send(form.body(der));
  });
}
