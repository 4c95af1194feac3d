import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Esa, esaClient, sdkError } from '../support/alibaba.js';
import { startBind, type BindServer } from '../support/bind.js';
import { ENGINES } from '../support/databases.js';
import { verifySite } from '../support/esa-verify.js';
import { startService, type TestService } from '../support/service.js';

/** Four names: six pairs, so six sites of one name at most. */
const POOL = ['ns1.pool-test.net', 'ns2.pool-test.net', 'ns3.pool-test.net', 'ns4.pool-test.net'];

let seq = 0;
const uniqueName = (prefix: string) => `${prefix}${process.pid}x${++seq}.com`;
const nsRecords = (names: readonly string[]) => names.map((ns) => ({ name: '@', type: 'NS' as const, value: `${ns}.` }));

for (const engine of ENGINES) {
  describe(`Who owns a site name, through the official SDK and BIND on ${engine}`, () => {
    let bind: BindServer;
    let service: TestService;

    before(async () => {
      bind = await startBind();
      service = await startService(engine, { config: { dnsResolver: bind.address, nameServers: POOL } });
    });
    after(async () => {
      await service.stop();
      await bind.stop();
    });

    /** A new account with an access key, a plan instance and an SDK client. */
    async function tenant(plan = 'enterprise') {
      const account = await service.app.accounts.createAccount(`owner${++seq}`);
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      const instance = await service.app.plans.grant(account.id, plan);
      const client = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
      const create = async (siteName: string, accessType: 'NS' | 'CNAME' = 'NS') =>
        (await client.createSite(new Esa.CreateSiteRequest({ siteName, accessType, coverage: 'global', instanceId: instance.id })))
          .body!;
      const status = async (siteId: number) =>
        (await client.getSite(new Esa.GetSiteRequest({ siteId }))).body!.siteModel!.status;
      return { client, create, status, instanceId: instance.id };
    }

    it('verifies only the site whose own nameserver pair the name is delegated to; a later delegation moves it', async () => {
      const name = uniqueName('owned');
      const a = await tenant();
      const b = await tenant();
      const siteA = await a.create(name);
      const siteB = await b.create(name);
      const pairA = siteA.nameServerList!.split(',');
      const pairB = siteB.nameServerList!.split(',');
      assert.equal(pairA.length, 2);
      assert.equal(pairB.length, 2);
      assert.notDeepEqual(pairA, pairB, 'two sites of one name never hold the same pair');

      // Delegated to both pairs at once: no site holds exactly that delegation.
      await bind.addZone(name, nsRecords([...new Set([...pairA, ...pairB])]));
      const both = await verifySite(a.client, siteA.siteId!);
      assert.equal(both.passed, false);
      assert.match(both.detail.Reason, /exactly/);

      await bind.setRecords(name, nsRecords(pairA));
      const refused = await verifySite(b.client, siteB.siteId!);
      assert.equal(refused.passed, false);
      assert.deepEqual(refused.detail, {
        RecordType: 'NS',
        RecordName: name,
        Expected: pairB,
        Found: [...pairA].sort(),
        Resolver: bind.address,
        Reason: refused.detail.Reason,
      });
      assert.match(refused.detail.Reason, new RegExp(`must be delegated to exactly ${pairB.join(' and ')}`));
      assert.equal(await b.status(siteB.siteId!), 'pending');

      const owner = await verifySite(a.client, siteA.siteId!);
      assert.equal(owner.passed, true);
      assert.equal(await a.status(siteA.siteId!), 'active');
      assert.equal(await b.status(siteB.siteId!), 'pending');

      // The name changes hands: its delegation now points at B's pair.
      await bind.setRecords(name, nsRecords(pairB));
      assert.equal((await verifySite(b.client, siteB.siteId!)).passed, true);
      assert.equal(await b.status(siteB.siteId!), 'active');
      assert.equal(await a.status(siteA.siteId!), 'moved');
      const moved = await a.client.listSites(new Esa.ListSitesRequest({ status: 'moved' }));
      assert.deepEqual(moved.body!.sites!.map((s) => s.siteId), [siteA.siteId]);
      // A cannot win it back without the delegation.
      assert.equal((await verifySite(a.client, siteA.siteId!)).passed, false);
      assert.equal(await a.status(siteA.siteId!), 'moved');
    });

    it('creates and verifies a subdomain site in CNAME mode through the TXT record at _esaauth.<site>', async () => {
      const parent = uniqueName('parent');
      const name = `shop.${parent}`;
      const t = await tenant();
      const site = await t.create(name, 'CNAME');
      assert.equal((await t.client.getSite(new Esa.GetSiteRequest({ siteId: site.siteId }))).body!.siteModel!.siteName, name);

      // The VerifyCode at the bare site name is not where ESA looks.
      await bind.addZone(parent, [{ name: 'shop', type: 'TXT', value: site.verifyCode! }]);
      const bare = await verifySite(t.client, site.siteId!);
      assert.equal(bare.passed, false);
      assert.deepEqual(
        [bare.detail.RecordType, bare.detail.RecordName, bare.detail.Expected, bare.detail.Found, bare.detail.Resolver],
        ['TXT', `_esaauth.${name}`, [site.verifyCode], [], bind.address],
      );
      assert.match(bare.detail.Reason, /no TXT record at _esaauth\./);
      assert.equal(await t.status(site.siteId!), 'pending');

      await bind.setRecords(parent, [
        { name: '_esaauth.shop', type: 'TXT', value: 'google-site-verification=abc' },
        { name: '_esaauth.shop', type: 'TXT', value: site.verifyCode! },
      ]);
      const verified = await verifySite(t.client, site.siteId!);
      assert.equal(verified.passed, true);
      assert.deepEqual([...verified.detail.Found].sort(), ['google-site-verification=abc', site.verifyCode].sort());
      assert.equal(await t.status(site.siteId!), 'active');
    });

    it('lets two accounts create the same site name, with different pairs, until every pair of the pool is held', async () => {
      const name = uniqueName('shared');
      const tenants = await Promise.all(Array.from({ length: 7 }, () => tenant()));
      const pairs = [];
      for (const t of tenants.slice(0, 6)) pairs.push((await t.create(name)).nameServerList!);
      assert.equal(new Set(pairs).size, 6, 'six sites of one name, six different pairs');
      // A CNAME-mode site holds no pair, so it still fits.
      assert.equal((await tenants[6]!.create(name, 'CNAME')).nameServerList, '');

      const last = await tenant();
      const full = await sdkError(last.create(name));
      assert.deepEqual([full.code, full.statusCode], ['NameServerPairsExhausted', 409]);
      assert.match(full.message, /nameServers/);
      assert.equal((await last.client.listSites(new Esa.ListSitesRequest({}))).body!.totalCount, 0, 'nothing stored');

      // Deleting a site frees its pair for the next one.
      const freed = await tenants[2]!.client.listSites(new Esa.ListSitesRequest({ siteName: name, siteSearchType: 'exact' }));
      await tenants[2]!.client.deleteSite(new Esa.DeleteSiteRequest({ siteId: freed.body!.sites![0]!.siteId }));
      assert.equal((await last.create(name)).nameServerList, pairs[2]);
    });

    it('gives parallel creations of one name in six accounts six different pairs', async () => {
      const name = uniqueName('parallel');
      const tenants = await Promise.all(Array.from({ length: 6 }, () => tenant()));
      const created = await Promise.all(tenants.map((t) => t.create(name)));
      assert.equal(new Set(created.map((c) => c.nameServerList)).size, 6);
    });

    it('stores exactly as many sites as the plan allows when CreateSite calls race', async () => {
      const t = await tenant('free');
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => t.create(uniqueName(`race${i}-`))));
      const created = results.filter((r) => r.status === 'fulfilled');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code: string }] : []));
      assert.equal(created.length, 3, 'the free plan allows three sites');
      assert.deepEqual(refused.map((e) => e.code), Array(7).fill('QuotaExceeded'));
      assert.equal((await t.client.listSites(new Esa.ListSitesRequest({}))).body!.totalCount, 3);
    });
  });
}
