/**
 * Two `certplane serve` processes on one PostgreSQL database working many applications at once:
 * a CNAME-mode site's over http-01 (answered by the one server that holds the http-01 port, from
 * tokens either server stored) and an NS-mode site's over dns-01 (published by either server through
 * RFC 2136), each server taking jobs as its workers have room. Every certificate is issued; the
 * jobs' run log (every write of the `jobs` table, recorded by a trigger of the test's own) shows each
 * job claimed only when nobody held it, both servers at work, and pebble made exactly one order per
 * certificate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BindRecord } from '../support/bind.js';
import type { ServeProcess } from '../support/cli.js';
import {
  Esa,
  claimsIn,
  cnameSite,
  issuanceBehind,
  jobHistory,
  nsSite,
  pidOf,
  recordJobHistory,
  settled,
  startAcmeWorld,
  type AcmeWorld,
  type Deployment,
  type Tenant,
} from '../support/served-acme.js';

const HTTP_DOMAINS = 12;
const DNS_DOMAINS = 8;

describe('two certplane serve processes on one PostgreSQL database', () => {
  let world: AcmeWorld;
  let deployment: Deployment;
  let tenant: Tenant;
  let servers: [ServeProcess, ServeProcess];

  before(async () => {
    world = await startAcmeWorld();
    deployment = await world.deployment('postgres');
    tenant = await deployment.tenant();
    await recordJobHistory(deployment.database);
    // Few jobs at a time each, so neither server can take them all.
    const settings = { CERTPLANE_WORKER_CONCURRENCY: '3' };
    servers = await Promise.all([deployment.serve({ env: settings }), deployment.serve({ http01: false, env: settings })]);
  });
  after(async () => {
    await deployment?.drop();
    await world?.stop();
  });

  it('issue every certificate, never work one job at once, and order each certificate once', async () => {
    const [a, b] = servers;
    const hosts = Array.from({ length: HTTP_DOMAINS }, (_, i) => `h${i}`);
    const cname = await cnameSite(tenant.esa(a), world.bind, tenant, 'two-http.e2e.test', hosts.map((name): BindRecord => ({ name, type: 'A', value: '127.0.0.1' })));
    const ns = await nsSite(tenant.esa(b), world.bind, tenant, 'two-dns.e2e.test', []);
    const nsDomains = [`*.${ns.siteName}`, ...Array.from({ length: DNS_DOMAINS - 1 }, (_, i) => `d${i}.${ns.siteName}`)];
    // Each site's application through the other server than its site was made on.
    const [httpApplied, dnsApplied] = await Promise.all([
      tenant.esa(b).applyCertificate(new Esa.ApplyCertificateRequest({ siteId: cname.siteId, domains: hosts.map((h) => `${h}.${cname.siteName}`).join(',') })),
      tenant.esa(a).applyCertificate(new Esa.ApplyCertificateRequest({ siteId: ns.siteId, domains: nsDomains.join(',') })),
    ]);
    const applications = [
      ...httpApplied.body!.result!.map((r) => ({ siteId: cname.siteId, id: r.id!, domain: r.domain! })),
      ...dnsApplied.body!.result!.map((r) => ({ siteId: ns.siteId, id: r.id!, domain: r.domain! })),
    ];
    assert.equal(applications.length, HTTP_DOMAINS + DNS_DOMAINS);

    const orderIds: string[] = [];
    const issuanceIds = new Set<string>();
    for (const { siteId, id, domain } of applications) {
      // Read through either server: they answer from the one database.
      const got = await settled(tenant.esa(orderIds.length % 2 === 0 ? a : b), siteId, id, 90_000);
      assert.equal(got.status, 'OK', `${domain}: ${got.result?.applyMessage}`);
      assert.match(await world.pebble.verifyChain(got.certificate!), /: OK/, domain);
      const issuance = await issuanceBehind(deployment.database, id);
      orderIds.push(issuance.order_url!.split('/').pop()!);
      issuanceIds.add(issuance.id);
    }
    // pebble made exactly one order per certificate, each the one its issuance stored.
    assert.equal(new Set(orderIds).size, applications.length);
    assert.deepEqual([...world.orders()].sort(), [...orderIds].sort());

    const history = await jobHistory(deployment.database);
    const issueJobs = new Set(history.filter((w) => w.name === 'acme.issue').map((w) => w.jobId));
    assert.equal(issueJobs.size, applications.length, 'one acme.issue job per certificate');
    const claims = claimsIn(history).filter((w) => issueJobs.has(w.jobId));
    for (const claim of claims) {
      assert.equal(claim.oldState, 'queued', `job ${claim.jobId} was claimed while ${claim.oldOwner} held it (attempt ${claim.oldAttempts})`);
    }
    // Between a claim and the job's next claim, only the holder's writes: each conditional on its
    // lease (same owner, same attempt) until it handed the job back or finished it.
    for (const job of issueJobs) {
      let holder: { owner: string; attempt: number } | undefined;
      for (const write of history.filter((w) => w.jobId === job)) {
        if (write.oldState === 'running') {
          assert.ok(holder, `job ${job}: a write to a running job nobody claimed`);
          assert.deepEqual([write.oldOwner, write.oldAttempts], [holder.owner, holder.attempt], `job ${job}: written under another's lease`);
        }
        holder = write.newState === 'running' ? { owner: write.newOwner!, attempt: write.newAttempts } : undefined;
      }
      assert.equal(history.filter((w) => w.jobId === job).at(-1)!.newState, 'done', `job ${job} done`);
    }
    const pids = new Set(claims.map((claim) => pidOf(claim.newOwner)));
    assert.deepEqual([...pids].sort(), [a.pid, b.pid].sort(), 'both servers worked acme.issue jobs');
    for (const server of servers) {
      const lost = server.logs().filter((line) => /lease lost|changed while its order was made/.test(line));
      assert.deepEqual(lost, [], `server ${server.pid} never lost a lease nor raced an order`);
    }
    // Every issuance ended valid, each with its own order.
    const rows = await deployment.database.db.selectFrom('acme_issuances').select(['id', 'state', 'order_url']).execute();
    assert.deepEqual(rows.map((r) => r.state), rows.map(() => 'valid'));
    assert.deepEqual(new Set(rows.map((r) => r.id)), issuanceIds);
  });
});
