/**
 * Deployment end to end, on SQLite and PostgreSQL: Debian's nginx serves TLS from a deploy
 * target's directory. Adding the target deploys the certificate certplane obtained from pebble
 * (nginx reloaded by the target's command, run without a shell); then the clock reaches the
 * renewal time, the renewal is obtained, and the `deploy.run` job of the new certificate writes
 * the files atomically and reloads nginx. A loop of `openssl s_client` handshakes running
 * throughout sees the old serial, then the new one, and no failed handshake in between (while the
 * reload drains, nginx's old worker may still answer a connection or two with the old one).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENGINES } from '../support/databases.js';
import { startTlsNginx, type TlsNginx } from '../support/nginx-tls.js';
import { Esa, awaitCertificate, eventually, renewalSite, startRenewalService, startRenewalWorld, type RenewalService, type RenewalWorld } from '../support/renewal-world.js';
import { testServerCertificate } from '../support/site-certificates.js';

describe('a renewal deployed to nginx without a failed handshake', () => {
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
      let nginx: TlsNginx | undefined;
      const dir = mkdtempSync(join(tmpdir(), 'certplane-target-'));
      before(async () => {
        served = await startRenewalService(engine, world);
      });
      after(async () => {
        await nginx?.stop();
        world.serve(undefined);
        await served?.service.stop();
        rmSync(dir, { recursive: true, force: true });
      });

      it('nginx serves the deployed certificate, then the renewed one; every handshake in between succeeds', async () => {
        const db = served.service.app.database.db;
        const siteName = `nginx-${engine}-${process.pid}.test`;
        const site = await renewalSite(world, served, siteName, [{ name: '@', type: 'A', value: '127.0.0.1' }]);
        const applied = (await served.esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: siteName }))).body!;
        const id = applied.result![0]!.id!;
        const first = await awaitCertificate(served.esa, site.siteId, id, (v) => v.status !== 'Applying', 'issued');
        assert.equal(first.status, 'OK');
        const firstSerial = first.result!.serialNumber!.replace(/^0+/, '');

        // nginx starts on a placeholder; adding the target deploys the issued certificate and reloads it.
        const placeholder = testServerCertificate([siteName]);
        writeFileSync(join(dir, 'fullchain.pem'), placeholder.chainPem);
        writeFileSync(join(dir, 'privkey.pem'), placeholder.leaf.keyPem, { mode: 0o600 });
        nginx = await startTlsNginx(dir);
        const { target, jobs } = await served.service.app.deploys.add({ accountId: served.accountId, siteCertificateId: id, directory: dir, reloadCommand: nginx.reloadCommand, reloadTimeoutSeconds: 20 });
        assert.equal(jobs, 1);
        const serving = nginx;
        // Until the reload has drained, an old worker may still take a connection and answer with the
        // placeholder: the deployed certificate counts as served once a handshake shows it and the
        // old worker is gone (one worker left), and five handshakes in a row show it.
        let inARow = 0;
        await eventually(async () => {
          const shake = await serving.handshake();
          inARow = shake.ok && shake.serial.replace(/^0+/, '') === firstSerial && serving.workers() === 1 ? inARow + 1 : 0;
          return inARow >= 5 ? true : undefined;
        }, 'nginx serves the deployed certificate');

        // Handshakes throughout the renewal.
        const seen: string[] = [];
        const failures: string[] = [];
        let running = true;
        const loop = (async () => {
          while (running) {
            const shake = await serving.handshake();
            if (shake.ok) seen.push(shake.serial.replace(/^0+/, ''));
            else failures.push(shake.output);
          }
        })();

        const issuance = await db.selectFrom('site_certificates as sc').innerJoin('acme_issuances as i', 'i.id', 'sc.issuance_id').select(['i.id', 'i.renew_at']).where('sc.id', '=', id).executeTakeFirstOrThrow();
        served.clock.advance(Date.parse(issuance.renew_at!) - served.clock.now().getTime() + 11 * 60_000);
        const renewed = await awaitCertificate(served.esa, site.siteId, id, (v) => v.result?.serialNumber !== first.result!.serialNumber, 'renewed');
        const newSerial = renewed.result!.serialNumber!.replace(/^0+/, '');
        await eventually(async () => (seen.at(-1) === newSerial ? true : undefined), 'nginx serves the renewed certificate');
        // The reload has drained once the old workers are gone (on a busy machine that can take a
        // while). The one handshake in flight at that moment may still have met an old worker; every
        // handshake after it meets a new one.
        await eventually(async () => (serving.workers() === 1 ? true : undefined), 'the old workers exit');
        const drainedAt = seen.length + 1;
        await eventually(async () => (seen.length >= drainedAt + 5 ? true : undefined), 'a few handshakes after the drain');
        running = false;
        await loop;

        assert.deepEqual(failures, [], 'no handshake failed');
        const switchAt = seen.indexOf(newSerial);
        assert.ok(switchAt > 0, `handshakes saw the old serial first (${seen.length} handshakes)`);
        assert.deepEqual(new Set(seen.slice(0, switchAt)), new Set([firstSerial]));
        // While a reload drains, an old worker may still take a connection: old and new may alternate
        // briefly, but only those two, and once it has drained every handshake sees the new one.
        assert.deepEqual(new Set(seen), new Set([firstSerial, newSerial]));
        assert.deepEqual(new Set(seen.slice(drainedAt)), new Set([newSerial]));
        assert.equal(new X509Certificate(readFileSync(join(dir, 'fullchain.pem'))).serialNumber.toLowerCase().replace(/^0+/, ''), newSerial, 'fullchain.pem holds the renewed certificate');
        const key = createPrivateKey(readFileSync(join(dir, 'privkey.pem')));
        assert.ok(new X509Certificate(readFileSync(join(dir, 'fullchain.pem'))).checkPrivateKey(key), 'privkey.pem is its key');
        assert.equal(statSync(join(dir, 'privkey.pem')).mode & 0o777, 0o600);

        const succeeded = (await db.selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute())
          .map((j) => JSON.parse(j.payload) as { type: string; data: Record<string, unknown> })
          .filter((e) => e.type === 'deployment.succeeded' && e.data['targetId'] === target.id)
          .map((e) => String(e.data['serialNumber']).replace(/^0+/, ''));
        assert.deepEqual(succeeded, [firstSerial, newSerial]);
        const audit = (await served.service.app.audit.list(served.accountId, 100)).filter((e) => e.action === 'certplane:Deploy');
        assert.deepEqual(audit.map((e) => e.outcome), ['success', 'success']);
      });
    });
  }
});
