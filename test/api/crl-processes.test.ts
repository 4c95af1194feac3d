/**
 * Two server processes sharing one database (a `certplane serve` child and a server in the test
 * process) revoke and activate certificates of one CA at the same time, each reissuing the CRL,
 * while both serve it: no CRL number is ever published with two different contents, each
 * reader sees numbers only rise, and once the dust settles both serve a CRL listing exactly the
 * certificates that are revoked.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Esa, esaClient } from '../support/alibaba.js';
import { serve, type ServeProcess } from '../support/cli.js';
import { ENGINES } from '../support/databases.js';
import { crlView } from '../support/revocation.js';
import { startService, type TestService } from '../support/service.js';

const WORKERS = 8;
const ROUNDS = 10;
/** Readers per server. */
const READERS = 2;

for (const engine of ENGINES) {
  describe(`CRL numbers across two server processes on ${engine}`, () => {
    let first: TestService;
    let child: ServeProcess;

    before(async () => {
      first = await startService(engine, { logLevel: 'info' });
      child = await serve({ CERTPLANE_DATA_DIR: first.testDb.dataDir, DATABASE_URL: first.testDb.url, CERTPLANE_LOG_LEVEL: 'warn' });
    });
    after(async () => {
      child.kill('SIGTERM');
      await child.exited;
      await first.stop();
    });

    it('never publishes one number twice, and both end on a CRL of exactly the revoked certificates', async () => {
      const account = await first.app.accounts.createAccount('crl-race');
      const { key, secret } = await first.app.accounts.createAccessKey(account.id);
      const credentials = { accessKeyId: key.id, accessKeySecret: secret };
      const servers = [first.baseUrl, child.baseUrl];
      const clients = servers.map((url) => esaClient(url.replace('http://', ''), credentials));
      const instanceId = (await first.app.plans.grant(account.id, 'enterprise')).id;
      const siteName = `crl-race-${process.pid}.com`;
      const siteId = (await clients[0]!.createSite(new Esa.CreateSiteRequest({ siteName, accessType: 'CNAME', coverage: 'global', instanceId }))).body!.siteId!;
      const issued: Array<{ id?: string; serialNumber?: string; CACertificateId?: string }> = [];
      for (let i = 0; i < WORKERS; i++) {
        issued.push((await clients[i % 2]!.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: 30, pkeyType: 'ECC' }))).body!);
      }
      const caId = issued[0]!.CACertificateId!;
      const ca = (await clients[0]!.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: caId }))).body!.certificate!;

      const fetched: Buffer[] = [];
      const fetchFrom = async (url: string) => {
        const response = await fetch(`${url}/pki/crl/${caId}.crl`);
        assert.equal(response.status, 200);
        const der = Buffer.from(await response.arrayBuffer());
        fetched.push(der);
        return der;
      };
      // Each worker toggles its own certificate through one server, alternating servers between workers.
      let done = 0;
      const worker = async (i: number) => {
        const client = clients[i % 2]!;
        for (let round = 0; round < ROUNDS; round++) {
          const request = { siteId, id: issued[i]!.id! };
          if (round % 2 === 0) await client.revokeClientCertificate(new Esa.RevokeClientCertificateRequest(request));
          else await client.activateClientCertificate(new Esa.ActivateClientCertificateRequest(request));
        }
        done++;
      };
      // Readers fetch from each server throughout, in order, so each sees its own sequence.
      const sequences: Buffer[][] = [];
      const reader = async (url: string) => {
        const sequence: Buffer[] = [];
        sequences.push(sequence);
        while (done < WORKERS) sequence.push(await fetchFrom(url));
      };
      // After an even number of rounds all are active; the even-numbered workers' certificates are then revoked.
      const readers = servers.flatMap((url) => Array.from({ length: READERS }, () => reader(url)));
      await Promise.all([...issued.map((_, i) => worker(i)), ...readers]);
      for (let i = 0; i < WORKERS; i += 2) await clients[(i + 1) % 2]!.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: issued[i]!.id! }));

      // One number, one content.
      const byHash = new Map<string, Buffer>();
      for (const der of fetched) byHash.set(createHash('sha256').update(der).digest('hex'), der);
      const numberOf = new Map<string, number>();
      const contentOf = new Map<number, string>();
      for (const [hash, der] of byHash) {
        const view = await crlView(der, ca);
        assert.ok(view.verified, view.output);
        const seen = contentOf.get(view.number);
        assert.ok(seen === undefined || seen === hash, `CRL number ${view.number} was published with two contents`);
        contentOf.set(view.number, hash);
        numberOf.set(hash, view.number);
      }
      assert.ok(contentOf.size > WORKERS, `many CRLs were published (${contentOf.size})`);
      for (const sequence of sequences) {
        const numbers = sequence.map((der) => numberOf.get(createHash('sha256').update(der).digest('hex'))!);
        for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! >= numbers[i - 1]!, `a reader saw numbers fall: ${numbers.join(',')}`);
      }

      const revoked = issued.filter((_, i) => i % 2 === 0).map((c) => c.serialNumber!).sort();
      for (const url of servers) {
        const view = await crlView(await fetchFrom(url), ca);
        assert.deepEqual(view.entries.map((e) => e.serial).sort(), revoked, url);
        assert.ok(view.number > Math.max(...contentOf.keys()) - 1, 'the final CRL is the newest');
      }
      for (const logs of [child.logs(), first.logs()]) {
        assert.deepEqual(logs.filter((line) => /"msg":"[^"]*(CRL|revocation)/.test(line)), [], 'every change reissued its CRL without giving up');
      }
      const row = await first.app.database.db.selectFrom('client_cas').select('crl_number').where('id', '=', caId).executeTakeFirstOrThrow();
      assert.equal(row.crl_number, (await crlView(await fetchFrom(first.baseUrl), ca)).number, 'the number served is the one on record');
    });
  });
}
