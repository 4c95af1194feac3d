/**
 * Free certificates for a CNAME-mode site, end to end: the official ESA SDK against a real
 * `certplane serve` whose workers obtain them from Debian's pebble (PEBBLE_VA_NOSLEEP=1, 5% badNonce)
 * over http-01, answered by the server's own responder on CERTPLANE_HTTP01_LISTEN, the port pebble's
 * VA connects to; pebble finds the names in a BIND 9 the test fills in. The site is made and
 * verified as a user would (CreateSite, the VerifyCode in DNS, VerifySite). Each chain
 * GetCertificate returns verifies against pebble's root with openssl, and what openssl reads from it
 * is what GetCertificate and ListCertificates say. A name pebble cannot reach ends ApplyFailed with
 * pebble's reason.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Esa, answeredFacts, cnameSite, describeServedSites, issuanceBehind, opensslFacts, settled, type EsaClient } from '../support/served-acme.js';

type ListItem = NonNullable<NonNullable<Awaited<ReturnType<EsaClient['listCertificates']>>['body']>['result']>[number];

describeServedSites(
  'ESA free certificates over http-01 through certplane serve and pebble',
  {
    makeSite: ({ world, tenant, esa }, engine) =>
      cnameSite(esa, world.bind, tenant, `cname-${engine}.e2e.test`, [
        { name: '@', type: 'A', value: '127.0.0.1' },
        { name: 'www', type: 'A', value: '127.0.0.1' },
        // Nothing listens on 127.0.0.2: pebble's VA cannot fetch the file there.
        { name: 'nowhere', type: 'A', value: '127.0.0.2' },
      ]),
  },
  (current) => {
    it('issues one certificate per domain; each chain verifies against pebble’s root and reads as the API says', async () => {
      const { world, deployment, esa, site } = current();
      const domains = [site.siteName, `www.${site.siteName}`];
      const applied = (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domains.join(',') }))).body!;
      assert.deepEqual([applied.siteName, applied.totalCount], [site.siteName, 2]);
      assert.deepEqual(applied.result!.map((r) => [r.domain, r.status]), domains.map((d) => [d, 'Applying']));

      const listed = new Map<string, ListItem>();
      for (const { id, domain } of applied.result!) {
        const got = await settled(esa, site.siteId, id!);
        assert.equal(got.status, 'OK', `${domain}: ${got.result?.applyMessage}`);
        assert.deepEqual([got.siteId, got.siteName, got.result!.id, got.result!.name, got.result!.type, got.result!.status], [site.siteId, site.siteName, id, domain, 'free', 'OK']);

        assert.match(await world.pebble.verifyChain(got.certificate!), /: OK/);
        const openssl = opensslFacts(got.certificate!);
        assert.equal(openssl.SAN, domain, 'the certificate names the domain applied for');
        assert.deepEqual(answeredFacts(got.result!), openssl, `${domain}: GetCertificate says what openssl reads`);
        assert.equal(openssl.pubAlg, 'ECDSA', 'lets_encrypt makes EC P-256 keys');

        // The proof the CA checked: one http-01 file per authorization, valid, no longer served.
        const dcv = got.result!.DCV!;
        assert.equal(dcv.length, 1);
        assert.deepEqual([dcv[0]!.type, dcv[0]!.status], ['HTTP', 'valid']);
        assert.match(dcv[0]!.key!, /^\/\.well-known\/acme-challenge\/[A-Za-z0-9_-]+$/);
        const served = await fetch(`http://127.0.0.1:${world.httpPort}${dcv[0]!.key}`);
        assert.equal(served.status, 404, 'the token is dropped once the certificate is issued');

        // One order at the CA for this certificate.
        const issuance = await issuanceBehind(deployment.database, id!);
        const orderId = issuance.order_url!.split('/').pop()!;
        assert.equal(world.orders().filter((o) => o === orderId).length, 1);
      }

      const list = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId, pageSize: 100 }))).body!;
      for (const item of list.result ?? []) listed.set(item.id!, item);
      for (const { id } of applied.result!) {
        const item = listed.get(id!)!;
        const got = (await esa.getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id }))).body!;
        assert.equal(item.status, 'OK');
        assert.deepEqual(answeredFacts(item), answeredFacts(got.result!), 'ListCertificates says what GetCertificate says');
      }
      const valid = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId, validOnly: true }))).body!;
      assert.deepEqual(valid.result!.map((c) => c.name).sort(), [...domains].sort());
    });

    it('a name pebble cannot reach ends ApplyFailed with the CA’s reason, and frees its domain', async () => {
      const { esa, site } = current();
      const domain = `nowhere.${site.siteName}`;
      const applied = (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domain }))).body!;
      const got = await settled(esa, site.siteId, applied.result![0]!.id!);
      assert.equal(got.status, 'ApplyFailed');
      assert.equal(got.certificate, '');
      assert.equal(got.result!.applyCode, 1);
      // pebble: "127.0.0.2: Fetching http://nowhere…/.well-known/acme-challenge/…: Connection refused"
      assert.match(got.result!.applyMessage!, /^connection: .*nowhere\.cname-/, got.result!.applyMessage);
      assert.match(got.result!.applyMessage!, /refused/i);
      const dcv = got.result!.DCV!;
      assert.deepEqual([dcv.length, dcv[0]!.type, dcv[0]!.status], [1, 'HTTP', 'invalid']);
      const failed = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId, keyword: 'nowhere' }))).body!;
      assert.deepEqual(failed.result!.map((c) => [c.status, c.applyCode, c.applyMessage]), [['ApplyFailed', 1, got.result!.applyMessage]]);
      // A failed application holds neither its domain nor a unit of the quota.
      const again = (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domain }))).body!;
      assert.equal(again.result![0]!.status, 'Applying');
      assert.equal((await settled(esa, site.siteId, again.result![0]!.id!)).status, 'ApplyFailed');
    });
  },
);
