/**
 * kill -9 of a real `certplane serve` in the middle of an order, then the server started again on
 * the same database: the certificate is issued from the order the killed server made, and pebble
 * made exactly one order. The order is held mid-way the way an outage holds it: one nameserver of
 * the site's pair does not answer, so the published dns-01 record cannot be seen at every
 * authoritative server and the CA is not told to look yet. The server is killed there (order URL
 * and record stored), the nameserver comes back, and the restarted server's worker takes the job
 * over once the dead one's lease has run out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENGINES } from '../support/databases.js';
import { eventually } from '../support/issuance.js';
import { Esa, claimsIn, issuanceBehind, jobHistory, nsSite, pidOf, recordJobHistory, settled, startAcmeWorld, txtAt } from '../support/served-acme.js';


// Each engine has its own pebble and BIND, so the two run at once (most of the time is the
// killed server's 30 s lease running out) and each pebble's orders are that engine's alone.
describe('kill -9 of certplane serve in the middle of an order', { concurrency: true }, () => {
  for (const engine of ENGINES) {
    it(`on ${engine}: the restarted server completes the order the killed one made, and nothing is ordered twice`, async () => {
      const world = await startAcmeWorld();
      const deployment = await world.deployment(engine);
      try {
        const tenant = await deployment.tenant();
        await recordJobHistory(deployment.database);
        const first = await deployment.serve({ http01: false });
        const site = await nsSite(tenant.esa(first), world.bind, tenant, `kill-${engine}.e2e.test`, []);
        // One of the site's nameservers is down.
        await deployment.nameServersDown([site.nameServers[1]!]);

        const domain = `www.${site.siteName}`;
        const record = `_acme-challenge.${domain}`;
        const applied = (await tenant.esa(first).applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domain }))).body!;
        const id = applied.result![0]!.id!;
        // Mid-way: the order made and stored, the record published and its handle stored, the CA not told yet.
        await eventually(async () => (await txtAt(world.bind, record)).length === 1, 'the record published');
        await eventually(async () => JSON.parse((await issuanceBehind(deployment.database, id)).authorizations)[0]?.dnsHandle !== undefined, 'the record noted');
        const held = await issuanceBehind(deployment.database, id);
        assert.equal(held.state, 'ordered');
        assert.ok(held.order_url, 'the order URL is stored');
        assert.deepEqual(world.orders(), [held.order_url!.split('/').pop()], 'pebble made the order');
        const shown = (await tenant.esa(first).getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id }))).body!;
        assert.equal(shown.status, 'Applying');
        assert.deepEqual([shown.result!.DCV![0]!.key, shown.result!.DCV![0]!.status], [record, 'pending']);

        first.kill('SIGKILL');
        await first.exited;
        await deployment.nameServersDown([]);

        const second = await deployment.serve({ http01: false });
        // The dead server's lease (30 s) must run out before the job is worked again.
        const got = await settled(tenant.esa(second), site.siteId, id, 60_000);
        assert.equal(got.status, 'OK', got.result?.applyMessage);
        assert.match(await world.pebble.verifyChain(got.certificate!), /: OK/);
        const issued = await issuanceBehind(deployment.database, id);
        assert.equal(issued.order_url, held.order_url, 'the order the killed server made');
        assert.deepEqual(world.orders(), [held.order_url!.split('/').pop()], 'pebble made no other order');
        assert.equal((got.certificate!.match(/BEGIN CERTIFICATE/g) ?? []).length >= 2, true, 'leaf and intermediate');
        // The job's run log: claimed by the killed server, taken over by the restarted one only once
        // the dead one's lease had run out, and finished by it.
        const job = await deployment.database.db.selectFrom('jobs').selectAll().where('idempotency_key', '=', `acme.issue:${held.id}`).executeTakeFirstOrThrow();
        assert.equal(job.state, 'done');
        const history = (await jobHistory(deployment.database)).filter((w) => w.jobId === job.id);
        const claims = claimsIn(history);
        assert.ok(claims.length >= 2, `claimed ${claims.length} times`);
        assert.deepEqual(claims.map((c) => pidOf(c.newOwner)), [first.pid, ...claims.slice(1).map(() => second.pid)], 'claimed by the killed server, then only by the restarted one');
        const takeover = claims[1]!;
        assert.deepEqual([takeover.oldState, pidOf(takeover.oldOwner)], ['running', first.pid], 'taken from the dead server');
        assert.ok(takeover.at >= takeover.oldLeaseExpiresAt!, `taken at ${takeover.at}, once the lease had run out at ${takeover.oldLeaseExpiresAt}`);
        const later = history.slice(history.indexOf(takeover) + 1).filter((w) => w.oldState === 'running');
        assert.ok(later.every((w) => pidOf(w.oldOwner) === second.pid), 'nothing written under the dead server\'s lease after the takeover');
        assert.equal(history.at(-1)!.newState, 'done');
        await eventually(async () => (await txtAt(world.bind, record)).length === 0, 'the record removed');
      } finally {
        await deployment.drop();
        await world.stop();
      }
    });
  }
});
