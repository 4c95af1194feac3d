import type { FastifyInstance } from 'fastify';
import type { App } from '../../main.js';
import { caCertificateRoute } from './ca-certificate.js';

/**
 * What relying parties fetch without credentials, under `{publicUrl}/pki/`: each managed CA's
 * certificate at `/pki/ca/{CACertificateId}.pem`. (CRLs and the OCSP responder belong here too.)
 * Errors are plain JSON, `{"error":{"code","message"}}`: these clients speak no cloud dialect.
 */
export function pki(app: App) {
  return async function plugin(server: FastifyInstance): Promise<void> {
    caCertificateRoute(server, app);
  };
}
