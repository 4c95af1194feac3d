/**
 * Debian's nginx enforcing mTLS with a site's managed CA (`ssl_verify_client on`, the CA as
 * `ssl_client_certificate`), its revocation checked against certplane:
 *   (a) CRL mode: `ssl_crl` holds the CRL fetched fresh, in PEM, from /pki/crl/{id}.crl.pem, and
 *       nginx is reloaded after each change;
 *   (b) OCSP mode: `ssl_ocsp on` with certplane's /pki/ocsp as `ssl_ocsp_responder`, never reloaded.
 * curl presents a certificate from CreateClientCertificate → 200; after RevokeClientCertificate the
 * request is refused as revoked; after ActivateClientCertificate → 200 again. For the CSR path and
 * the generated-key path, RSA and ECC, all driven through the official ESA SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { startNginx, type ClientCredentials, type ClientOutcome, type NginxServer } from '../support/nginx.js';
import { makeCsr, testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

interface Client extends ClientCredentials {
  label: string;
  id: string;
  /** Lower-case hex, as the API shows it. */
  serial: string;
}

/** How each certificate is asked for: a CSR made with our own key, or a key certplane generates. */
type Kind = { label: string; csrKey: 'rsa' | 'p256' } | { label: string; pkeyType: 'RSA' | 'ECC' };

const KINDS: readonly Kind[] = [
  { label: 'RSA CSR', csrKey: 'rsa' },
  { label: 'ECC CSR', csrKey: 'p256' },
  { label: 'generated RSA key', pkeyType: 'RSA' },
  { label: 'generated ECC key', pkeyType: 'ECC' },
];

function assertAccepted(result: ClientOutcome, client: Client): void {
  assert.equal(result.outcome, 'ok', `${client.label}: ${JSON.stringify(result)}`);
  // $ssl_client_serial: upper-case hex (certplane's serials have no leading zero octet).
  if (result.outcome === 'ok') assert.equal(result.serial.toLowerCase(), client.serial, client.label);
}

function assertRevoked(result: ClientOutcome, client: Client): void {
  assert.equal(result.outcome, 'certificate-error', `${client.label}: ${JSON.stringify(result)}`);
  if (result.outcome === 'certificate-error') assert.match(result.reason ?? '', /revoked/, `${client.label}: ${JSON.stringify(result.log)}`);
}

for (const engine of ENGINES) {
  for (const mode of ['crl', 'ocsp'] as const) {
    describe(`nginx with ${mode === 'crl' ? 'ssl_crl from /pki/crl (reloaded)' : 'ssl_ocsp asking /pki/ocsp (no reload)'} on ${engine}`, () => {
      let service: TestService;
      let tenant: Tenant;
      let nginx: NginxServer;
      let siteId: number;
      let caId: string;
      const clients: Client[] = [];

      /** The CRL as `ssl_crl` reads it, PEM, straight from certplane: what `curl -o` would write. */
      const freshCrl = async (): Promise<string> => {
        const response = await fetch(`${service.baseUrl}/pki/crl/${caId}.crl.pem`);
        assert.equal(response.status, 200);
        return response.text();
      };
      /** What an operator does after a change: CRL mode fetches the CRL and reloads; OCSP mode nothing. */
      const propagate = async () => {
        if (mode === 'crl') await nginx.reload({ crl: await freshCrl() });
      };

      before(async () => {
        service = await startService(engine);
        tenant = await tenantOf(service, `nginx-${mode}`);
        siteId = (await tenant.site()).siteId;
        for (const kind of KINDS) {
          const key = 'csrKey' in kind ? testKey(kind.csrKey) : undefined;
          const body = (
            await tenant.esa.createClientCertificate(
              new Esa.CreateClientCertificateRequest({
                siteId,
                validityDays: 30,
                ...('csrKey' in kind ? { CSR: makeCsr(key!, { subject: `/CN=${kind.label.replaceAll(' ', '-')}` }) } : { pkeyType: kind.pkeyType }),
              }),
            )
          ).body!;
          clients.push({ label: kind.label, id: body.id!, serial: body.serialNumber!, certPem: body.certificate!, keyPem: key ? key.pem : body.privateKey! });
          caId = body.CACertificateId!;
        }
        // The trust anchor as a relying party downloads it, without credentials.
        const clientCaPem = await (await fetch(`${service.baseUrl}/pki/ca/${caId}.pem`)).text();
        nginx = await startNginx({
          clientCaPem,
          revocation: mode === 'crl' ? { mode, crl: await freshCrl() } : { mode, responderUrl: `${service.baseUrl}/pki/ocsp` },
        });
      });
      after(async () => {
        await nginx?.stop();
        await service?.stop();
      });

      it('accepts every certificate CreateClientCertificate issued', async () => {
        for (const client of clients) assertAccepted(await nginx.request(client), client);
      });

      for (const [index, kind] of KINDS.entries()) {
        it(`${kind.label}: refused once revoked, accepted again once activated`, async () => {
          const client = clients[index]!;
          const other = clients[(index + 1) % clients.length]!;
          await tenant.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: client.id }));
          await propagate();
          assertRevoked(await nginx.request(client), client);
          assertAccepted(await nginx.request(other), other);

          await tenant.esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: client.id }));
          await propagate();
          assertAccepted(await nginx.request(client), client);
        });
      }

      it(mode === 'crl' ? 'was reloaded for every change' : 'was never reloaded', () => {
        assert.equal(nginx.generation, mode === 'crl' ? 1 + 2 * KINDS.length : 1);
      });
    });
  }
}
