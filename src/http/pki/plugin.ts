import type { FastifyInstance } from 'fastify';
import type { App } from '../../main.js';
import { caCertificateRoute } from './ca-certificate.js';
import { crlRoute } from './crl.js';
import { ocspRoutes } from './ocsp.js';

/**
 * What relying parties fetch without credentials, under `{publicUrl}/pki/`: each managed CA's
 * certificate at `/pki/ca/{CACertificateId}.pem`, its CRL at `/pki/crl/{CACertificateId}.crl`
 * (and in PEM at `.crl.pem`),
 * and the OCSP responder at `/pki/ocsp`. Errors of the first two are plain JSON,
 * `{"error":{"code","message"}}` (these clients speak no cloud dialect); the responder answers
 * everything with an OCSPResponse.
 */
export function pki(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    caCertificateRoute(server, app);
    crlRoute(server, app.crls);
    await server.register(ocspRoutes(app.ocsp));
  };
}
