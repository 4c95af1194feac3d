import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { apigClient } from '../support/apig.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/**
 * Lists read a page's ids first and its rows after: paging through either list must give every
 * certificate once, newest first, and among certificates created at the same moment by id — the
 * order a user paging through sees, whatever order the rows come back from the database in.
 */
for (const engine of ENGINES) {
  describe(`paging through certificate lists on ${engine}`, () => {
    // Near the real time: signed requests carry the client's own date.
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const clock = fixedClock(start);
    let service: TestService;
    let owner: Awaited<ReturnType<typeof tenant>>;
    let esaTenant: Tenant;
    /** Inventory ids by creation second: three moments, seven certificates each. */
    const created: Array<{ at: number; id: string }> = [];

    before(async () => {
      service = await startService(engine, { clock });
      owner = await tenant(service, 'pages');
      const chain = makeChain('p256');
      for (let second = 0; second < 3; second++) {
        clock.set(new Date(start.getTime() + second * 1000));
        for (let i = 0; i < 7; i++) {
          const certificate = await service.app.certificates.upload(
            owner.accountId,
            { name: `page_cert_${second}_${i}`, chainPem: chain.chainPem, privateKeyPem: chain.key, scope: 'global' },
            new AuditStamp(owner.accountId, 'test', 'apig:certificate:create', 'apig:test', 'test'),
          );
          created.push({ at: second, id: certificate.id });
        }
      }
      esaTenant = await tenantOf(service, 'pages-esa');
    });
    after(() => service.stop());

    /** Newest first; among equals, by id. */
    const expectedOrder = (rows: Array<{ at: number; id: string }>) =>
      [...rows].sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => r.id);

    it('APIG: pages of 5 (offset, limit) give all 21 certificates once, newest first and by id among equals', async () => {
      const api = apigClient(service, owner.projectId, owner.token);
      const seen: string[] = [];
      let algorithm = '';
      for (let offset = 0; offset < 25; offset += 5) {
        const res = await api.list(`offset=${offset}&limit=5`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.total, 21);
        const certs = res.body.certs as Array<{ id: string; signature_algorithm: string }>;
        algorithm = certs[0]!.signature_algorithm;
        assert.equal(certs.length, Math.min(5, 21 - offset));
        seen.push(...certs.map((c) => c.id));
      }
      assert.deepEqual(seen, expectedOrder(created));
      // A filter on a column the listing index carries: the same order.
      const filtered = await api.list(`offset=3&limit=4&signature_algorithm=${encodeURIComponent(algorithm)}`);
      assert.equal(filtered.body.total, 21);
      assert.deepEqual((filtered.body.certs as Array<{ id: string }>).map((c) => c.id), expectedOrder(created).slice(3, 7));
    });

    it('ESA ListCertificates: pages of 4 give all of a site\'s certificates once, newest first and by id among equals, filtered or not', async () => {
      const { siteId } = await esaTenant.site();
      const chain = makeChain('p256');
      const onSite: Array<{ at: number; id: string }> = [];
      for (let second = 0; second < 3; second++) {
        clock.set(new Date(start.getTime() + 10_000 + second * 1000));
        for (let i = 0; i < 5; i++) {
          const inventory = await service.app.certificates.upload(
            esaTenant.accountId,
            { name: `site_cert_${second}_${i}`, chainPem: chain.chainPem, privateKeyPem: chain.key, scope: 'global' },
            new AuditStamp(esaTenant.accountId, 'test', 'apig:certificate:create', 'apig:test', 'test'),
          );
          const set = await esaTenant.esa.setCertificate(
            new Esa.SetCertificateRequest({ siteId, type: 'cas', casId: inventory.id as unknown as number, region: 'cn-hangzhou' }),
          );
          onSite.push({ at: second, id: set.body!.id! });
        }
      }
      const expected = expectedOrder(onSite);
      for (const filter of [{}, { validOnly: true }]) {
        const seen: string[] = [];
        for (let pageNumber = 1; pageNumber <= 4; pageNumber++) {
          const body = (await esaTenant.esa.listCertificates(new Esa.ListCertificatesRequest({ siteId, pageNumber, pageSize: 4, ...filter }))).body!;
          assert.equal(body.totalCount, 15, JSON.stringify(filter));
          assert.equal(body.result!.length, Math.min(4, 15 - (pageNumber - 1) * 4));
          seen.push(...body.result!.map((c) => c.id!));
        }
        assert.deepEqual(seen, expected, `paging ${JSON.stringify(filter)}`);
      }
    });
  });
}
