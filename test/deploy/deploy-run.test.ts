/**
 * Deploy targets on both engines, through the same service the CLI and the worker use: adding one
 * queues a deployment of what is issued already; `deploy.run` writes the certificate and its key
 * (0600), runs the reload command, and records a `deployment.succeeded` event and an audit row; a
 * reload that fails or times out records `deployment.failed` and an audit row with `deploy.failed`
 * and fails the run (the worker retries it). The CLI prints one JSON object per command.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privateKeyContext } from '../../src/core/certificates/service.js';
import { isAppError } from '../../src/kernel/errors.js';
import { randomIds } from '../../src/kernel/ids.js';
import { cli } from '../support/cli.js';
import { ENGINES } from '../support/databases.js';
import { inspectCert } from '../support/openssl.js';
import type { TestService } from '../support/service.js';
import { TestZones, apply, certTenant, issuanceOf, issueForTest, startCertService, testServerCertificate, type CertTenant } from '../support/site-certificates.js';

for (const engine of ENGINES) {
  describe(`deploy targets on ${engine}`, () => {
    const zones = new TestZones();
    let service: TestService;
    let tenant: CertTenant;
    const dir = mkdtempSync(join(tmpdir(), 'certplane-deploy-run-'));

    before(async () => {
      service = await startCertService(engine, zones);
      tenant = await certTenant(service, zones, 'deploys');
    });
    after(async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const db = () => service.app.database.db;

    /** A free certificate issued with a key certplane holds (sealed, as the engine stores it). */
    async function issuedWithKey() {
      const { siteId, siteName } = await tenant.site();
      const id = (await apply(tenant.esa, siteId, `www.${siteName}`)).result![0]!.id!;
      await issueForTest(service, id, [`www.${siteName}`]);
      const { leaf, chainPem } = testServerCertificate([`www.${siteName}`]);
      const keyId = randomIds.hex32();
      await db().insertInto('private_keys').values({ id: keyId, account_id: tenant.accountId, algorithm: 'EC', sealed: service.app.sealer.seal(leaf.keyPem, privateKeyContext(keyId)), created_at: new Date().toISOString() }).execute();
      const issuance = await issuanceOf(service, id);
      await db().updateTable('acme_issuances').set({ key_id: keyId, chain_pem: chainPem, serial_number: inspectCert(leaf.certPem).serialHex.toLowerCase() }).where('id', '=', issuance.id).execute();
      return { siteId: String(siteId), certificateId: id, issuanceId: issuance.id, chainPem, keyPem: leaf.keyPem };
    }
    const directory = (name: string) => mkdtempSync(join(dir, `${name}-`));
    const deployJobs = (targetId: string) => db().selectFrom('jobs').select(['payload', 'state']).where('name', '=', 'deploy.run').where('idempotency_key', 'like', `deploy.run:${targetId}:%`).execute();
    const eventsOf = async (type: string, certificateId: string) =>
      (await db().selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute())
        .map((j) => JSON.parse(j.payload) as { type: string; subject: { id: string }; data: Record<string, unknown> })
        .filter((e) => e.type === type && e.subject.id === certificateId);
    const auditOf = async (targetId: string) => (await service.app.audit.list(tenant.accountId, 1000)).filter((e) => e.resource.endsWith(`deploy-target/${targetId}`));

    it('add queues a deployment of the certificate issued already; the run writes both files and reloads; event and audit row', async () => {
      const cert = await issuedWithKey();
      const out = directory('ok');
      const marker = join(out, 'reloaded');
      const { target, jobs } = await service.app.deploys.add({ accountId: tenant.accountId, siteCertificateId: cert.certificateId, directory: out, reloadCommand: `/usr/bin/touch '${marker}'` });
      assert.equal(jobs, 1);
      assert.deepEqual(target.reloadCommand, ['/usr/bin/touch', marker]);
      const [job] = await deployJobs(target.id);
      assert.deepEqual(JSON.parse(job!.payload), { targetId: target.id, siteCertificateId: cert.certificateId, issuanceId: cert.issuanceId });

      assert.equal(await service.app.deploys.run({ targetId: target.id, siteCertificateId: cert.certificateId, issuanceId: cert.issuanceId }, { jobId: 'job-1', attempt: 1 }), 'deployed');
      assert.equal(readFileSync(join(out, 'fullchain.pem'), 'utf8'), cert.chainPem);
      assert.equal(readFileSync(join(out, 'privkey.pem'), 'utf8').trim(), cert.keyPem.trim());
      assert.equal(statSync(join(out, 'privkey.pem')).mode & 0o777, 0o600);
      assert.ok(statSync(marker).isFile(), 'the reload command ran');
      const [event] = await eventsOf('deployment.succeeded', cert.certificateId);
      assert.deepEqual([event!.data['targetId'], event!.data['directory']], [target.id, out]);
      const audit = await auditOf(target.id);
      assert.deepEqual(audit.map((e) => [e.action, e.outcome]).sort(), [['certplane:AddDeployTarget', 'success'], ['certplane:Deploy', 'success']]);

      // A job for an issuance the certificate no longer uses does nothing.
      assert.equal(await service.app.deploys.run({ targetId: target.id, siteCertificateId: cert.certificateId, issuanceId: 'f'.repeat(32) }, { jobId: 'job-2', attempt: 1 }), 'skipped');
    });

    it('a site’s target: each of its free certificates in a directory of its own, named by its domain', async () => {
      const cert = await issuedWithKey();
      const domain = (await db().selectFrom('site_certificates').select('domain').where('id', '=', cert.certificateId).executeTakeFirstOrThrow()).domain!;
      const out = directory('site');
      const { target, jobs } = await service.app.deploys.add({ accountId: tenant.accountId, siteId: cert.siteId, directory: out });
      assert.equal(jobs, 1);
      assert.equal(target.reloadCommand, undefined);
      await service.app.deploys.run({ targetId: target.id, siteCertificateId: cert.certificateId, issuanceId: cert.issuanceId }, { jobId: 'job-site', attempt: 1 });
      assert.equal(readFileSync(join(out, domain, 'fullchain.pem'), 'utf8'), cert.chainPem);
      assert.equal(statSync(join(out, domain, 'privkey.pem')).mode & 0o777, 0o600);
      const [event] = (await eventsOf('deployment.succeeded', cert.certificateId)).filter((e) => e.data['targetId'] === target.id);
      assert.equal(event!.data['directory'], join(out, domain));
    });

    it('a reload that fails, or runs past its timeout: deployment.failed, an audit row with deploy.failed, the run fails', async () => {
      const cert = await issuedWithKey();
      for (const [name, command, timeout, reason] of [
        ['fails', `/bin/sh -c 'echo "bad config" >&2; exit 1'`, 5, /exited with status 1: bad config/],
        ['hangs', '/bin/sleep 30', 1, /timed out after 1 s and was killed/],
      ] as const) {
        const { target } = await service.app.deploys.add({ accountId: tenant.accountId, siteId: cert.siteId, directory: directory(name), reloadCommand: command, reloadTimeoutSeconds: timeout });
        const started = Date.now();
        const failure = await service.app.deploys.run({ targetId: target.id, siteCertificateId: cert.certificateId, issuanceId: cert.issuanceId }, { jobId: `job-${name}`, attempt: 1 }).then(
          () => assert.fail('the run should fail'),
          (err: unknown) => err,
        );
        assert.ok(Date.now() - started < 5000);
        assert.ok(isAppError(failure) && failure.code === 'deploy.failed', String(failure));
        assert.match((failure as Error).message, reason);
        const [event] = await eventsOf('deployment.failed', cert.certificateId).then((events) => events.filter((e) => e.data['targetId'] === target.id));
        assert.match(String(event!.data['error']), reason);
        const audit = await auditOf(target.id);
        assert.deepEqual(audit.filter((e) => e.action === 'certplane:Deploy').map((e) => [e.outcome, e.actor]), [['deploy.failed', 'system:deploy']]);
      }
    });

    it('the CLI: add, list, remove, one JSON object each; unknown target and bad input get their codes', async () => {
      const cert = await issuedWithKey();
      const env = { CERTPLANE_DATA_DIR: service.testDb.dataDir, DATABASE_URL: service.testDb.url };
      const out = directory('cli');
      const added = cli(['deploy', 'add', '--account', tenant.accountId, '--site', cert.siteId, '--directory', out, '--reload-command', 'nginx -s reload', '--reload-timeout', '10'], env);
      assert.equal(added.status, 0, added.stderr);
      const target = (added.json as { target: { id: string; reloadCommand: string[]; siteId: string; reloadTimeoutSeconds: number } }).target;
      assert.deepEqual([target.reloadCommand, target.siteId, target.reloadTimeoutSeconds, added.json!['deploymentsQueued']], [['nginx', '-s', 'reload'], cert.siteId, 10, 1]);
      const listed = cli(['deploy', 'list', '--account', tenant.accountId], env);
      assert.ok((listed.json!['targets'] as Array<{ id: string }>).some((t) => t.id === target.id));
      const removed = cli(['deploy', 'remove', '--account', tenant.accountId, '--id', target.id], env);
      assert.equal((removed.json!['removed'] as { id: string }).id, target.id);
      const again = cli(['deploy', 'remove', '--account', tenant.accountId, '--id', target.id], env);
      assert.equal(again.status, 1);
      assert.equal((JSON.parse(again.stderr) as { error: { code: string } }).error.code, 'deploy_target.not_found');
      for (const [args, parameter] of [
        [['--site', cert.siteId, '--directory', 'relative/dir'], /directory: must be an absolute path/],
        [['--site', cert.siteId, '--directory', join(out, 'missing')], /does not exist/],
        [['--directory', out], /exactly one of --site, --certificate and --client-ca/],
        [['--site', cert.siteId, '--client-ca', 'f'.repeat(32), '--directory', out], /exactly one of --site, --certificate and --client-ca/],
        [['--site', cert.siteId, '--directory', out, '--reload-command', "nginx -c 'x"], /quote is not closed/],
        [['--site', cert.siteId, '--directory', out, '--reload-timeout', '0'], /reload-timeout/],
      ] as const) {
        const refused = cli(['deploy', 'add', '--account', tenant.accountId, ...args], env);
        assert.equal(refused.status, 1, refused.stdout);
        const error = (JSON.parse(refused.stderr) as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'request.invalid_parameter');
        assert.match(error.message, parameter);
      }
      const unknownSite = cli(['deploy', 'add', '--account', tenant.accountId, '--site', '999999999', '--directory', out], env);
      assert.equal((JSON.parse(unknownSite.stderr) as { error: { code: string } }).error.code, 'site.not_found');
    });
  });
}
