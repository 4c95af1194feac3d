/**
 * Free certificates for an NS-mode site, a wildcard among them, end to end: the official ESA SDK
 * against a real `certplane serve` whose workers obtain them from Debian's pebble over dns-01. The
 * site's zone lives in a BIND 9 the test starts, delegated to exactly the pair of the pool the site
 * was given (every pool name resolving to that BIND); certplane publishes the `_acme-challenge`
 * records there through RFC 2136 signed with TSIG (the only way the zone takes updates), waits until
 * the pair serves them, and pebble reads them through the same BIND. Afterwards the records are gone.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { eventually } from '../support/issuance.js';
import { Esa, answeredFacts, describeServedSites, issuanceBehind, nsSite, opensslFacts, settled, txtAt } from '../support/served-acme.js';

describeServedSites(
  'ESA free certificates over dns-01 (RFC 2136 to BIND) through certplane serve and pebble',
  {
    // No http-01 responder: an NS-mode site proves control through its zone only.
    http01: false,
    makeSite: ({ world, tenant, esa }, engine) => nsSite(esa, world.bind, tenant, `ns-${engine}.e2e.test`, []),
  },
  (current) => {
    it('issues *.site and site from one ApplyCertificate; chains verify and read as answered; the TXT records are removed', async () => {
      const { world, deployment, esa, site } = current();
      assert.equal(site.nameServers.length, 2);
      for (const name of site.nameServers) assert.ok(deployment.pool.names.includes(name), `${name} is of the pool`);
      const record = `_acme-challenge.${site.siteName}`;
      assert.deepEqual(await txtAt(world.bind, record), [], 'no challenge record before');

      const domains = [`*.${site.siteName}`, site.siteName];
      const applied = (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domains.join(','), type: 'lets_encrypt' }))).body!;
      assert.deepEqual(applied.result!.map((r) => [r.domain, r.status]), domains.map((d) => [d, 'Applying']));

      const published = new Set<string>();
      for (const { id, domain } of applied.result!) {
        const got = await settled(esa, site.siteId, id!);
        assert.equal(got.status, 'OK', `${domain}: ${got.result?.applyMessage}`);
        assert.match(await world.pebble.verifyChain(got.certificate!), /: OK/);
        const openssl = opensslFacts(got.certificate!);
        assert.equal(openssl.SAN, domain, 'the certificate names the domain applied for, the wildcard as such');
        assert.deepEqual(answeredFacts(got.result!), openssl, `${domain}: GetCertificate says what openssl reads`);

        const dcv = got.result!.DCV!;
        assert.equal(dcv.length, 1);
        assert.deepEqual([dcv[0]!.type, dcv[0]!.key, dcv[0]!.status], ['DNS', record, 'valid']);
        assert.match(dcv[0]!.value!, /^[A-Za-z0-9_-]{43}$/, 'the TXT value: base64url of a SHA-256 digest');
        published.add(dcv[0]!.value!);

        const issuance = await issuanceBehind(deployment.database, id!);
        assert.deepEqual([issuance.challenge_type, issuance.state], ['dns-01', 'valid']);
        const orderId = issuance.order_url!.split('/').pop()!;
        assert.equal(world.orders().filter((o) => o === orderId).length, 1, 'one order at the CA');
      }
      assert.equal(published.size, 2, 'each certificate had its own value at the one name');

      const list = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId }))).body!;
      assert.deepEqual(list.result!.map((c) => [c.name, c.status]).sort(), domains.map((d) => [d, 'OK']).sort());
      const byRecord = (await esa.listCertificatesByRecord(new Esa.ListCertificatesByRecordRequest({ siteId: site.siteId, recordName: `www.${site.siteName}`, detail: true }))).body!;
      assert.deepEqual([byRecord.result![0]!.status, byRecord.result![0]!.count], ['configured', 1], 'the wildcard covers a name one label down');

      await eventually(async () => (await txtAt(world.bind, record)).length === 0, `${record} removed from BIND`);
      const removals = await deployment.database.db.selectFrom('jobs').select('state').where('name', '=', 'dns01.remove-record').execute();
      assert.deepEqual(removals.map((j) => j.state), ['done', 'done'], 'one removal per record, each confirmed by the server');
    });

    it('DeleteCertificate and DeleteSite while an order waits for its record: the records are removed, nothing is issued', async () => {
      const { world, deployment, tenant, esa, site } = current();
      const other = await nsSite(esa, world.bind, tenant, `gone-${site.siteName}`, []);
      // Every nameserver of the pool is down: each published record waits to be seen, the CA not told.
      await deployment.nameServersDown(deployment.pool.names);
      const withdrawn: string[] = [];
      try {
        const applied = await Promise.all([
          esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: `held.${site.siteName}` })),
          esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: other.siteId, domains: `a.${other.siteName},b.${other.siteName}` })),
        ]);
        const held = applied.flatMap((a) => a.body!.result!.map((r) => ({ id: r.id!, record: `_acme-challenge.${r.domain}` })));
        for (const { id, record } of held) {
          await eventually(async () => (await txtAt(world.bind, record)).length === 1, `${record} published`);
          await eventually(async () => JSON.parse((await issuanceBehind(deployment.database, id)).authorizations)[0]?.dnsHandle !== undefined, `${record} noted`);
        }
        const issuances = await Promise.all(held.map(({ id }) => issuanceBehind(deployment.database, id)));
        withdrawn.push(...issuances.map((i) => i.order_url!.split('/').pop()!));

        await esa.deleteCertificate(new Esa.DeleteCertificateRequest({ siteId: site.siteId, id: held[0]!.id }));
        await esa.deleteSite(new Esa.DeleteSiteRequest({ siteId: other.siteId }));
        // Removed through RFC 2136 at the primary, which the outage does not touch.
        for (const { record } of held) await eventually(async () => (await txtAt(world.bind, record)).length === 0, `${record} removed`);
        for (const { id } of issuances) {
          const row = await deployment.database.db.selectFrom('acme_issuances').select(['state', 'chain_pem']).where('id', '=', id).executeTakeFirstOrThrow();
          assert.deepEqual(row, { state: 'canceled', chain_pem: null });
        }
      } finally {
        await deployment.nameServersDown([]);
      }
      const issued = [...world.pebble.log().matchAll(/Issued certificate serial \S+ for order "?([^"\s]+)/g)].map((m) => m[1]);
      assert.ok(issued.length >= 2, 'pebble logs what it issues');
      assert.equal(withdrawn.length, 3);
      for (const order of withdrawn) assert.ok(!issued.includes(order), `pebble issued nothing for the withdrawn order ${order}`);
    });
  },
);
