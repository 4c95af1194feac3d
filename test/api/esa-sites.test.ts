import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/kernel/clock.js';
import { Esa, esaClient, recordingProxy, sdkError, send } from '../support/alibaba.js';
import { startBind, type BindServer } from '../support/bind.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const NAME_SERVERS = ['ns1.certplane-test.net', 'ns2.certplane-test.net', 'ns3.certplane-test.net', 'ns4.certplane-test.net'];

/** The system clock, shifted on demand: for requests signed too far in the past. */
function shiftableClock(): Clock & { shiftMs: number } {
  const clock = { shiftMs: 0, now: () => new Date(Date.now() + clock.shiftMs) };
  return clock;
}

let seq = 0;
const siteName = (tld = 'com') => `shop${process.pid}x${++seq}.${tld}`;

for (const engine of ENGINES) {
  describe(`ESA sites through the official SDK on ${engine}`, () => {
    const clock = shiftableClock();
    let bind: BindServer;
    let service: TestService;
    let endpoint: string;
    let root: { accountId: string; accessKeyId: string; accessKeySecret: string; instanceId: string };
    let esa: ReturnType<typeof esaClient>;

    before(async () => {
      bind = await startBind();
      service = await startService(engine, {
        clock,
        config: { dnsResolver: bind.address, nameServers: NAME_SERVERS },
      });
      endpoint = service.baseUrl.replace('http://', '');
      const account = await service.app.accounts.createAccount('esa');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      const instance = await service.app.plans.grant(account.id, 'enterprise');
      root = { accountId: account.id, accessKeyId: key.id, accessKeySecret: secret, instanceId: instance.id };
      esa = esaClient(endpoint, { accessKeyId: key.id, accessKeySecret: secret });
    });
    after(async () => {
      await service.stop();
      await bind.stop();
    });

    async function createSite(name: string, accessType: 'NS' | 'CNAME' = 'NS') {
      const res = await esa.createSite(
        new Esa.CreateSiteRequest({ siteName: name, accessType, coverage: 'global', instanceId: root.instanceId }),
      );
      return res.body!;
    }

    it('CreateSite → GetSite → VerifySite (NS, against BIND) → ListSites → GetCertificateQuota → DeleteSite', async () => {
      const name = siteName();
      const created = await createSite(name.toUpperCase());
      assert.equal(typeof created.siteId, 'number');
      const pair = created.nameServerList!.split(',');
      assert.equal(pair.length, 2, 'a pair of the pool');
      assert.equal(new Set(pair).size, 2);
      assert.ok(pair.every((ns) => NAME_SERVERS.includes(ns)), created.nameServerList);
      assert.match(created.verifyCode!, /^verify_[0-9a-f]{32}$/);
      assert.ok(created.requestId);

      const got = (await esa.getSite(new Esa.GetSiteRequest({ siteId: created.siteId }))).body!.siteModel!;
      assert.equal(got.siteName, name, 'case folded');
      assert.equal(got.status, 'pending');
      assert.equal(got.accessType, 'NS');
      assert.equal(got.coverage, 'global');
      assert.equal(got.instanceId, root.instanceId);
      assert.equal(got.planSpecName, 'enterprise');
      assert.equal(got.verifyCode, created.verifyCode);
      assert.equal(got.nameServerList, created.nameServerList);
      assert.match(got.createTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      // Delegated elsewhere first: not verified, still pending.
      await bind.addZone(name, [
        { name: '@', type: 'NS', value: 'ns1.other-dns.net.' },
        { name: '@', type: 'NS', value: 'ns2.other-dns.net.' },
      ]);
      const early = await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }));
      assert.equal(early.body!.passed, false);
      assert.equal((await esa.getSite(new Esa.GetSiteRequest({ siteId: created.siteId }))).body!.siteModel!.status, 'pending');

      await bind.setRecords(name, pair.map((ns) => ({ name: '@', type: 'NS' as const, value: `${ns}.` })));
      const verified = await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }));
      assert.equal(verified.body!.passed, true);
      assert.equal((await esa.getSite(new Esa.GetSiteRequest({ siteId: created.siteId }))).body!.siteModel!.status, 'active');

      const listed = (await esa.listSites(new Esa.ListSitesRequest({ siteName: name, siteSearchType: 'exact' }))).body!;
      assert.equal(listed.totalCount, 1);
      assert.equal(listed.sites![0]!.siteId, created.siteId);
      assert.equal(listed.sites![0]!.status, 'active');

      const quota = (await esa.getCertificateQuota(new Esa.GetCertificateQuotaRequest({ siteId: created.siteId, type: 'free' }))).body!;
      assert.equal(quota.quota, 1000);
      assert.equal(quota.quotaUsage, 0);
      assert.equal(quota.type, 'free');
      assert.ok(quota.siteCount! >= 1);
      assert.ok(quota.siteUsage!.some((u) => u.siteId === String(created.siteId) && u.siteUsage === 0));

      const deleted = await esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: created.siteId }));
      assert.ok(deleted.body!.requestId);
      const gone = await sdkError(esa.getSite(new Esa.GetSiteRequest({ siteId: created.siteId })));
      assert.equal(gone.code, 'SiteNotFound');
      assert.equal(gone.statusCode, 400);
    });

    it('verifies a CNAME-mode site by the TXT record at _esaauth.<site> carrying its VerifyCode', async () => {
      const name = siteName('net');
      const created = await createSite(name, 'CNAME');
      assert.equal(created.nameServerList, '', 'a CNAME-mode site holds no nameservers');
      await bind.addZone(name, [{ name: '_esaauth', type: 'TXT', value: 'verify_somebody_else' }]);
      assert.equal((await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }))).body!.passed, false);
      // The code at the bare site name is not where ESA looks.
      await bind.setRecords(name, [{ name: '@', type: 'TXT', value: created.verifyCode! }]);
      assert.equal((await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }))).body!.passed, false);
      await bind.setRecords(name, [
        { name: '_esaauth', type: 'TXT', value: 'verify_somebody_else' },
        { name: '_esaauth', type: 'TXT', value: created.verifyCode! },
      ]);
      assert.equal((await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }))).body!.passed, true);
      const site = (await esa.getSite(new Esa.GetSiteRequest({ siteId: created.siteId }))).body!.siteModel!;
      assert.equal(site.status, 'active');
      assert.equal(site.cnameZone, `${name}.cname.certplane-dns.net`);
    });

    it('converts IDN site names to punycode, accepts subdomains and rejects IPs, public suffixes and invalid labels', async () => {
      const idn = await createSite(`例子${process.pid}.中国`);
      const model = (await esa.getSite(new Esa.GetSiteRequest({ siteId: idn.siteId }))).body!.siteModel!;
      assert.match(model.siteName!, /^xn--.*\.xn--fiqs8s$/);
      const sub = await createSite(`商店.例子${process.pid}.中国`);
      const subModel = (await esa.getSite(new Esa.GetSiteRequest({ siteId: sub.siteId }))).body!.siteModel!;
      assert.equal(subModel.siteName, `xn--czrs0t.${model.siteName}`);
      const www = `www.${siteName()}`;
      assert.equal((await esa.getSite(new Esa.GetSiteRequest({ siteId: (await createSite(www)).siteId }))).body!.siteModel!.siteName, www);
      const refused = [
        ['192.168.1.1', /IP address/],
        ['com', /public suffix/],
        ['co.uk', /public suffix/],
        ['github.io', /public suffix/], // the PSL's private section
        ['example.com.', /end with a dot/],
        ['bad_name!.com', /not a valid domain name/],
        ['-bad.com', /not a valid domain name/],
        [`${'a'.repeat(64)}.com`, /not a valid domain name/],
      ] as const;
      for (const [bad, why] of refused) {
        const err = await sdkError(createSite(bad));
        assert.equal(err.code, 'InvalidParameter.SiteName', bad);
        assert.equal(err.statusCode, 400);
        assert.match(err.message, why, bad);
      }
      const dup = siteName();
      await createSite(dup);
      assert.equal((await sdkError(createSite(dup.toUpperCase()))).code, 'SiteAlreadyExists');
    });

    it('lists with paging and filters', async () => {
      const account = await service.app.accounts.createAccount('lister');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      const free = await service.app.plans.grant(account.id, 'free');
      const client = esaClient(endpoint, { accessKeyId: key.id, accessKeySecret: secret });
      const names = ['alpha.com', 'beta.com', 'alphabet.org'];
      for (const [i, n] of names.entries()) {
        await client.createSite(
          new Esa.CreateSiteRequest({ siteName: n, accessType: i === 2 ? 'CNAME' : 'NS', coverage: 'domestic', instanceId: free.id }),
        );
      }
      const count = async (req: Record<string, unknown>) =>
        (await client.listSites(new Esa.ListSitesRequest(req))).body!.totalCount;
      assert.equal(await count({}), 3);
      assert.equal(await count({ siteName: 'alpha', siteSearchType: 'prefix' }), 2);
      assert.equal(await count({ siteName: '.com', siteSearchType: 'suffix' }), 2);
      assert.equal(await count({ siteName: 'pha', siteSearchType: 'fuzzy' }), 2);
      assert.equal(await count({ siteName: 'alpha.com', siteSearchType: 'exact' }), 1);
      assert.equal(await count({ accessType: 'CNAME' }), 1);
      assert.equal(await count({ status: 'active' }), 0);
      assert.equal(await count({ onlyEnterprise: true }), 0);
      assert.equal(await count({ planSubscribeType: 'basicplan' }), 3);
      const page = (await client.listSites(new Esa.ListSitesRequest({ pageNumber: 2, pageSize: 2 }))).body!;
      assert.deepEqual([page.pageNumber, page.pageSize, page.totalCount, page.sites!.length], [2, 2, 3, 1]);
      assert.equal((await sdkError(client.listSites(new Esa.ListSitesRequest({ pageSize: 501 })))).code, 'InvalidParameter.PageSize');
      assert.equal((await sdkError(client.listSites(new Esa.ListSitesRequest({ status: 'gone' })))).code, 'InvalidParameter.Status');

      // The free plan allows three sites.
      const fourth = await sdkError(
        client.createSite(new Esa.CreateSiteRequest({ siteName: 'gamma.com', accessType: 'NS', coverage: 'global', instanceId: free.id })),
      );
      assert.deepEqual([fourth.code, fourth.statusCode], ['QuotaExceeded', 403]);
      assert.equal(await count({}), 3);
    });

    it('accepts a signed URL of more than 64 KB', async () => {
      const tagFilter = Array.from({ length: 20 }, (_, i) => new Esa.ListSitesRequestTagFilter({ key: `k${i}`, value: 'v'.repeat(3300) }));
      const res = await esa.listSites(new Esa.ListSitesRequest({ tagFilter }));
      assert.equal(res.body!.totalCount, 0, 'sites carry no tags, so a tag filter matches none');
    });

    describe('parameters the SDK does not check', () => {
      it('answers a missing or malformed SiteId, a bad enum, an unknown instance and an unknown quota type', async () => {
        assert.equal((await sdkError(esa.getSite(new Esa.GetSiteRequest({})))).code, 'MissingSiteId');
        const wrongType = await sdkError(esa.getSite(new Esa.GetSiteRequest({ siteId: 'abc' as unknown as number })));
        assert.equal(wrongType.code, 'InvalidParameter.SiteId');
        const badAccess = await sdkError(
          esa.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'A', coverage: 'global', instanceId: root.instanceId })),
        );
        assert.equal(badAccess.code, 'InvalidParameter.AccessType');
        const missingCoverage = await sdkError(
          esa.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'NS', instanceId: root.instanceId })),
        );
        assert.equal(missingCoverage.code, 'MissingCoverage');
        const noInstance = await sdkError(
          esa.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'NS', coverage: 'global', instanceId: 'esa-site-nope' })),
        );
        assert.equal(noInstance.code, 'InstanceNotFound');
        const site = await createSite(siteName());
        const paid = await sdkError(esa.getCertificateQuota(new Esa.GetCertificateQuotaRequest({ siteId: site.siteId, type: 'paid' })));
        assert.equal(paid.code, 'InvalidParameter.Type');
      });

      it('answers an operation certplane does not offer with InvalidAction.NotFound', async () => {
        const err = await sdkError(esa.listRecords(new Esa.ListRecordsRequest({ siteId: 1 })));
        assert.deepEqual([err.code, err.statusCode], ['InvalidAction.NotFound', 404]);
      });
    });

    describe('authentication', () => {
      it('rejects a wrong secret and an unknown key with Unauthorized.InvalidToken', async () => {
        const wrong = esaClient(endpoint, { accessKeyId: root.accessKeyId, accessKeySecret: 'not-the-secret' });
        const err = await sdkError(wrong.listSites(new Esa.ListSitesRequest({})));
        assert.deepEqual([err.code, err.statusCode], ['Unauthorized.InvalidToken', 403]);
        const unknown = esaClient(endpoint, { accessKeyId: 'CPNOSUCHKEY', accessKeySecret: 'x' });
        assert.equal((await sdkError(unknown.listSites(new Esa.ListSitesRequest({})))).code, 'Unauthorized.InvalidToken');
      });

      it('rejects a request dated more than 15 minutes away with Unauthorized.InvalidTime', async () => {
        clock.shiftMs = 16 * 60_000;
        const late = await sdkError(esa.listSites(new Esa.ListSitesRequest({})));
        clock.shiftMs = 14 * 60_000;
        const fine = await esa.listSites(new Esa.ListSitesRequest({}));
        clock.shiftMs = 0;
        assert.deepEqual([late.code, late.statusCode], ['Unauthorized.InvalidTime', 403]);
        assert.ok(fine.body!.requestId);
      });

      it('accepts the legacy v1 signature', async () => {
        const v1 = esaClient(endpoint, root, { signatureAlgorithm: 'v2' });
        const site = await createSite(siteName());
        const got = await v1.getSite(new Esa.GetSiteRequest({ siteId: site.siteId }));
        assert.equal(got.body!.siteModel!.siteId, site.siteId);
      });

      it('rejects a replayed request and a tampered one, and neither changes anything', async () => {
        const proxy = await recordingProxy(service.baseUrl);
        try {
          const viaProxy = esaClient(proxy.endpoint, root);
          const name = siteName();
          await viaProxy.createSite(
            new Esa.CreateSiteRequest({ siteName: name, accessType: 'NS', coverage: 'global', instanceId: root.instanceId }),
          );
          const recorded = proxy.requests.at(-1)!;
          const before = (await esa.listSites(new Esa.ListSitesRequest({}))).body!.totalCount;

          const replay = await send(service.baseUrl, recorded);
          assert.deepEqual([replay.status, replay.json.Code], [400, 'SignatureNonceUsed']);

          const tampered = { ...recorded, url: recorded.url.replace(encodeURIComponent(name), encodeURIComponent(`x${name}`)) };
          assert.notEqual(tampered.url, recorded.url);
          const forged = await send(service.baseUrl, tampered);
          assert.deepEqual([forged.status, forged.json.Code], [403, 'Unauthorized.InvalidToken']);
          assert.equal(typeof forged.json.RequestId, 'string');

          assert.equal((await esa.listSites(new Esa.ListSitesRequest({}))).body!.totalCount, before);
        } finally {
          await proxy.close();
        }
      });
    });

    describe('authorization and tenancy', () => {
      it("treats another account's SiteId as not found, and changes nothing", async () => {
        const mine = await createSite(siteName());
        const other = await service.app.accounts.createAccount('intruder');
        const { key, secret } = await service.app.accounts.createAccessKey(other.id);
        const intruder = esaClient(endpoint, { accessKeyId: key.id, accessKeySecret: secret });
        for (const call of [
          () => intruder.getSite(new Esa.GetSiteRequest({ siteId: mine.siteId })),
          () => intruder.deleteSite(new Esa.DeleteSiteRequest({ siteId: mine.siteId })),
          () => intruder.verifySite(new Esa.VerifySiteRequest({ siteId: mine.siteId })),
          () => intruder.getCertificateQuota(new Esa.GetCertificateQuotaRequest({ siteId: mine.siteId, type: 'free' })),
        ]) {
          assert.equal((await sdkError(call())).code, 'SiteNotFound');
        }
        assert.equal((await intruder.listSites(new Esa.ListSitesRequest({}))).body!.totalCount, 0);
        const intruderPlan = await sdkError(
          intruder.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'NS', coverage: 'global', instanceId: root.instanceId })),
        );
        assert.equal(intruderPlan.code, 'InstanceNotFound', "another account's plan instance is not usable");
        assert.equal((await esa.getSite(new Esa.GetSiteRequest({ siteId: mine.siteId }))).body!.siteModel!.status, 'pending');
      });

      it('gives a user only what its policies allow, with an explicit Deny winning', async () => {
        const allowed = await createSite(siteName());
        const other = await createSite(siteName());
        const user = await service.app.identity.createUser(root.accountId, `reader${seq}`);
        const policy = await service.app.identity.createPolicy(
          root.accountId,
          `read-one-${seq}`,
          JSON.stringify({
            Version: '1',
            Statement: [
              { Effect: 'Allow', Action: ['esa:Get*', 'esa:DeleteSite'], Resource: [`acs:esa:*:${root.accountId}:site/${allowed.siteId}`] },
              { Effect: 'Deny', Action: 'esa:DeleteSite', Resource: '*' },
            ],
          }),
        );
        await service.app.identity.attachPolicy(root.accountId, user.id, policy.id);
        const { key, secret } = await service.app.accounts.createAccessKey(root.accountId, user.id);
        const reader = esaClient(endpoint, { accessKeyId: key.id, accessKeySecret: secret });

        assert.equal((await reader.getSite(new Esa.GetSiteRequest({ siteId: allowed.siteId }))).body!.siteModel!.siteId, allowed.siteId);
        const denied = await sdkError(reader.getSite(new Esa.GetSiteRequest({ siteId: other.siteId })));
        assert.deepEqual([denied.code, denied.statusCode], ['NoPermission', 403]);
        assert.match(denied.message, /esa:GetSite/);
        const deleteDenied = await sdkError(reader.deleteSite(new Esa.DeleteSiteRequest({ siteId: allowed.siteId })));
        assert.equal(deleteDenied.code, 'NoPermission');
        assert.match(deleteDenied.message, /esa:DeleteSite/);
        const createDenied = await sdkError(
          reader.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'NS', coverage: 'global', instanceId: root.instanceId })),
        );
        assert.equal(createDenied.code, 'NoPermission');
        assert.equal((await esa.getSite(new Esa.GetSiteRequest({ siteId: allowed.siteId }))).body!.siteModel!.siteId, allowed.siteId);

        const events = await service.app.audit.list(root.accountId, 100);
        const denial = events.find((e) => e.action === 'esa:DeleteSite' && e.outcome === 'denied');
        assert.ok(denial, 'the denied delete is in the audit log');
        assert.equal(denial.actor, `user:${user.id}`);
        assert.equal(denial.resource, `acs:esa:cn-hangzhou:${root.accountId}:site/${allowed.siteId}`);
        const created = events.find((e) => e.action === 'esa:CreateSite' && e.outcome === 'success');
        assert.ok(created);
        assert.match(created.requestId, /^[0-9a-f-]{36}$/);
        assert.match(created.resource, new RegExp(`^acs:esa:cn-hangzhou:${root.accountId}:site/\\d+$`), 'a creation names the site it made');
      });
    });

    it('answers ServiceUnavailable when the DNS resolver cannot be reached, and the site stays pending', async () => {
      const down = await startService(engine, { config: { dnsResolver: '127.0.0.1:9', nameServers: NAME_SERVERS } });
      try {
        const account = await down.app.accounts.createAccount('dns-down');
        const { key, secret } = await down.app.accounts.createAccessKey(account.id);
        const plan = await down.app.plans.grant(account.id, 'free');
        const client = esaClient(down.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
        const site = (
          await client.createSite(new Esa.CreateSiteRequest({ siteName: siteName(), accessType: 'NS', coverage: 'global', instanceId: plan.id }))
        ).body!;
        const err = await sdkError(client.verifySite(new Esa.VerifySiteRequest({ siteId: site.siteId })));
        assert.deepEqual([err.code, err.statusCode], ['ServiceUnavailable', 503]);
        assert.equal((await client.getSite(new Esa.GetSiteRequest({ siteId: site.siteId }))).body!.siteModel!.status, 'pending');
      } finally {
        await down.stop();
      }
    });
  });
}
