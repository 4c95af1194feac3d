/**
 * Renewal of ESA free certificates end to end, on SQLite and PostgreSQL: a certificate obtained
 * from Debian's pebble (no ARI: the two-thirds policy) is renewed when the injected clock reaches
 * its renewal time: the `renewal.scan` job starts a renewal, the worker obtains it from pebble,
 * and only then GetCertificate and ListCertificates show the new serial, the old issuance retired
 * and `certificate.renewed` published. A renewal the CA refuses (its http-01 fetch fails) leaves
 * the old certificate serving, publishes `certificate.renewal_failed` and is tried again an hour
 * later, when it succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENGINES } from '../support/databases.js';
import {
  DAY,
  Esa,
  awaitCertificate,
  eventually,
  renewalSite,
  startRenewalService,
  startRenewalWorld,
  type RenewalService,
  type RenewalWorld,
} from '../support/renewal-world.js';

const HOUR = 3_600_000;

describe('renewal of ESA free certificates through pebble, driven by the clock', () => {
  let world: RenewalWorld;
  before(async () => {
    world = await startRenewalWorld();
  });
  after(async () => {
    await world?.stop();
  });

  for (const engine of ENGINES) {
    describe(`on ${engine}`, () => {
      let served: RenewalService;
      before(async () => {
        served = await startRenewalService(engine, world);
      });
      after(async () => {
        world.serve(undefined);
        await served?.service.stop();
      });

      const db = () => served.service.app.database.db;
      const issuance = (id: string) => db().selectFrom('acme_issuances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const behind = async (certificateId: string) => (await db().selectFrom('site_certificates').select('issuance_id').where('id', '=', certificateId).executeTakeFirstOrThrow()).issuance_id!;
      const events = async (type: string) =>
        (await db().selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute())
          .map((row) => JSON.parse(row.payload) as { type: string; subject: { id: string }; data: Record<string, unknown> })
          .filter((event) => event.type === type);
      /** Moves the clock to `at` (the scan job comes due: it runs every 10 minutes of the clock). */
      const moveTo = (at: number) => served.clock.advance(Math.max(0, at - served.clock.now().getTime()) + 11 * 60_000);

      async function issued(siteId: number, domain: string) {
        const applied = (await served.esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId, domains: domain }))).body!;
        const id = applied.result![0]!.id!;
        const got = await awaitCertificate(served.esa, siteId, id, (v) => v.status !== 'Applying', 'issued');
        assert.equal(got.status, 'OK', JSON.stringify(got.result));
        return { id, view: got };
      }

      it('renews at two thirds of the lifetime (± a 24th); the new serial is shown only once stored, the old issuance retired', async () => {
        const siteName = `renew-${engine}-${process.pid}.test`;
        const site = await renewalSite(world, served, siteName, [{ name: '@', type: 'A', value: '127.0.0.1' }]);
        const { id, view } = await issued(site.siteId, siteName);
        const firstSerial = view.result!.serialNumber!;
        const first = await issuance(await behind(id));
        const notBefore = Date.parse(first.not_before!);
        const lifetime = Date.parse(first.not_after!) - notBefore;
        const renewAt = Date.parse(first.renew_at!);
        assert.ok(Math.abs(renewAt - (notBefore + (lifetime * 2) / 3)) <= lifetime / 24 + 1000, `renew_at ${first.renew_at} for ${first.not_before} … ${first.not_after}`);
        const issuedEvents = await eventually(async () => ((await events('certificate.issued')).some((e) => e.subject.id === id) ? events('certificate.issued') : undefined), 'certificate.issued');
        assert.equal(issuedEvents.find((e) => e.subject.id === id)!.data['serialNumber'], firstSerial);

        // A day before its time: the scan runs and leaves it alone.
        moveTo(renewAt - DAY);
        await eventually(async () => ((await db().selectFrom('jobs').select('run_at').where('name', '=', 'renewal.scan').executeTakeFirst())!.run_at > served.clock.now().toISOString() ? true : undefined), 'the scan ran');
        assert.equal((await issuance(first.id)).renewed_by, null, 'not renewed before its time');

        const ordersBefore = world.orders().length;
        moveTo(renewAt);
        const renewed = await awaitCertificate(served.esa, site.siteId, id, (v) => v.result?.serialNumber !== firstSerial, 'renewed');
        assert.equal(renewed.status, 'OK');
        assert.match(await world.pebble.verifyChain(renewed.certificate!), /: OK/);
        assert.equal(world.orders().length, ordersBefore + 1, 'one order for the renewal');
        const now = await behind(id);
        const [old, next] = [await issuance(first.id), await issuance(now)];
        assert.deepEqual([next.state, next.replaces, old.renewed_by, old.state], ['valid', first.id, now, 'valid']);
        assert.ok(old.retired_at !== null, 'the old issuance is retired');
        assert.equal(old.renew_at, null);
        const nextLifetime = Date.parse(next.not_after!) - Date.parse(next.not_before!);
        const planned = Date.parse(next.renew_at!) - (Date.parse(next.not_before!) + (nextLifetime * 2) / 3);
        assert.ok(Math.abs(planned) <= nextLifetime / 24 + 1000, 'the renewal is planned two thirds into its own lifetime');
        const listed = (await served.esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId }))).body!.result!;
        assert.deepEqual(listed.map((c) => [c.id, c.serialNumber, c.status]), [[id, renewed.result!.serialNumber, 'OK']]);
        // What ValidOnly and Status filter on: the new certificate's notAfter, switched over with it.
        const kept = await db().selectFrom('site_certificates').select('not_after').where('id', '=', id).executeTakeFirstOrThrow();
        assert.equal(kept.not_after, next.not_after);
        const renewedEvent = (await events('certificate.renewed')).find((e) => e.subject.id === id)!;
        assert.deepEqual([renewedEvent.data['serialNumber'], renewedEvent.data['previousSerialNumber']], [renewed.result!.serialNumber, firstSerial]);
      });

      it('a renewal the CA refuses leaves the old certificate serving and is tried again an hour later', async () => {
        const siteName = `refuse-${engine}-${process.pid}.test`;
        const site = await renewalSite(world, served, siteName, [{ name: '@', type: 'A', value: '127.0.0.1' }]);
        const { id, view } = await issued(site.siteId, siteName);
        const serial = view.result!.serialNumber!;
        const first = await issuance(await behind(id));
        // Nothing listens on 127.0.0.2: pebble's http-01 fetch fails, the renewal ends invalid.
        await site.setRecords([{ name: '@', type: 'A', value: '127.0.0.2' }]);
        moveTo(Date.parse(first.renew_at!));
        const failed = await eventually(async () => ((await issuance(first.id)).renewal_failures === 1 ? issuance(first.id) : undefined), 'the renewal failed');
        assert.equal(failed.renewed_by, null);
        assert.equal(failed.retired_at, null);
        const retryIn = Date.parse(failed.renew_at!) - served.clock.now().getTime();
        assert.ok(retryIn > 0.9 * HOUR && retryIn <= HOUR, `retried in ${retryIn / HOUR} h`);
        const got = (await served.esa.getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id }))).body!;
        assert.deepEqual([got.status, got.result!.serialNumber], ['OK', serial], 'the old certificate still serves');
        assert.equal(await behind(id), first.id);
        const failure = (await events('certificate.renewal_failed')).find((e) => e.subject.id === id)!;
        assert.equal(failure.data['errorCode'], 'connection');
        assert.equal(failure.data['serialNumber'], serial);

        await site.setRecords([{ name: '@', type: 'A', value: '127.0.0.1' }]);
        moveTo(Date.parse(failed.renew_at!));
        const renewed = await awaitCertificate(served.esa, site.siteId, id, (v) => v.result?.serialNumber !== serial, 'renewed on the retry');
        assert.equal(renewed.status, 'OK');
        assert.equal((await issuance(first.id)).retired_at !== null, true);
      });
    });
  }
});
