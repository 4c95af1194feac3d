/**
 * Resource packages under concurrency, on SQLite and PostgreSQL: parallel submissions through the
 * official CAS SDK never use more units than were granted, parallel cancellations give each unit
 * back exactly once; and `certplane package grant` through the real binary.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sdkError, type SdkError } from '../support/alibaba.js';
import { Cas, casTenant, csrFor, domain, type CasTenant } from '../support/cas.js';
import { cli } from '../support/cli.js';
import { openDatabase } from '../../src/adapters/db/database.js';
import { ENGINES, createTestDatabase } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const CONTACT = { username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' };

for (const engine of ENGINES) {
  describe(`CAS packages on ${engine}`, () => {
    let service: TestService;
    let tenant: CasTenant;

    before(async () => {
      service = await startService(engine);
      tenant = await casTenant(service);
    });
    after(() => service.stop());

    const packageState = async () => (await tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;

    it('lets exactly 5 of 20 parallel submissions through when 5 units remain', async () => {
      await tenant.grant(7);
      for (let i = 0; i < 2; i++) await tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ ...CONTACT, csr: csrFor(domain()) }));
      const csrs = Array.from({ length: 20 }, () => csrFor(domain()));
      const outcomes = await Promise.allSettled(
        csrs.map((csr) => tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ ...CONTACT, csr }))),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as SdkError);
      assert.equal(won.length, 5);
      assert.deepEqual([...new Set(lost.map((e) => `${e.code} ${e.statusCode}`))], ['NotRemainCount 404'], lost.map((e) => e.message).join('; '));
      const state = await packageState();
      assert.deepEqual([state.totalCount, state.usedCount], [7, 7]);
      const orders = await service.app.database.db.selectFrom('cas_orders').select('id').where('account_id', '=', tenant.accountId).execute();
      assert.equal(orders.length, 7, 'one order per unit, no more');
    });

    it('gives each unit back exactly once when every order is cancelled twice at the same time', async () => {
      const list = (await tenant.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest({}))).body!;
      const ids = list.certificateOrderList!.slice(0, 5).map((o) => o.orderId!);
      const cancels = await Promise.allSettled([...ids, ...ids].map((orderId) => tenant.cas.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId }))));
      assert.equal(cancels.filter((c) => c.status === 'fulfilled').length, 5, 'one cancel per order wins');
      const refused = cancels.filter((c): c is PromiseRejectedResult => c.status === 'rejected').map((c) => (c.reason as SdkError).code);
      assert.deepEqual(refused, Array(5).fill('OrderStateError'));
      assert.equal((await packageState()).usedCount, 2);

      const again = await Promise.allSettled(Array.from({ length: 8 }, () => tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ ...CONTACT, csr: csrFor(domain()) }))));
      assert.equal(again.filter((o) => o.status === 'fulfilled').length, 5, 'the five units given back serve five new orders');
      assert.equal((await packageState()).usedCount, 7);
      const err = await sdkError(tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ ...CONTACT, csr: csrFor(domain()) })));
      assert.equal(err.code, 'NotRemainCount');
    });
  });

  describe(`certplane package grant on ${engine}`, () => {
    it('grants units as one JSON object, adds to what was granted, and refuses what it cannot do', async () => {
      const db = await createTestDatabase(engine);
      try {
        const env = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url };
        const accountId = String(cli(['account', 'create', '--name', 'pkg'], env).json?.accountId);
        const granted = cli(['package', 'grant', '--account', accountId, '--product-code', 'digicert-free-1-free', '--count', '5'], env);
        assert.equal(granted.status, 0, granted.stderr);
        assert.deepEqual(granted.json, { accountId, productCode: 'digicert-free-1-free', granted: 5, totalCount: 5, usedCount: 0, issuedCount: 0 });
        const more = cli(['package', 'grant', '--account', accountId, '--product-code', 'digicert-free-1-free', '--count', '3'], env);
        assert.equal(more.json?.totalCount, 8);
        const grants = (cli(['audit', 'list', '--account', accountId], env).json!.events as Array<Record<string, unknown>>).filter((e) => e.action === 'certplane:GrantPackage');
        assert.deepEqual(
          grants.map((e) => [e.actor, String(e.resource).split(':').pop()]),
          [['operator:cli', 'package/digicert-free-1-free'], ['operator:cli', 'package/digicert-free-1-free']],
          'each grant on record',
        );

        const unknown = cli(['package', 'grant', '--account', accountId, '--product-code', 'cfca-ev-w-advanced', '--count', '1'], env);
        assert.equal(unknown.status, 1);
        assert.equal(unknown.stdout, '');
        const error = (JSON.parse(unknown.stderr) as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'product.not_found');
        assert.match(error.message, /no certificate product "cfca-ev-w-advanced" is offered \(products: digicert-free-1-free\)/);
        for (const [args, code] of [
          [['--account', '999999999999999', '--product-code', 'digicert-free-1-free', '--count', '1'], 'account.not_found'],
          [['--account', accountId, '--product-code', 'digicert-free-1-free', '--count', '0'], 'request.invalid_parameter'],
          [['--account', accountId, '--product-code', 'digicert-free-1-free', '--count', 'many'], 'request.invalid_parameter'],
        ] as const) {
          const refused = cli(['package', 'grant', ...args], env);
          assert.equal(refused.status, 1, refused.stderr);
          assert.equal((JSON.parse(refused.stderr) as { error: { code: string } }).error.code, code, args.join(' '));
        }

        // Grants add up to at most 1,000,000,000 in one package; past that the grant is refused and changes nothing.
        const store = openDatabase(db.database);
        try {
          await store.db.updateTable('cas_packages').set({ total_count: 999_999_998 }).where('account_id', '=', accountId).execute();
        } finally {
          await store.close();
        }
        const grantCount = (count: string) => cli(['package', 'grant', '--account', accountId, '--product-code', 'digicert-free-1-free', '--count', count], env);
        const over = grantCount('3');
        assert.equal(over.status, 1, over.stdout);
        const overError = (JSON.parse(over.stderr) as { error: { code: string; message: string } }).error;
        assert.equal(overError.code, 'request.invalid_parameter');
        assert.match(overError.message, /would bring the package to more than 1000000000 certificates \(it holds 999999998\)/);
        assert.equal(grantCount('2').json?.totalCount, 1_000_000_000, 'up to the cap');
        const grantsNow = (cli(['audit', 'list', '--account', accountId], env).json!.events as Array<Record<string, unknown>>).filter((e) => e.action === 'certplane:GrantPackage');
        assert.equal(grantsNow.length, 3, 'the refused grant is not on record');

        // A configured catalogue replaces the default one; a product on an unknown issuer stops the command.
        const config = join(db.dataDir, 'products.json');
        writeFileSync(config, JSON.stringify({ products: { 'geotrust-dv-w-starter': { issuer: 'lets_encrypt', wildcard: true }, 'x-dv-1': { issuer: 'nowhere', wildcard: false } } }));
        const bad = cli(['--config', config, 'package', 'grant', '--account', accountId, '--product-code', 'geotrust-dv-w-starter', '--count', '1'], env);
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /products in --config .*products\.json \(x-dv-1\.issuer\): "nowhere" is not a key of issuers/);
        writeFileSync(config, JSON.stringify({ products: { 'geotrust-dv-w-starter': { issuer: 'lets_encrypt', wildcard: true } } }));
        const wild = cli(['--config', config, 'package', 'grant', '--account', accountId, '--product-code', 'geotrust-dv-w-starter', '--count', '2'], env);
        assert.equal(wild.status, 0, wild.stderr);
        assert.equal(wild.json?.totalCount, 2);
      } finally {
        await db.drop();
      }
    });
  });
}


