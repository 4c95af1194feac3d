/**
 * Debian's nginx enforcing mTLS with `ssl_crl`, its CRL kept by certplane alone: a deploy target for
 * the site's managed CA (`certplane deploy add --client-ca … --reload-command 'nginx -s reload'`)
 * writes the CRL into nginx's directory and reloads nginx, at once and after every revoke and
 * activate, run by certplane's own workers. The test only revokes and activates through the official
 * ESA SDK and watches what curl gets: no fetch, no file written, no reload of its own.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, until } from '../support/cli.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { startNginx, type ClientCredentials, type ClientOutcome, type NginxServer } from '../support/nginx.js';
import { makeCsr, testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

interface Client extends ClientCredentials {
  label: string;
  id: string;
}

/** Splits nothing: each argument is quoted for the reload command's shell-like parsing. */
const commandLine = (argv: string[]) => argv.map((a) => `'${a}'`).join(' ');

for (const engine of ENGINES) {
  describe(`nginx ssl_crl kept by a client CA deploy target on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let nginx: NginxServer;
    let siteId: number;
    const clients: Client[] = [];

    before(async () => {
      service = await startService(engine, { worker: {} });
      tenant = await tenantOf(service, 'nginx-deploy');
      siteId = (await tenant.site()).siteId;
      let caId = '';
      for (const [label, request] of [
        ['ECC CSR', { CSR: makeCsr(testKey('p256'), { subject: '/CN=ecc-csr' }) }],
        ['generated RSA key', { pkeyType: 'RSA' }],
      ] as const) {
        const body = (await tenant.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 30, ...request }))).body!;
        clients.push({ label, id: body.id!, certPem: body.certificate!, keyPem: 'CSR' in request ? testKey('p256').pem : body.privateKey! });
        caId = body.CACertificateId!;
      }
      const clientCaPem = await (await fetch(`${service.baseUrl}/pki/ca/${caId}.pem`)).text();
      // nginx starts with the CRL of the moment; from then on certplane keeps it.
      const crl = await (await fetch(`${service.baseUrl}/pki/crl/${caId}.crl.pem`)).text();
      nginx = await startNginx({ clientCaPem, revocation: { mode: 'crl', crl }, crlFile: 'crl.pem' });
      const env = { CERTPLANE_DATA_DIR: service.testDb.dataDir, DATABASE_URL: service.testDb.url };
      const workers = nginx.processes().workers;
      const added = cli(
        ['deploy', 'add', '--account', tenant.accountId, '--client-ca', caId, '--directory', dirname(nginx.crlPath!), '--reload-command', commandLine(nginx.reloadArgv())],
        env,
      );
      assert.equal(added.status, 0, added.stderr);
      // Its first deployment: ca.pem and crl.pem written, nginx reloaded.
      await until(() => existsSync(`${dirname(nginx.crlPath!)}/ca.pem`) && reloadedSince(workers), () => `the first deployment did not happen:\n${nginx.errorLog().slice(-2000)}`);
    });
    after(async () => {
      await nginx?.stop();
      await service?.stop();
    });

    /** nginx answered SIGHUP: none of `before`'s workers is left and a new one serves. */
    const reloadedSince = (before: number[]) => {
      const now = nginx.processes().workers;
      return now.length > 0 && !now.some((pid) => before.includes(pid));
    };
    const outcomeOf = (client: Client) => nginx.request(client);
    const accepted = (result: ClientOutcome) => result.outcome === 'ok';
    const revoked = (result: ClientOutcome) => result.outcome === 'certificate-error' && /revoked/.test(result.reason ?? '');

    it('accepts every certificate CreateClientCertificate issued', async () => {
      for (const client of clients) assert.ok(accepted(await outcomeOf(client)), client.label);
    });

    for (const index of [0, 1]) {
      it(`client ${index + 1}: refused soon after RevokeClientCertificate, accepted again soon after ActivateClientCertificate`, async () => {
        const client = clients[index]!;
        const other = clients[1 - index]!;
        await tenant.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: client.id }));
        let last: ClientOutcome | undefined;
        await until(async () => revoked((last = await outcomeOf(client))), () => `${client.label} was not refused as revoked: ${JSON.stringify(last)}`, 20_000);
        assert.ok(accepted(await outcomeOf(other)), `${other.label} is still accepted`);

        await tenant.esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: client.id }));
        await until(async () => accepted((last = await outcomeOf(client))), () => `${client.label} was not accepted again: ${JSON.stringify(last)}`, 20_000);
      });
    }

    it('recorded a successful deployment for each change', async () => {
      const deployed = await service.app.database.db.selectFrom('jobs').select(['state']).where('name', '=', 'deploy.crl').execute();
      assert.equal(deployed.length, 1 + 2 * 2, 'one at add, one per revoke and per activate');
      await until(async () => (await service.app.database.db.selectFrom('jobs').select('state').where('name', '=', 'deploy.crl').where('state', '!=', 'done').execute()).length === 0, 'deploy.crl jobs still running');
    });
  });
}
