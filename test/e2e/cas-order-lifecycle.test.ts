/**
 * CAS orders that do not end issued, end to end: the official CAS SDK against certplane (its job
 * workers running) against Debian's pebble, on SQLite and PostgreSQL. An order whose record is
 * never placed fails at its validation deadline (the clock moved on, the `cas.order-deadline` job
 * run by the worker) and gives its unit back; an order cancelled while awaiting validation shows
 * what the docs say, gives its unit back, and its issuance stops: a record placed afterwards
 * makes pebble validate nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ORDER_DEADLINE_JOB } from '../../src/core/orders/model.js';
import { Cas, csrFor, rawCall } from '../support/cas.js';
import { awaitState, orderState, startCaWorld, startCasService, type CaWorld, type CasService } from '../support/cas-pebble.js';
import { ENGINES } from '../support/databases.js';
import { eventually } from '../support/issuance.js';

const HOUR = 3_600_000;
const CONTACT = { username: 'Tom', phone: '13900001234', email: 'tom@example.com' };

describe('CAS orders left unvalidated or cancelled, against pebble', () => {
  let world: CaWorld;
  before(async () => {
    world = await startCaWorld();
  });
  after(() => world?.stop());

  for (const engine of ENGINES) {
    describe(`on ${engine}`, () => {
      let cas: CasService;
      before(async () => {
        cas = await startCasService(engine, world);
      });
      after(() => cas?.service.stop());

      const db = () => cas.service.app.database.db;
      const packageState = async () => (await cas.tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;
      const submit = async (name: string) =>
        (await cas.tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(name, { sans: [name] }), ...CONTACT, validateType: 'DNS' }))).body!.orderId!;
      const issuanceOf = async (orderId: number) => {
        const order = await db().selectFrom('cas_orders').select('issuance_id').where('id', '=', String(orderId)).executeTakeFirstOrThrow();
        return db().selectFrom('acme_issuances').selectAll().where('id', '=', order.issuance_id).executeTakeFirstOrThrow();
      };

      it('an order whose record is never placed fails at the validation deadline, by the worker\'s job, and gives its unit back', async () => {
        const before = await packageState();
        const orderId = await submit(world.name('late'));
        await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        assert.equal((await packageState()).usedCount, before.usedCount! + 1);

        cas.clock.advance(cas.service.app.config.casValidationDeadlineHours * HOUR + 60_000);
        // The worker runs the deadline job now due; nothing here reads the order meanwhile.
        const job = () => db().selectFrom('jobs').select(['state']).where('idempotency_key', '=', `${ORDER_DEADLINE_JOB}:${orderId}`).executeTakeFirstOrThrow();
        await eventually(async () => (await job()).state === 'done', 'the deadline job ran', 10_000);
        const issuance = await issuanceOf(orderId);
        assert.deepEqual([issuance.state, issuance.error_code], ['invalid', 'validationDeadline']);

        assert.equal((await orderState(cas.tenant, orderId)).type, 'verify_fail');
        const raw = await rawCall(cas.tenant.cas, 'DescribeCertificateState', { OrderId: String(orderId) });
        assert.match(String(raw.Reason), /^validationDeadline: /);
        const now = await packageState();
        assert.deepEqual([now.usedCount, now.issuedCount], [before.usedCount, before.issuedCount], 'the unit is back');
      });

      it('cancelled while awaiting validation: pending application again, the unit back, the issuance stopped before the CA is asked', async () => {
        const name = world.name('cancel');
        const before = await packageState();
        const orderId = await submit(name);
        const verify = await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        assert.equal((await packageState()).usedCount, before.usedCount! + 1);

        await cas.tenant.cas.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId }));
        assert.equal((await orderState(cas.tenant, orderId)).type, 'payed', 'CAS shows a cancelled application as pending application');
        assert.equal((await packageState()).usedCount, before.usedCount, 'the unit is back');
        assert.equal((await issuanceOf(orderId)).state, 'canceled');

        const asked = world.validationsAsked();
        await world.placeTxt(verify.recordDomain!, verify.recordValue!);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal((await orderState(cas.tenant, orderId)).type, 'payed');
        assert.equal((await issuanceOf(orderId)).state, 'canceled');
        assert.equal(world.validationsAsked(), asked, 'the record placed afterwards is not answered: pebble validated nothing');
        const job = await db().selectFrom('jobs').select('state').where('idempotency_key', '=', `acme.issue:${(await issuanceOf(orderId)).id}`).executeTakeFirstOrThrow();
        assert.equal(job.state, 'done', 'the issuance job ended');

        await cas.tenant.cas.deleteCertificateRequest(new Cas.DeleteCertificateRequestRequest({ orderId }));
        const after = await packageState();
        assert.deepEqual([after.usedCount, after.issuedCount], [before.usedCount, before.issuedCount]);
      });
    });
  }
});
