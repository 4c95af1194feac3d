/**
 * The error codes of ApplyCertificate's documentation that test/api/esa-apply-certificate.test.ts
 * does not reach, each from its real condition, through the official ESA SDK against a real
 * `certplane serve` pointed at pebble: `Unauthorized.InvalidTime` (the client's clock 16 minutes
 * off, either way) and `Unauthorized.InvalidToken` (a wrong secret, an unknown key, a key the
 * operator disabled with the CLI while the server runs). A refused application stores
 * nothing and orders nothing; the same application, properly signed, is then accepted and issued.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { esaClient, sdkError } from '../support/alibaba.js';
import { cliAsync } from '../support/cli.js';
import { Esa, cnameSite, describeServedSites, settled, type EsaClient } from '../support/served-acme.js';

describeServedSites(
  'ESA ApplyCertificate refused before anything is stored, through certplane serve',
  {
    keys: 2,
    makeSite: ({ world, tenant, esa }, engine) => cnameSite(esa, world.bind, tenant, `refused-${engine}.e2e.test`, [{ name: 'www', type: 'A', value: '127.0.0.1' }]),
  },
  (current) => {
    /** pebble's orders since this engine's server started (the other engine's came before). */
    let ordersBefore = 0;
    before(() => {
      ordersBefore = current().world.orders().length;
    });
    const orders = () => current().world.orders().slice(ordersBefore);
    const endpoint = () => current().server.baseUrl.replace('http://', '');
    const apply = (esa: EsaClient) => {
      const { site } = current();
      return esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: `www.${site.siteName}` }));
    };

    /** The call fails with this status and code, and the site has no certificate and pebble no order. */
    async function refused(call: Promise<unknown>, status: number, code: string, message: RegExp): Promise<void> {
      const err = await sdkError(call);
      assert.deepEqual([err.statusCode, err.code], [status, code], err.message);
      assert.match(String(err.data?.Message), message);
      const { esa, site } = current();
      const list = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId }))).body!;
      assert.equal(list.totalCount, 0, 'no certificate stored');
      assert.deepEqual(orders(), [], 'nothing ordered');
    }

    it('Unauthorized.InvalidTime: a request signed 16 minutes in the past or the future', async (t) => {
      for (const skew of [-16, 16]) {
        // The client's clock is off: the SDK dates and signs the request with it.
        t.mock.timers.enable({ apis: ['Date'], now: Date.now() + skew * 60_000 });
        const call = apply(current().esa);
        t.mock.timers.reset();
        await refused(call, 403, 'Unauthorized.InvalidTime', /^The specified authentication time is invalid/);
      }
    });

    it('Unauthorized.InvalidToken: a wrong secret, an unknown key, a key the operator disabled', async () => {
      const { deployment, tenant } = current();
      const message = /^Token authentication failed/;
      const secret = tenant.key.accessKeySecret;
      const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
      await refused(apply(esaClient(endpoint(), { ...tenant.key, accessKeySecret: wrong })), 403, 'Unauthorized.InvalidToken', message);
      await refused(apply(esaClient(endpoint(), { ...tenant.key, accessKeyId: 'CPNOSUCHKEY0000000000' })), 403, 'Unauthorized.InvalidToken', message);

      // Another key of the account works until the operator disables it while the server runs.
      const other = tenant.keys[1]!;
      const { site } = current();
      assert.equal((await esaClient(endpoint(), other).getSite(new Esa.GetSiteRequest({ siteId: site.siteId }))).body!.siteModel!.siteId, site.siteId);
      const disabled = await cliAsync(['key', 'disable', '--id', other.accessKeyId], deployment.env);
      assert.equal(disabled.json?.status, 'disabled', disabled.stderr);
      await refused(apply(esaClient(endpoint(), other)), 403, 'Unauthorized.InvalidToken', message);
    });

    it('the same application, properly signed, is accepted and issued', async () => {
      const { esa, site } = current();
      const applied = (await apply(esa)).body!;
      assert.equal(applied.result![0]!.status, 'Applying');
      assert.equal((await settled(esa, site.siteId, applied.result![0]!.id!)).status, 'OK');
      assert.equal(orders().length, 1);
    });
  },
);
