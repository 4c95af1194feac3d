/**
 * CAS orders validated over DNS, end to end: the official CAS SDK against certplane (its job
 * workers running) against Debian's pebble, which resolves through the BIND the test places TXT
 * records in, playing the user who reads DescribeCertificateState. On SQLite and PostgreSQL: the
 * user's CSR certified (chain verified against pebble's root, the CSR's key in the leaf), a key
 * certplane made returned with its certificate, several names and a wildcard one proof at a time,
 * and a wrong TXT value that keeps the order waiting with nothing sent to the CA.
 */
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { certificateSpki, sanNames } from '../support/acme.js';
import { Cas, csrFor } from '../support/cas.js';
import { awaitState, fulfil, orderState, startCaWorld, startCasService, leafOf, WILDCARD_PRODUCT, type CaWorld, type CasService } from '../support/cas-pebble.js';
import { ENGINES } from '../support/databases.js';
import { testKey } from '../support/pki.js';

const CONTACT = { username: 'Tom', phone: '13900001234', email: 'tom@example.com' };
/** A CSR as a user makes one (and as RFC 8555 CAs such as pebble require): every name in subjectAltName, the first also as CN. */
const userCsr = (names: string[], key = testKey('p256', true)) => csrFor(names[0]!, { sans: names, key });

describe('CAS DNS orders against pebble', () => {
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

      const packageState = async (productCode?: string) => (await cas.tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({ productCode }))).body!;
      const submit = async (csr: string, extra: Record<string, unknown> = {}) =>
        (await cas.tenant.cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest({ csr, ...CONTACT, validateType: 'DNS', ...extra }))).body!.orderId!;

      it('issues for the user\'s CSR once the user places the TXT record shown: the chain verifies against pebble\'s root and certifies the CSR\'s key', async () => {
        const name = world.name();
        const key = testKey('p256', true);
        const before = await packageState();
        const orderId = await submit(userCsr([name], key));

        const verify = await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        assert.deepEqual([verify.recordDomain, verify.recordType], [`_acme-challenge.${name}`, 'TXT']);
        assert.match(verify.recordValue ?? '', /^[A-Za-z0-9_-]{43}$/, 'the dns-01 digest, base64url');
        await world.placeTxt(verify.recordDomain!, verify.recordValue!);

        const issued = await awaitState(cas.tenant, orderId, (s) => s.type === 'certificate', 'issued');
        const chain = issued.certificate!;
        assert.match(await world.pebble.verifyChain(chain), /: OK/);
        const leaf = leafOf(chain);
        assert.deepEqual(certificateSpki(leaf), key.spki, 'the leaf carries the CSR\'s public key');
        assert.deepEqual(sanNames(leaf), [name]);
        assert.equal(issued.privateKey, undefined, 'the key is the user\'s: certplane has none to show');
        const after = await packageState();
        assert.deepEqual([after.usedCount, after.issuedCount], [before.usedCount! + 1, before.issuedCount! + 1]);

        // /metrics shows the order's certificate as kind "order", named by its OrderId.
        const x509 = new X509Certificate(leaf);
        const sample = `certplane_certificate_expiration_timestamp_seconds{kind="order",id="${orderId}",account="${cas.tenant.accountId}",` +
          `common_name="${name}",serial="${x509.serialNumber.toLowerCase()}"} ${Math.floor(Date.parse(x509.validTo) / 1000)}`;
        const scraped = (await cas.service.app.metrics.render()).split('\n').filter((l) => l.includes(`id="${orderId}"`));
        assert.deepEqual(scraped, [sample]);
      });

      it('CreateCertificateRequest: certplane makes the key and returns it with the certificate, and the key matches the leaf', async () => {
        const name = world.name('made');
        const orderId = (await cas.tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ domain: name, ...CONTACT, validateType: 'DNS' }))).body!.orderId!;
        const { state, shown } = await fulfil(world, cas.tenant, orderId);
        assert.equal(state.type, 'certificate', JSON.stringify(state));
        assert.deepEqual(shown.map((p) => p.kind === 'DNS' && p.name), [`_acme-challenge.${name}`]);
        assert.match(await world.pebble.verifyChain(state.certificate!), /: OK/);
        assert.match(state.privateKey ?? '', /^-----BEGIN PRIVATE KEY-----/);
        const publicKey = createPublicKey(state.privateKey!).export({ type: 'spki', format: 'der' });
        assert.deepEqual(certificateSpki(leafOf(state.certificate!)), publicKey, 'the key returned is the leaf\'s');
      });

      it('certifies several names, showing one record at a time, the next once the first is seen', async () => {
        const name = world.name('multi');
        const names = [name, `api.${name}`, `shop.${name}`];
        const key = testKey('rsa');
        const orderId = await submit(userCsr(names, key));
        const { state, shown } = await fulfil(world, cas.tenant, orderId);
        assert.equal(state.type, 'certificate', JSON.stringify(state));
        assert.deepEqual(shown.map((p) => p.kind === 'DNS' && p.name), names.map((n) => `_acme-challenge.${n}`), 'each name\'s record, CN first');
        assert.match(await world.pebble.verifyChain(state.certificate!), /: OK/);
        assert.deepEqual(sanNames(leafOf(state.certificate!)), [...names].sort());
        assert.deepEqual(certificateSpki(leafOf(state.certificate!)), key.spki);
      });

      it('certifies a wildcard and its base name on a product that allows wildcards: two values at one record name', async () => {
        const base = world.name('wild');
        const key = testKey('p384', true);
        const before = await packageState(WILDCARD_PRODUCT);
        const orderId = await submit(userCsr([`*.${base}`, base], key), { productCode: WILDCARD_PRODUCT });
        const { state, shown } = await fulfil(world, cas.tenant, orderId);
        assert.equal(state.type, 'certificate', JSON.stringify(state));
        assert.equal(shown.length, 2);
        assert.deepEqual(shown.map((p) => p.kind === 'DNS' && p.name), [`_acme-challenge.${base}`, `_acme-challenge.${base}`]);
        assert.notEqual(shown[0]!.kind === 'DNS' && shown[0]!.value, shown[1]!.kind === 'DNS' && shown[1]!.value);
        assert.match(await world.pebble.verifyChain(state.certificate!), /: OK/);
        assert.deepEqual(sanNames(leafOf(state.certificate!)), [`*.${base}`, base].sort());
        assert.deepEqual(certificateSpki(leafOf(state.certificate!)), key.spki);
        assert.equal((await packageState(WILDCARD_PRODUCT)).issuedCount, before.issuedCount! + 1);
      });

      it('a wrong TXT value keeps the order in domain_verify and asks the CA nothing; the right one then issues', async () => {
        const name = world.name('wrong');
        const orderId = await submit(userCsr([name]));
        const verify = await awaitState(cas.tenant, orderId, (s) => s.type === 'domain_verify', 'awaiting validation');
        const asked = world.validationsAsked();
        await world.placeTxt(verify.recordDomain!, 'not-the-value-shown');
        // Ten checks' worth (a check every 200 ms): the record is seen, its value is not the one shown.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const still = await orderState(cas.tenant, orderId);
        assert.deepEqual([still.type, still.recordDomain, still.recordValue], ['domain_verify', verify.recordDomain, verify.recordValue]);
        assert.equal(world.validationsAsked(), asked, 'no challenge answered: pebble validated nothing');

        await world.placeTxt(verify.recordDomain!, verify.recordValue!);
        const issued = await awaitState(cas.tenant, orderId, (s) => s.type === 'certificate', 'issued');
        assert.match(await world.pebble.verifyChain(issued.certificate!), /: OK/);
        assert.ok(world.validationsAsked() > asked, 'the right value was answered and validated');
      });
    });
  }
});
