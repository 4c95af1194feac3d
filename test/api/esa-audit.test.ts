import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Esa, esaClient, sdkError } from '../support/alibaba.js';
import { auditOfRequest, refuseAuditOf } from '../support/audit.js';
import { startBind, type BindServer } from '../support/bind.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

let seq = 0;
const siteName = () => `audit${process.pid}x${++seq}.com`;

for (const engine of ENGINES) {
  describe(`ESA writes in the audit log on ${engine}`, () => {
    let bind: BindServer;
    let service: TestService;
    let accountId: string;
    let accessKeyId: string;
    let instanceId: string;
    let esa: ReturnType<typeof esaClient>;

    before(async () => {
      bind = await startBind();
      service = await startService(engine, { config: { dnsResolver: bind.address } });
      const account = await service.app.accounts.createAccount('audited');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      accountId = account.id;
      accessKeyId = key.id;
      instanceId = (await service.app.plans.grant(account.id, 'enterprise')).id;
      esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
    });
    after(async () => {
      await service.stop();
      await bind.stop();
    });

    const createSite = async (name: string) =>
      (await esa.createSite(new Esa.CreateSiteRequest({ siteName: name, accessType: 'CNAME', coverage: 'global', instanceId }))).body!;
    const status = async (siteId: number) => (await esa.getSite(new Esa.GetSiteRequest({ siteId }))).body!.siteModel!.status;
    const publish = (name: string, verifyCode: string) =>
      bind.addZone(name, [{ name: '_esaauth', type: 'TXT', value: verifyCode }]);

    it('records each write with the site it touched, under the request id the caller got', async () => {
      const name = siteName();
      const created = await createSite(name);
      const resource = `acs:esa:cn-hangzhou:${accountId}:site/${created.siteId}`;
      await publish(name, created.verifyCode!);
      const verified = (await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }))).body!;
      assert.equal(verified.passed, true);
      const again = (await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId }))).body!;
      const deleted = (await esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: created.siteId }))).body!;
      const read = (await esa.listSites(new Esa.ListSitesRequest({}))).body!;

      for (const [requestId, action] of [
        [created.requestId, 'esa:CreateSite'],
        [verified.requestId, 'esa:VerifySite'],
        [again.requestId, 'esa:VerifySite'],
        [deleted.requestId, 'esa:DeleteSite'],
      ] as const) {
        const events = await auditOfRequest(service, accountId, requestId!);
        assert.deepEqual(
          events.map((e) => [e.action, e.resource, e.outcome, e.actor]),
          [[action, resource, 'success', `key:${accessKeyId}`]],
          `${action} (${requestId})`,
        );
      }
      assert.deepEqual(await auditOfRequest(service, accountId, read.requestId!), [], 'reads are not audited');
    });

    it('makes no change when its audit row cannot be written', async () => {
      let lift = await refuseAuditOf(service, 'esa:CreateSite');
      const lost = siteName();
      try {
        const err = await sdkError(createSite(lost));
        assert.deepEqual([err.code, err.statusCode], ['InternalError', 500]);
      } finally {
        await lift();
      }
      const listed = await esa.listSites(new Esa.ListSitesRequest({ siteName: lost, siteSearchType: 'exact' }));
      assert.equal(listed.body!.totalCount, 0, 'the site was not created');

      const name = siteName();
      const site = await createSite(name);
      await publish(name, site.verifyCode!);
      lift = await refuseAuditOf(service, 'esa:VerifySite');
      try {
        assert.equal((await sdkError(esa.verifySite(new Esa.VerifySiteRequest({ siteId: site.siteId })))).code, 'InternalError');
      } finally {
        await lift();
      }
      assert.equal(await status(site.siteId!), 'pending', 'the site was not activated');

      lift = await refuseAuditOf(service, 'esa:DeleteSite');
      try {
        assert.equal((await sdkError(esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: site.siteId })))).code, 'InternalError');
      } finally {
        await lift();
      }
      assert.equal(await status(site.siteId!), 'pending', 'the site was not deleted');
    });

    it('records a refused write with its error code', async () => {
      const err = await sdkError(esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: 999999999999 })));
      assert.equal(err.code, 'SiteNotFound');
      const requestId = String(err.data?.RequestId ?? '');
      const [event] = await auditOfRequest(service, accountId, requestId);
      assert.equal(event?.outcome, 'site.not_found');
      assert.equal(event?.resource, `acs:esa:cn-hangzhou:${accountId}:site/999999999999`);
    });
  });
}
