import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { esaClient, sdkError } from '../support/alibaba.js';
import { auditOfRequest, refuseAuditOf } from '../support/audit.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { makeCa } from '../support/openssl.js';
import { startService, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`ESA client-certificate writes in the audit log on ${engine}`, () => {
    let service: TestService;
    let tenant: Tenant;
    let esa: Tenant['esa'];

    before(async () => {
      service = await startService(engine);
      tenant = await tenantOf(service, 'audited-mtls');
      esa = tenant.esa;
    });
    after(async () => {
      await service.stop();
    });

    const events = async (requestId: string | undefined) =>
      (await auditOfRequest(service, tenant.accountId, requestId!)).map((e) => [e.action, e.resource, e.outcome, e.actor]);
    const issue = (siteId: number) => esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, pkeyType: 'ECC', validityDays: 30 }));

    it('records every write with what it made or touched, under the request id the caller got', async () => {
      const { siteId } = await tenant.site();
      const site = `acs:esa:cn-hangzhou:${tenant.accountId}:site/${siteId}`;
      const actor = `key:${tenant.accessKeyId}`;

      const first = (await issue(siteId)).body!;
      assert.deepEqual(await events(first.requestId), [
        ['certplane:CreateManagedClientCa', `${site}/client-ca/${first.CACertificateId}`, 'success', actor],
        ['esa:CreateClientCertificate', `${site}/client-certificate/${first.id}`, 'success', actor],
      ], 'the first issuance also made the CA');
      const second = (await issue(siteId)).body!;
      assert.deepEqual(await events(second.requestId), [['esa:CreateClientCertificate', `${site}/client-certificate/${second.id}`, 'success', actor]]);

      const id = first.id!;
      const uploaded = (await esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId, certificate: makeCa({ alg: 'p256' }).certPem }))).body!;
      const writes: Array<[string, string | undefined, string]> = [
        ['esa:RevokeClientCertificate', (await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id }))).body!.requestId, site],
        ['esa:ActivateClientCertificate', (await esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id }))).body!.requestId, site],
        ['esa:RevokeClientCertificate', (await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id }))).body!.requestId, site],
        ['esa:DeleteClientCertificate', (await esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id }))).body!.requestId, site],
        ['esa:UploadClientCaCertificate', uploaded.requestId, `${site}/client-ca/${uploaded.id}`],
        ['esa:SetClientCertificateHostnames', (await esa.setClientCertificateHostnames(new Esa.SetClientCertificateHostnamesRequest({ siteId, id: uploaded.id, hostnames: [] }))).body!.requestId, site],
        ['esa:DeleteClientCaCertificate', (await esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: uploaded.id }))).body!.requestId, site],
      ];
      for (const [action, requestId, resource] of writes) assert.deepEqual(await events(requestId), [[action, resource, 'success', actor]], action);

      const reads = [
        (await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id: second.id }))).body!.requestId,
        (await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId }))).body!.requestId,
        (await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: first.CACertificateId }))).body!.requestId,
        (await esa.listClientCaCertificates(new Esa.ListClientCaCertificatesRequest({ siteId }))).body!.requestId,
        (await esa.getClientCertificateHostnames(new Esa.GetClientCertificateHostnamesRequest({ siteId }))).body!.requestId,
      ];
      for (const requestId of reads) assert.deepEqual(await events(requestId), [], 'reads are not audited');
    });

    it('authorizes every action on its site, and records a denial', async () => {
      const allowed = await tenant.site();
      const other = await tenant.site();
      const issued = (await issue(allowed.siteId)).body!;
      const user = await service.app.identity.createUser(tenant.accountId, `reader${allowed.siteId}`);
      const document = JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: ['esa:GetClientCertificate', 'esa:ListClientCertificates'], Resource: `acs:esa:*:${tenant.accountId}:site/${allowed.siteId}` }],
      });
      const policy = await service.app.identity.createPolicy(tenant.accountId, `client-cert-reader-${allowed.siteId}`, document);
      await service.app.identity.attachPolicy(tenant.accountId, user.id, policy.id);
      const { key, secret } = await service.app.accounts.createAccessKey(tenant.accountId, user.id);
      const reader = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });

      const got = (await reader.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: allowed.siteId, id: issued.id }))).body!;
      assert.equal(got.status, 'active');
      const denied: Array<[string, () => Promise<unknown>]> = [
        ['esa:RevokeClientCertificate', () => reader.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId: allowed.siteId, id: issued.id }))],
        ['esa:CreateClientCertificate', () => reader.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId: allowed.siteId, pkeyType: 'ECC', validityDays: 1 }))],
        ['esa:ListClientCertificates', () => reader.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId: other.siteId }))],
        ['esa:GetClientCaCertificate', () => reader.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId: allowed.siteId, id: issued.CACertificateId }))],
      ];
      for (const [action, call] of denied) {
        const err = await sdkError(call());
        assert.deepEqual([err.code, err.statusCode], ['NoPermission', 403], action);
        assert.match(String(err.data?.Message), new RegExp(action));
      }
      const [revokeDenial] = await auditOfRequest(service, tenant.accountId, String((await sdkError(denied[0]![1]())).data?.RequestId));
      assert.deepEqual([revokeDenial?.action, revokeDenial?.outcome, revokeDenial?.actor], ['esa:RevokeClientCertificate', 'denied', `user:${user.id}`]);
      assert.equal((await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId: allowed.siteId, id: issued.id }))).body!.status, 'active');
    });

    it('records a refused write with its error code', async () => {
      const { siteId } = await tenant.site();
      const { id } = (await issue(siteId)).body!;
      const err = await sdkError(esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id })));
      assert.equal(err.code, 'ClientCertificateStatusConflict');
      assert.deepEqual(await events(String(err.data?.RequestId)), [
        ['esa:DeleteClientCertificate', `acs:esa:cn-hangzhou:${tenant.accountId}:site/${siteId}`, 'client_certificate.status_conflict', `key:${tenant.accessKeyId}`],
      ]);
    });

    it('makes no change when its audit row cannot be written', async () => {
      const { siteId, siteName } = await tenant.site();
      const refused = async (action: string, call: () => Promise<unknown>) => {
        const lift = await refuseAuditOf(service, action);
        try {
          const err = await sdkError(call());
          assert.deepEqual([err.code, err.statusCode], ['InternalError', 500], action);
        } finally {
          await lift();
        }
      };
      const status = async (id: string) => (await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id }))).body!.status;
      const cas = async () => (await esa.listClientCaCertificates(new Esa.ListClientCaCertificatesRequest({ siteId }))).body!.totalCount;
      const certificates = async () => (await esa.listClientCertificates(new Esa.ListClientCertificatesRequest({ siteId }))).body!.result!;

      // The managed CA's record refused: no CA, and no certificate record under it.
      await refused('certplane:CreateManagedClientCa', () => issue(siteId));
      assert.deepEqual([await cas(), (await certificates()).length], [0, 0]);

      // The issuance's record refused: its serial stays on record, void, and nothing was released.
      const { id, CACertificateId: caId } = (await issue(siteId)).body!;
      await refused('esa:CreateClientCertificate', () => issue(siteId));
      const listed = await certificates();
      assert.deepEqual(listed.map((c) => c.status).sort(), ['active', 'void']);
      const voided = listed.find((c) => c.status === 'void')!;
      assert.equal(voided.fingerprintSha256, '');
      assert.equal((await esa.getClientCertificate(new Esa.GetClientCertificateRequest({ siteId, id: voided.id }))).body!.certificate, '');

      await refused('esa:RevokeClientCertificate', () => esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id })));
      assert.equal(await status(id!), 'active');
      await esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id }));
      await refused('esa:ActivateClientCertificate', () => esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id })));
      assert.equal(await status(id!), 'revoked');
      await refused('esa:DeleteClientCertificate', () => esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id })));
      assert.equal(await status(id!), 'revoked', 'not deleted');

      const pem = makeCa({ alg: 'p256' }).certPem;
      await refused('esa:UploadClientCaCertificate', () => esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId, certificate: pem })));
      assert.equal(await cas(), 1, 'only the managed CA');
      await refused('esa:SetClientCertificateHostnames', () =>
        esa.setClientCertificateHostnames(new Esa.SetClientCertificateHostnamesRequest({ siteId, hostnames: [`www.${siteName}`] })),
      );
      assert.deepEqual((await esa.getClientCertificateHostnames(new Esa.GetClientCertificateHostnamesRequest({ siteId }))).body!.hostnames, []);
      await refused('esa:DeleteClientCaCertificate', () => esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: caId })));
      assert.equal(await cas(), 1);
      assert.equal((await fetch(`${service.baseUrl}/pki/ca/${caId}.pem`)).status, 200, 'the CA is still there');
    });
  });
}
