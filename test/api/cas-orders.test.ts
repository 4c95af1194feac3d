/**
 * CAS orders through the official CAS SDK, on SQLite and PostgreSQL: submission (the user's CSR, or
 * a key certplane makes), what DescribeCertificateState shows in each state, cancel and delete with
 * the states they are allowed in, the package units they hold and give back, the validation
 * deadline under an injected clock, and the listing.
 *
 * The issuance engine (the `acme.issue` job) is not part of this suite: where a state needs it,
 * the test writes the issuance row as the engine would, through `engineWrites` (clearly test
 * set-up), and checks what the CAS surface makes of it. The run against pebble covers the engine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Updateable } from 'kysely';
import type { AcmeIssuancesTable } from '../../src/adapters/db/schema.js';
import { privateKeyContext } from '../../src/core/certificates/service.js';
import { orderDeadlineHandler } from '../../src/core/orders/deadline-job.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { sdkError } from '../support/alibaba.js';
import { Cas, casTenant, csrFor, domain, rawCall, type CasTenant } from '../support/cas.js';
import { ENGINES } from '../support/databases.js';
import { generateKey, makeChain, makeLeaf } from '../support/openssl.js';
import { testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`CAS orders on ${engine}`, () => {
    let service: TestService;
    let tenant: CasTenant;
    const clock = fixedClock(new Date());

    before(async () => {
      // The clock moves two days on for the deadline; signatures, dated by the SDK in real time, stay accepted.
      service = await startService(engine, { clock, config: { casValidationDeadlineHours: 48, signatureMaxSkewMs: 7 * 24 * HOUR } });
      tenant = await casTenant(service);
      await tenant.grant(50);
    });
    after(() => service.stop());

    const withCsr = (cn: string, extra: Record<string, unknown> = {}) =>
      tenant.cas.createCertificateWithCsrRequest(
        new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(cn), username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS', ...extra }),
      );
    const state = async (orderId: number) => (await tenant.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId }))).body!;
    const packageState = async () => (await tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;
    const orderRow = (orderId: number) => service.app.database.db.selectFrom('cas_orders').selectAll().where('id', '=', String(orderId)).executeTakeFirstOrThrow();
    const issuanceOf = async (orderId: number) => {
      const order = await orderRow(orderId);
      return service.app.database.db.selectFrom('acme_issuances').selectAll().where('id', '=', order.issuance_id).executeTakeFirstOrThrow();
    };
    /** Test set-up standing in for the issuance engine: writes the order's issuance row as the engine would. */
    const engineWrites = async (orderId: number, patch: Updateable<AcmeIssuancesTable>) => {
      const order = await orderRow(orderId);
      await service.app.database.db.updateTable('acme_issuances').set(patch).where('id', '=', order.issuance_id).execute();
    };

    it('submits a CSR order: a numeric OrderId, the issuance and its job in place for the engine, one unit used, the write audited', async () => {
      const name = domain();
      const before = await packageState();
      const created = (await withCsr(name, { validateType: 'FILE' })).body!;
      const orderId = created.orderId!;
      assert.equal(typeof orderId, 'number');
      assert.ok(Number.isSafeInteger(orderId) && String(orderId).length <= 15, String(orderId));

      const issuance = await issuanceOf(orderId);
      assert.deepEqual(
        [issuance.state, issuance.placement, issuance.challenge_type, issuance.profile, JSON.parse(issuance.identifiers), issuance.key_type],
        ['queued', 'user', 'http-01', 'lets_encrypt', [name], null],
      );
      assert.match(issuance.csr_pem ?? '', /^-----BEGIN CERTIFICATE REQUEST-----/);
      const jobs = await service.app.database.db.selectFrom('jobs').select(['name', 'run_at', 'payload']).where('idempotency_key', 'in', [`acme.issue:${issuance.id}`, `cas.order-deadline:${orderId}`]).execute();
      assert.deepEqual(jobs.map((j) => j.name).sort(), ['acme.issue', 'cas.order-deadline']);
      const deadline = jobs.find((j) => j.name === 'cas.order-deadline')!;
      assert.equal(new Date(deadline.run_at).getTime(), clock.now().getTime() + 48 * HOUR);
      assert.deepEqual(JSON.parse(deadline.payload), { orderId: String(orderId) });
      const order = await orderRow(orderId);
      assert.deepEqual([order.username, order.phone, order.email, order.validate_type, order.key_source, order.algorithm], ['Tom', '13900001234', 'tom@example.com', 'FILE', 'csr', 'ECC']);

      assert.equal((await state(orderId)).type, 'payed');
      const after = await packageState();
      assert.deepEqual([after.productCode, after.totalCount, after.usedCount, after.issuedCount], ['digicert-free-1-free', 50, before.usedCount! + 1, before.issuedCount]);

      const audit = await service.app.audit.list(tenant.accountId, 5);
      const event = audit.find((e) => e.action === 'yundun-cert:CreateCertificateWithCsrRequest');
      assert.equal(event?.resource, `acs:yundun-cert:cn-hangzhou:${tenant.accountId}:order/${orderId}`);
      assert.equal(event?.outcome, 'success');
    });

    it('certifies the CSR\'s CN and its DNS SANs, each once, CN first', async () => {
      const name = domain('shop');
      const key = testKey('rsa');
      const csr = csrFor(name, { sans: [`api.${name}`, name], key });
      const orderId = (await tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr, username: '张三', phone: '+86 139-0000-1234', email: 'a.b+c@example.com', validateType: 'DNS' }))).body!.orderId!;
      const issuance = await issuanceOf(orderId);
      assert.deepEqual(JSON.parse(issuance.identifiers), [name, `api.${name}`]);
      assert.equal(issuance.challenge_type, 'dns-01');
      assert.equal((await orderRow(orderId)).algorithm, 'RSA');
    });

    it('shows what to place while validation is awaited (DNS: the full record name), then process, certificate, verify_fail', async () => {
      const name = domain();
      const orderId = (await withCsr(name)).body!.orderId!;
      await engineWrites(orderId, { state: 'ordered' });
      assert.equal((await state(orderId)).type, 'payed', 'ordered, no challenge recorded yet');

      await engineWrites(orderId, {
        authorizations: JSON.stringify([
          { url: 'https://ca.test/authz/1', domain: name, status: 'pending', challengeType: 'dns-01', challengeUrl: 'https://ca.test/chall/1', token: 'tok1', recordName: `_acme-challenge.${name}`, txtValue: 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0' },
        ]),
      });
      const verify = await state(orderId);
      assert.deepEqual(
        [verify.type, verify.validateType, verify.recordDomain, verify.recordType, verify.recordValue, verify.domain, verify.uri, verify.content],
        ['domain_verify', 'DNS', `_acme-challenge.${name}`, 'TXT', 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0', undefined, undefined, undefined],
      );

      await engineWrites(orderId, { state: 'validating' });
      assert.equal((await state(orderId)).type, 'process');
      await engineWrites(orderId, { state: 'finalizing' });
      assert.equal((await state(orderId)).type, 'process');

      const { chainPem } = makeChain('p256');
      await engineWrites(orderId, { state: 'valid', chain_pem: chainPem, not_before: new Date(clock.now().getTime() - HOUR).toISOString(), not_after: new Date(clock.now().getTime() + 90 * 24 * HOUR).toISOString() });
      const issued = await state(orderId);
      assert.deepEqual([issued.type, issued.certificate, issued.privateKey, issued.recordDomain], ['certificate', chainPem, undefined, undefined], 'no key: it is the user\'s');
      assert.equal((await packageState()).issuedCount, 1);

      const failing = (await withCsr(domain())).body!.orderId!;
      await engineWrites(failing, { state: 'invalid', error_code: 'unauthorized', error_detail: 'No TXT record found at _acme-challenge' });
      assert.equal((await state(failing)).type, 'verify_fail');
      const raw = await rawCall(tenant.cas, 'DescribeCertificateState', { OrderId: String(failing) });
      assert.deepEqual([raw.Type, raw.Reason], ['verify_fail', 'unauthorized: No TXT record found at _acme-challenge']);
    });

    it('shows a FILE order\'s domain, URI and content; the next name once the first is answered', async () => {
      const name = domain();
      const csr = csrFor(name, { sans: [`www2.${name}`] });
      const orderId = (await tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr, username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'FILE' }))).body!.orderId!;
      const auth = (d: string, token: string, answered: boolean) => ({
        url: `https://ca.test/authz/${token}`, domain: d, status: 'pending', challengeType: 'http-01', challengeUrl: `https://ca.test/chall/${token}`,
        token, path: `/.well-known/acme-challenge/${token}`, keyAuthorization: `${token}.thumbprint`, answered,
      });
      await engineWrites(orderId, { state: 'ordered', authorizations: JSON.stringify([auth(name, 'tA', false), auth(`www2.${name}`, 'tB', false)]) });
      let shown = await state(orderId);
      assert.deepEqual([shown.type, shown.validateType, shown.domain, shown.uri, shown.content, shown.recordDomain], ['domain_verify', 'FILE', name, '/.well-known/acme-challenge/tA', 'tA.thumbprint', undefined]);
      await engineWrites(orderId, { authorizations: JSON.stringify([auth(name, 'tA', true), auth(`www2.${name}`, 'tB', false)]) });
      shown = await state(orderId);
      assert.deepEqual([shown.domain, shown.uri, shown.content], [`www2.${name}`, '/.well-known/acme-challenge/tB', 'tB.thumbprint']);
    });

    it('returns the key certplane made (sealed at rest) with the certificate of a CreateCertificateRequest order', async () => {
      const name = domain('made');
      const orderId = (await tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ domain: name, username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' }))).body!.orderId!;
      const issuance = await issuanceOf(orderId);
      assert.deepEqual([issuance.csr_pem, issuance.key_type, JSON.parse(issuance.identifiers), issuance.placement], [null, 'EC256', [name], 'user']);
      assert.equal((await orderRow(orderId)).key_source, 'certplane');

      // What the engine does for it: makes the key, seals it in private_keys, finalizes, stores the chain.
      const keyPem = generateKey('p256');
      const keyId = `k${orderId}`;
      await service.app.database.db
        .insertInto('private_keys')
        .values({ id: keyId, account_id: tenant.accountId, algorithm: 'EC', sealed: service.app.sealer.seal(keyPem, privateKeyContext(keyId)), created_at: clock.now().toISOString() })
        .execute();
      await engineWrites(orderId, { key_id: keyId, state: 'finalizing' });
      assert.deepEqual([(await state(orderId)).type, (await state(orderId)).privateKey], ['process', undefined], 'no key before the certificate');
      const leaf = makeLeaf({ issuer: makeChain('p256').intermediate, alg: 'p256', cn: name, keyPem });
      await engineWrites(orderId, { state: 'valid', chain_pem: leaf.certPem, not_after: new Date(clock.now().getTime() + 90 * 24 * HOUR).toISOString() });
      const issued = await state(orderId);
      assert.deepEqual([issued.type, issued.certificate, issued.privateKey], ['certificate', leaf.certPem, keyPem]);
      const stored = await service.app.database.db.selectFrom('private_keys').select('sealed').where('id', '=', keyId).executeTakeFirstOrThrow();
      assert.ok(!stored.sealed.includes('PRIVATE KEY'), 'the key is sealed at rest');
    });

    it('CreateCertificateForPackageRequest: Domain lists up to five names for a key certplane makes; a Csr wins over Domain', async () => {
      const a = domain('a');
      const names = [a, `b.${a}`, `c.${a}`];
      const byDomain = (await tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({ domain: names.join(',') }))).body!.orderId!;
      const issuance = await issuanceOf(byDomain);
      assert.deepEqual([JSON.parse(issuance.identifiers), issuance.key_type, issuance.challenge_type], [names, 'EC256', 'dns-01'], 'ValidateType defaults to DNS');
      const cn = domain('csr');
      const byCsr = (await tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({ csr: csrFor(cn), domain: a, validateType: 'FILE' }))).body!.orderId!;
      const csrIssuance = await issuanceOf(byCsr);
      assert.deepEqual([JSON.parse(csrIssuance.identifiers), csrIssuance.key_type, csrIssuance.challenge_type], [[cn], null, 'http-01']);
    });

    it('cancels only an order awaiting validation or being reviewed, giving its unit back once; deletes only failed or cancelled ones', async () => {
      const used = async () => (await packageState()).usedCount!;
      const expectCode = async (call: Promise<unknown>, code: string, status: number) => {
        const err = await sdkError(call);
        assert.deepEqual([err.code, err.statusCode], [code, status], err.message);
      };
      const cancel = (orderId: number) => tenant.cas.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId }));
      const remove = (orderId: number) => tenant.cas.deleteCertificateRequest(new Cas.DeleteCertificateRequestRequest({ orderId }));

      const queued = (await withCsr(domain())).body!.orderId!;
      const verifying = (await withCsr(domain())).body!.orderId!;
      await engineWrites(verifying, { state: 'validating' });
      const issued = (await withCsr(domain())).body!.orderId!;
      await engineWrites(issued, { state: 'valid', chain_pem: makeChain('p256').chainPem, not_after: new Date(clock.now().getTime() + 90 * 24 * HOUR).toISOString() });
      const failed = (await withCsr(domain())).body!.orderId!;
      await engineWrites(failed, { state: 'invalid', error_code: 'unauthorized' });

      const start = await used();
      await expectCode(remove(queued), 'OrderStateError', 403);
      await expectCode(remove(verifying), 'OrderStateError', 403);
      await expectCode(remove(issued), 'OrderStateError', 403);
      await expectCode(cancel(issued), 'OrderStateError', 403);
      await expectCode(cancel(failed), 'OrderStateError', 403);
      assert.equal(await used(), start, 'refusals change nothing');

      await cancel(queued);
      await cancel(verifying);
      assert.equal(await used(), start - 2, 'each cancelled order gives its unit back');
      assert.equal((await issuanceOf(queued)).state, 'canceled');
      assert.equal((await state(queued)).type, 'payed', 'a cancelled order is pending application again, as CAS documents');
      await expectCode(cancel(queued), 'OrderStateError', 403);
      assert.equal(await used(), start - 2, 'cancelling twice gives nothing back twice');

      await remove(queued);
      await remove(failed);
      await expectCode(tenant.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId: queued })), 'NotFoundOrder', 404);
      await expectCode(remove(queued), 'NotFoundOrder', 404);
      await expectCode(cancel(failed), 'NotFoundOrder', 404);
      assert.equal(await used(), start - 2, 'deleting gives nothing back again');
      const actions = (await service.app.audit.list(tenant.accountId, 50)).filter((e) => e.resource.endsWith(`order/${queued}`)).map((e) => `${e.action} ${e.outcome}`);
      assert.ok(actions.includes('yundun-cert:CancelOrderRequest success') && actions.includes('yundun-cert:DeleteCertificateRequest success'), actions.join('; '));
      assert.ok(actions.includes('yundun-cert:CancelOrderRequest order.state_conflict'), 'the refused cancel is on record');

      const other = await casTenant(service, 'other');
      await expectCode(other.cas.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId: verifying })), 'NotFoundOrder', 404);
      await expectCode(other.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId: issued })), 'NotFoundOrder', 404);
      await expectCode(other.cas.deleteCertificateRequest(new Cas.DeleteCertificateRequestRequest({ orderId: failed + 0 })), 'NotFoundOrder', 404);
    });

    it('fails an order whose proof is never seen by casValidationDeadlineHours (verify_fail, unit back), but not one the engine moved on', async () => {
      const waiter = await casTenant(service, 'waiter');
      await waiter.grant(3);
      const submit = async () =>
        (await waiter.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(domain()), username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' }))).body!.orderId!;
      const state = async (orderId: number) => (await waiter.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId }))).body!;
      const packageState = async () => (await waiter.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;
      const late = await submit();
      const seen = await submit();
      const byJob = await submit();
      await engineWrites(late, { state: 'ordered' });
      await engineWrites(seen, { state: 'validating' });
      assert.equal((await packageState()).usedCount, 3);
      const handler = orderDeadlineHandler(service.app.orders);

      clock.set(new Date(clock.now().getTime() + 48 * HOUR - 1000));
      assert.equal((await state(late)).type, 'payed', 'a second before the deadline');
      const early = await handler.run(handler.parse({ orderId: String(byJob) }));
      assert.ok(early && early.continueAt.getTime() > clock.now().getTime(), 'a job run early looks again at the deadline');

      clock.set(new Date(clock.now().getTime() + 2000));
      assert.equal(await handler.run(handler.parse({ orderId: String(byJob) })), undefined);
      assert.equal((await issuanceOf(byJob)).state, 'invalid', 'the deadline job failed it');
      assert.equal(await handler.run(handler.parse({ orderId: String(byJob) })), undefined, 'running it again changes nothing');

      const raw = await rawCall(waiter.cas, 'DescribeCertificateState', { OrderId: String(late) });
      assert.equal(raw.Type, 'verify_fail');
      assert.match(String(raw.Reason), /^validationDeadline: the validation record was not seen within 48 hours/);
      assert.equal((await state(seen)).type, 'process', 'an order whose proof was seen is the CA\'s to finish');
      assert.equal((await packageState()).usedCount, 1, 'both failed orders gave their unit back');
      await waiter.cas.deleteCertificateRequest(new Cas.DeleteCertificateRequestRequest({ orderId: late }));
      await waiter.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(domain()), username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' }));
      assert.equal((await packageState()).usedCount, 2, 'a freed unit serves a new order');
    });

    it('lists orders newest first, paged, by status and keyword, and issued ones as certificates', async () => {
      const lister = await casTenant(service, 'lister');
      await lister.grant(10);
      const names = [domain('l1'), domain('l2'), domain('l3'), domain('l4')];
      const ids: number[] = [];
      for (const name of names) {
        clock.set(new Date(clock.now().getTime() + 1000));
        ids.push((await lister.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(name), username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' }))).body!.orderId!);
      }
      await engineWrites(ids[1]!, { state: 'validating' });
      await engineWrites(ids[2]!, { state: 'invalid', error_code: 'unauthorized' });
      const chain = makeChain('p256');
      await engineWrites(ids[3]!, { state: 'valid', chain_pem: chain.chainPem, issuer_cn: 'Test CA', not_before: clock.now().toISOString(), not_after: new Date(clock.now().getTime() + 10 * 24 * HOUR).toISOString(), fingerprint_sha256: 'ab'.repeat(32), serial_number: '0A1B' });
      const list = async (request: Record<string, unknown>) => (await lister.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest(request))).body!;

      const page1 = await list({ showSize: 3 });
      const page2 = await list({ showSize: 3, currentPage: 2 });
      assert.deepEqual([page1.totalCount, page1.showSize, page1.currentPage, page2.currentPage], [4, 3, 1, 2]);
      assert.deepEqual([...page1.certificateOrderList!, ...page2.certificateOrderList!].map((o) => o.orderId), [...ids].reverse());
      assert.deepEqual(
        page1.certificateOrderList!.map((o) => [o.status, o.domain, o.productCode, o.sourceType]),
        [['WILLEXPIRED', names[3], 'digicert-free-1-free', 'cpack'], ['CHECKED_FAIL', names[2], 'digicert-free-1-free', 'cpack'], ['CHECKING', names[1], 'digicert-free-1-free', 'cpack']],
      );
      assert.deepEqual((await list({ status: 'PAYED' })).certificateOrderList!.map((o) => o.orderId), [ids[0]]);
      assert.deepEqual((await list({ status: 'CHECKED_FAIL' })).certificateOrderList!.map((o) => o.orderId), [ids[2]]);
      assert.deepEqual((await list({ status: 'WILLEXPIRED' })).certificateOrderList!.map((o) => o.orderId), [ids[3]]);
      assert.equal((await list({ status: 'EXPIRED' })).totalCount, 0);
      assert.equal((await list({ status: 'REVOKED' })).totalCount, 0);
      assert.deepEqual((await list({ keyword: names[1]!.slice(0, 8) })).certificateOrderList!.map((o) => o.orderId), [ids[1]]);
      assert.deepEqual((await list({ keyword: String(ids[2]) })).certificateOrderList!.map((o) => o.orderId), [ids[2]]);
      assert.equal((await list({ orderType: 'BUY' })).totalCount, 0);
      const certs = await list({ orderType: 'CERT' });
      assert.deepEqual(certs.certificateOrderList!.map((c) => [c.certificateId, c.orderId, c.issuer, c.status, c.sha2]), [[ids[3], ids[3], 'Test CA', 'WILLEXPIRED', 'AB'.repeat(32)]]);
      assert.equal((await list({ orderType: 'UPLOAD' })).totalCount, 0);
      const err = await sdkError(list({ orderType: 'CERT', status: 'PAYED' }));
      assert.deepEqual([err.code, err.statusCode], ['InvalidParameter.Status', 400]);
      const otherList = await list({});
      assert.ok(otherList.certificateOrderList!.every((o) => ids.includes(o.orderId!)), 'only the account\'s own orders');
    });
  });
}
