/**
 * The renewal store and the switch-over on both engines: which certificates the scan finds due,
 * one renewal per certificate however many scans race, the site certificate moving to the renewal
 * only when it is stored valid (old one retired, event and deploy job in the same transaction), a
 * failed renewal planned again with backoff, and a certificate or site deleted while its renewal
 * is in progress canceling the renewal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlIssuanceStore } from '../../src/adapters/db/issuance-store.js';
import { SqlRenewalStore } from '../../src/adapters/db/renewal-store.js';
import type { NewIssuance } from '../../src/core/issuance/model.js';
import { randomIds } from '../../src/kernel/ids.js';
import { renewalScanJob } from '../../src/core/renewal/service.js';
import { ENGINES } from '../support/databases.js';
import type { TestService } from '../support/service.js';
import { Esa, TestZones, apply, certTenant, issuanceOf, issueForTest, startCertService, testServerCertificate, type CertTenant } from '../support/site-certificates.js';
import { inspectCert } from '../support/openssl.js';

const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`renewal store on ${engine}`, () => {
    const zones = new TestZones();
    let service: TestService;
    let tenant: CertTenant;
    let store: SqlRenewalStore;

    before(async () => {
      service = await startCertService(engine, zones);
      tenant = await certTenant(service, zones, 'renewals');
      store = new SqlRenewalStore(service.app.database.db);
    });
    after(async () => {
      await service.stop();
    });

    const db = () => service.app.database.db;
    const row = (id: string) => db().selectFrom('acme_issuances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const setRenewAt = (id: string, at: Date | null) => db().updateTable('acme_issuances').set({ renew_at: at?.toISOString() ?? null }).where('id', '=', id).execute();
    const renewalOf = (old: { id: string; account_id: string; identifiers: string }, id = randomIds.hex32()): NewIssuance => ({
      id,
      accountId: old.account_id,
      profile: 'lets_encrypt',
      identifiers: JSON.parse(old.identifiers) as string[],
      challengeType: 'http-01',
      placement: 'certplane',
      replaces: old.id,
    });

    /** A site with one valid free certificate per name, each due at the given time. */
    async function validCertificates(names: string[], renewAt: Date | null, siteOptions = {}) {
      const site = await tenant.site(siteOptions);
      const applied = (await apply(tenant.esa, site.siteId, names.map((n) => `${n}.${site.siteName}`).join(','))).result!;
      const out = [];
      for (const { id, domain } of applied) {
        await issueForTest(service, id!, [domain!]);
        const issuance = await issuanceOf(service, id!);
        await setRenewAt(issuance.id, renewAt);
        out.push({ certificateId: id!, issuance: await row(issuance.id) });
      }
      return { site, certificates: out };
    }

    it('ensureRecurring keeps exactly one renewal.scan job, and queues it again if it ever ended', async () => {
      const jobs = service.app.jobs;
      const [a, b] = await Promise.all([jobs.ensureRecurring(renewalScanJob), jobs.ensureRecurring(renewalScanJob)]);
      assert.equal(a.id, b.id);
      const rows = () => db().selectFrom('jobs').select(['id', 'state']).where('name', '=', 'renewal.scan').execute();
      assert.deepEqual((await rows()).map((r) => r.id), [a.id]);
      await db().updateTable('jobs').set({ state: 'failed', last_error: 'gave up' }).where('id', '=', a.id).execute();
      await jobs.ensureRecurring(renewalScanJob);
      assert.deepEqual(await rows(), [{ id: a.id, state: 'queued' }]);
    });

    it('due: renew_at reached, no renewal in progress, not retired, a free certificate of an active site; earliest first', async () => {
      const now = new Date();
      const { certificates: [early, late, future, none] } = await validCertificates(['early', 'late', 'future', 'none'], new Date(now.getTime() - HOUR));
      await setRenewAt(early!.issuance.id, new Date(now.getTime() - 2 * HOUR));
      await setRenewAt(future!.issuance.id, new Date(now.getTime() + HOUR));
      await setRenewAt(none!.issuance.id, null);
      const { certificates: [offline] } = await validCertificates(['offline'], new Date(now.getTime() - HOUR));
      const offlineSite = await db().selectFrom('site_certificates').select('site_id').where('id', '=', offline!.certificateId).executeTakeFirstOrThrow();
      await db().updateTable('sites').set({ status: 'offline' }).where('id', '=', offlineSite.site_id).execute();

      const due = (await store.due(now, 100)).map((d) => d.issuanceId);
      const mine = due.filter((id) => [early, late, future, none, offline].some((c) => c!.issuance.id === id));
      assert.deepEqual(mine, [early!.issuance.id, late!.issuance.id]);
      const [first] = await store.due(now, 1);
      assert.equal(first!.issuanceId, due[0]);

      // Renewing: no longer due.
      assert.equal(await store.startRenewal(early!.issuance.id, renewalOf(early!.issuance), now, randomIds.hex32()), true);
      assert.equal((await store.due(now, 100)).some((d) => d.issuanceId === early!.issuance.id), false);
    });

    it('one renewal per certificate however many scans race; it comes with its acme.issue job', async () => {
      const now = new Date();
      const { certificates: [cert] } = await validCertificates(['race'], new Date(now.getTime() - HOUR));
      const attempts = Array.from({ length: 5 }, () => renewalOf(cert!.issuance));
      const started = await Promise.all(attempts.map((r) => store.startRenewal(cert!.issuance.id, r, now, randomIds.hex32()).catch(() => false)));
      assert.equal(started.filter(Boolean).length, 1);
      const winner = attempts[started.indexOf(true)]!;
      assert.equal((await row(cert!.issuance.id)).renewed_by, winner.id);
      const renewals = await db().selectFrom('acme_issuances').select(['id', 'replaces', 'state']).where('replaces', '=', cert!.issuance.id).execute();
      assert.deepEqual(renewals, [{ id: winner.id, replaces: cert!.issuance.id, state: 'queued' }]);
      const job = await db().selectFrom('jobs').select(['name', 'state']).where('idempotency_key', '=', `acme.issue:${winner.id}`).executeTakeFirstOrThrow();
      assert.deepEqual(job, { name: 'acme.issue', state: 'queued' });
    });

    it('valid renewal: the certificate moves to it, the old one is retired, certificate.renewed and deploy.run in the same transaction', async () => {
      const now = new Date();
      const { site, certificates: [cert] } = await validCertificates(['switch'], new Date(now.getTime() - HOUR));
      const targetId = randomIds.hex32();
      await db().insertInto('deploy_targets').values({ id: targetId, account_id: tenant.accountId, site_id: null, site_certificate_id: cert!.certificateId, directory: '/tmp/x', reload_command: null, reload_timeout_seconds: 30, created_at: now.toISOString() }).execute();
      const renewal = renewalOf(cert!.issuance);
      await store.startRenewal(cert!.issuance.id, renewal, now, randomIds.hex32());
      const before = (await tenant.esa.getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id: cert!.certificateId }))).body!;
      assert.equal(before.result!.serialNumber, cert!.issuance.serial_number, 'the old certificate serves while the renewal runs');

      const { leaf, chainPem } = testServerCertificate([`switch.${site.siteName}`]);
      const view = inspectCert(leaf.certPem);
      const issued = {
        chainPem, commonName: `switch.${site.siteName}`, san: `switch.${site.siteName}`, serialNumber: view.serialHex.toLowerCase(), fingerprintSha256: view.fingerprintSha256,
        issuer: 'Certplane Test CA', issuerCn: 'Certplane Test Issuing CA', publicKeyAlgorithm: 'ECDSA', signatureAlgorithm: 'ECDSA-SHA256', notBefore: view.notBefore, notAfter: view.notAfter,
      };
      const issuances = new SqlIssuanceStore(db(), randomIds);
      assert.equal(await issuances.finish(renewal.id, ['queued'], { state: 'valid', issued, renewAt: new Date(now.getTime() + 60 * 24 * HOUR) }, now, { jobs: [], dropHttp01Tokens: true }), true);

      const after = (await tenant.esa.getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id: cert!.certificateId }))).body!;
      assert.deepEqual([after.status, after.result!.serialNumber], ['OK', view.serialHex.toLowerCase()]);
      const old = await row(cert!.issuance.id);
      assert.deepEqual([old.retired_at, old.renew_at, old.renewed_by], [now.toISOString(), null, renewal.id]);
      const events = (await db().selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute()).map((j) => JSON.parse(j.payload) as { type: string; subject: { id: string }; data: Record<string, unknown> });
      const renewed = events.find((e) => e.type === 'certificate.renewed' && e.subject.id === cert!.certificateId)!;
      assert.deepEqual([renewed.data['serialNumber'], renewed.data['previousSerialNumber']], [view.serialHex.toLowerCase(), cert!.issuance.serial_number]);
      const deploy = await db().selectFrom('jobs').select(['name', 'payload']).where('idempotency_key', '=', `deploy.run:${targetId}:${renewal.id}`).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(deploy.payload), { targetId, siteCertificateId: cert!.certificateId, issuanceId: renewal.id });
    });

    it('failed renewal: the old one serves on, failures counted, retried an hour later, certificate.renewal_failed', async () => {
      const now = new Date();
      const { certificates: [cert] } = await validCertificates(['fail'], new Date(now.getTime() - HOUR));
      const renewal = renewalOf(cert!.issuance);
      await store.startRenewal(cert!.issuance.id, renewal, now, randomIds.hex32());
      const issuances = new SqlIssuanceStore(db(), randomIds);
      await issuances.finish(renewal.id, ['queued'], { state: 'invalid', errorCode: 'unauthorized', errorDetail: 'no' }, now, { jobs: [], dropHttp01Tokens: true });
      const old = await row(cert!.issuance.id);
      assert.deepEqual([old.renewed_by, old.retired_at, Number(old.renewal_failures), old.renew_at], [null, null, 1, new Date(now.getTime() + HOUR).toISOString()]);
      assert.equal((await db().selectFrom('site_certificates').select('issuance_id').where('id', '=', cert!.certificateId).executeTakeFirstOrThrow()).issuance_id, cert!.issuance.id);
      const failed = (await db().selectFrom('jobs').select('payload').where('idempotency_key', '=', `event:certificate.renewal_failed:site:${cert!.certificateId}:${renewal.id}`).executeTakeFirstOrThrow());
      assert.equal((JSON.parse(failed.payload) as { data: { errorCode: string } }).data.errorCode, 'unauthorized');
      // Due again in an hour, a second failure waits two.
      assert.equal((await store.due(new Date(now.getTime() + HOUR), 1000)).some((d) => d.issuanceId === cert!.issuance.id && d.failures === 1), true);
      const second = renewalOf(cert!.issuance);
      const later = new Date(now.getTime() + HOUR);
      await store.startRenewal(cert!.issuance.id, second, later, randomIds.hex32());
      await issuances.finish(second.id, ['queued'], { state: 'invalid', errorCode: 'unauthorized', errorDetail: 'no' }, later, { jobs: [], dropHttp01Tokens: true });
      assert.equal((await row(cert!.issuance.id)).renew_at, new Date(later.getTime() + 2 * HOUR).toISOString());
    });

    it('deleting the certificate, or its site, while a renewal is in progress cancels the renewal; nothing is renewed after', async () => {
      const now = new Date();
      const { site, certificates: [one, two] } = await validCertificates(['one', 'two'], new Date(now.getTime() - HOUR));
      const first = renewalOf(one!.issuance);
      const second = renewalOf(two!.issuance);
      await store.startRenewal(one!.issuance.id, first, now, randomIds.hex32());
      await store.startRenewal(two!.issuance.id, second, now, randomIds.hex32());

      await tenant.esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId: site.siteId, id: one!.certificateId }));
      assert.equal((await row(first.id)).state, 'canceled');
      assert.equal((await row(one!.issuance.id)).renew_at, null);
      assert.equal((await row(second.id)).state, 'queued', 'the other certificate’s renewal goes on');

      await tenant.esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: site.siteId }));
      assert.equal((await row(second.id)).state, 'canceled');
      assert.equal((await row(two!.issuance.id)).renew_at, null);
    });
  });
}
