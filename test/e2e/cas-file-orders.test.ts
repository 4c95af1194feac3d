/**
 * CAS orders validated with a file over HTTP, end to end: the official CAS SDK against certplane
 * (its job workers running) against Debian's pebble, whose VA fetches http-01 files from the
 * user's site this test serves, on SQLite and PostgreSQL. The file shown by
 * DescribeCertificateState gets the order issued; a site that answers certplane's check and then
 * serves the CA something else ends `verify_fail` with the CA's reason and gives the unit back.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { certificateSpki, sanNames } from '../support/acme.js';
import { Cas, csrFor, rawCall } from '../support/cas.js';
import { awaitState, fulfil, orderState, startCaWorld, startCasService, leafOf, type CaWorld, type CasService } from '../support/cas-pebble.js';
import { ENGINES } from '../support/databases.js';
import { testKey } from '../support/pki.js';

const CONTACT = { username: 'Tom', phone: '13900001234', email: 'tom@example.com' };
const tokenOf = (uri: string) => uri.slice(uri.lastIndexOf('/') + 1);

describe('CAS FILE orders against pebble', () => {
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

      const packageState = async () => (await cas.tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;
      const submit = async (names: string[], key = testKey('p256', true)) =>
        (await cas.tenant.cas.createCertificateWithCsrRequest(
          new Cas.CreateCertificateWithCsrRequestRequest({ csr: csrFor(names[0]!, { sans: names, key }), ...CONTACT, validateType: 'FILE' }),
        )).body!.orderId!;

      it('issues once the user serves the file shown where the CA looks', async () => {
        const name = world.name('file');
        const key = testKey('p256', true);
        const before = await packageState();
        const orderId = await submit([name], key);

        const verify = await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        assert.equal(verify.domain, name);
        assert.match(verify.uri ?? '', /^\/\.well-known\/acme-challenge\/[A-Za-z0-9_-]{43}$/);
        assert.match(verify.content ?? '', new RegExp(`^${tokenOf(verify.uri!)}\\.[A-Za-z0-9_-]{43}$`), 'the key authorization: token.thumbprint');
        assert.equal(verify.recordDomain, undefined);
        const fetchedBefore = world.site.fetchedBy.length;
        world.site.set(tokenOf(verify.uri!), verify.content!);

        const issued = await awaitState(cas.tenant, orderId, (s) => s.type === 'certificate', 'issued');
        assert.match(await world.pebble.verifyChain(issued.certificate!), /: OK/);
        assert.deepEqual(certificateSpki(leafOf(issued.certificate!)), key.spki);
        assert.deepEqual(sanNames(leafOf(issued.certificate!)), [name]);
        const fetched = world.site.fetchedBy.slice(fetchedBefore);
        assert.ok(fetched.length >= 2, 'certplane\'s check, then the CA (pebble fetches more than once)');
        assert.deepEqual(new Set(fetched), new Set([`${name}:${world.site.port}`]), 'at the name, on the port the CA uses');
        assert.equal((await packageState()).issuedCount, before.issuedCount! + 1);
      });

      it('CreateCertificateForPackageRequest for two names: each file shown in turn, the key certplane made returned with the certificate', async () => {
        const name = world.name('pack');
        const names = [name, `www.${name}`];
        const orderId = (await cas.tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({ domain: names.join(','), validateType: 'FILE' }))).body!.orderId!;
        const { state, shown } = await fulfil(world, cas.tenant, orderId);
        assert.equal(state.type, 'certificate', JSON.stringify(state));
        assert.deepEqual(shown.map((p) => p.kind === 'FILE' && p.domain), names);
        assert.match(await world.pebble.verifyChain(state.certificate!), /: OK/);
        assert.deepEqual(sanNames(leafOf(state.certificate!)), [...names].sort());
        const publicKey = createPublicKey(state.privateKey!).export({ type: 'spki', format: 'der' });
        assert.deepEqual(certificateSpki(leafOf(state.certificate!)), publicKey);
      });

      it('the CA finding another file than certplane saw: verify_fail with the CA\'s reason, the unit given back', async () => {
        const name = world.name('changed');
        const before = await packageState();
        const orderId = await submit([name]);
        assert.equal((await packageState()).usedCount, before.usedCount! + 1);
        const verify = await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        // Right for certplane's check (the first fetch), then replaced before the CA fetches it.
        world.site.set(tokenOf(verify.uri!), verify.content!, { after: 1, body: 'a page the site now serves instead' });

        const failed = await awaitState(cas.tenant, orderId, (s) => s.type !== 'domain_verify' && s.type !== 'process', 'finished');
        assert.equal(failed.type, 'verify_fail', 'what the SDK shows');
        assert.equal(failed.certificate, undefined);
        // Reason is not in the SDK's model: the raw answer carries it.
        const raw = await rawCall(cas.tenant.cas, 'DescribeCertificateState', { OrderId: String(orderId) });
        assert.equal(raw.Type, 'verify_fail');
        assert.match(String(raw.Reason), new RegExp(`^unauthorized: ${name.replace(/\./g, '\\.')}: .*key authorization`, 'i'));
        const now = await packageState();
        assert.deepEqual([now.usedCount, now.issuedCount], [before.usedCount, before.issuedCount], 'the unit is back, nothing issued');
        assert.equal((await orderState(cas.tenant, orderId)).type, 'verify_fail', 'and it stays so');
      });
    });
  }
});
