/**
 * Deploy targets for a managed client CA on both engines: `deploy add --client-ca` queues a
 * `deploy.crl`; the run writes `ca.pem` and the CA's current CRL as `crl.pem` (PEM, checked by
 * openssl) and reloads; every revoke and activate queues one for the new CRL, and the recurring scan
 * one for a CRL reissued without either (before it runs out). Refusals name what is wrong.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_CA } from '../../src/config/config.js';
import { DEPLOY_CRL_JOB } from '../../src/core/deploy/model.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { isAppError } from '../../src/kernel/errors.js';
import { cli } from '../support/cli.js';
import { Esa, tenantOf, type Tenant } from '../support/client-certs.js';
import { ENGINES } from '../support/databases.js';
import { runOpenssl, scratch } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`client CA deploy targets on ${engine}`, () => {
    const clock = fixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const dir = mkdtempSync(join(tmpdir(), 'certplane-ca-deploy-'));
    let service: TestService;
    let tenant: Tenant;

    before(async () => {
      service = await startService(engine, { clock, config: { clientCa: { ...DEFAULT_CLIENT_CA, crlValidityHours: 24 } } });
      tenant = await tenantOf(service, 'ca-deploys');
    });
    after(async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const db = () => service.app.database.db;
    const directory = (name: string) => mkdtempSync(join(dir, `${name}-`));
    /** The target's deploy.crl jobs, oldest CRL first. */
    const crlJobs = async (targetId: string) =>
      (await db().selectFrom('jobs').select(['payload', 'state']).where('name', '=', DEPLOY_CRL_JOB).where('idempotency_key', 'like', `${DEPLOY_CRL_JOB}:${targetId}:%`).execute())
        .map((j) => JSON.parse(j.payload) as { targetId: string; crlNumber: number })
        .sort((a, b) => a.crlNumber - b.crlNumber);
    const run = (payload: { targetId: string; crlNumber: number }, attempt = 1) => service.app.deploys.runCrl(payload, { jobId: `job-${payload.crlNumber}-${attempt}`, attempt });
    /** openssl verify -crl_check of the leaf with the files the target holds. */
    const verifyWithDeployed = (out: string, leafPem: string) =>
      runOpenssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-crl_check', '-CAfile', join(out, 'ca.pem'), '-CRLfile', join(out, 'crl.pem'), scratch('leaf.pem', leafPem)]);
    const crlNumberOf = (out: string) => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(runOpenssl(['crl', '-in', join(out, 'crl.pem'), '-noout', '-text']).output)?.[1]);
    const eventsOf = async (type: string, caId: string) =>
      (await db().selectFrom('jobs').select('payload').where('name', '=', 'event.publish').execute())
        .map((j) => JSON.parse(j.payload) as { type: string; subject: { kind: string; id: string }; data: Record<string, unknown> })
        .filter((e) => e.type === type && e.subject.id === caId);

    it('writes the CA and its CRL at add, and again after every revoke and activate, then reloads; event and audit row', async () => {
      const { siteId } = await tenant.site();
      const leaf = await tenant.issue(siteId, 'ECC');
      const caId = leaf.CACertificateId!;
      const out = directory('ca');
      const marker = join(out, 'reloaded');
      const { target, jobs } = await service.app.deploys.add({ accountId: tenant.accountId, clientCaId: caId, directory: out, reloadCommand: `/usr/bin/touch '${marker}'` });
      assert.equal(jobs, 1);
      assert.equal(target.clientCaId, caId);
      assert.equal(target.siteId, String(siteId), "the CA's site");

      const [first] = await crlJobs(target.id);
      assert.equal(await run(first!), 'deployed');
      assert.equal(readFileSync(join(out, 'ca.pem'), 'utf8').trim(), (await tenant.caPem(siteId, caId)).trim());
      assert.match(readFileSync(join(out, 'crl.pem'), 'utf8'), /^-----BEGIN X509 CRL-----\n/);
      assert.equal(statSync(join(out, 'crl.pem')).mode & 0o777, 0o644);
      assert.equal(crlNumberOf(out), first!.crlNumber);
      assert.ok(statSync(marker).isFile(), 'the reload command ran');
      assert.equal(verifyWithDeployed(out, leaf.certificate!).status, 0, 'active: accepted');
      const [event] = await eventsOf('deployment.succeeded', caId);
      assert.deepEqual([event!.subject.kind, event!.data['targetId'], event!.data['directory'], event!.data['crlNumber']], ['client-ca', target.id, out, first!.crlNumber]);
      const audit = (await service.app.audit.list(tenant.accountId, 1000)).filter((e) => e.resource.endsWith(`deploy-target/${target.id}`));
      assert.deepEqual(audit.map((e) => [e.action, e.outcome]).sort(), [['certplane:AddDeployTarget', 'success'], ['certplane:Deploy', 'success']]);

      // A revocation queues the new CRL for the target at once.
      rmSync(marker);
      await tenant.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: leaf.id }));
      const afterRevoke = await crlJobs(target.id);
      assert.equal(afterRevoke.length, 2);
      assert.ok(afterRevoke[1]!.crlNumber > first!.crlNumber);
      await run(afterRevoke[1]!);
      assert.ok(statSync(marker).isFile(), 'reloaded again');
      const refused = verifyWithDeployed(out, leaf.certificate!);
      assert.notEqual(refused.status, 0);
      assert.match(refused.output, /certificate revoked/);

      await tenant.esa.activateClientCertificate(new Esa.ActivateClientCertificateRequest({ siteId, id: leaf.id }));
      const afterActivate = await crlJobs(target.id);
      assert.equal(afterActivate.length, 3);
      await run(afterActivate[2]!);
      assert.equal(verifyWithDeployed(out, leaf.certificate!).status, 0, 'activated: accepted again');
      assert.equal(crlNumberOf(out), afterActivate[2]!.crlNumber);
    });

    it('the scan queues a CRL reissued before it runs out, once; a target whose CA went is skipped', async () => {
      const { siteId } = await tenant.site();
      const leaf = await tenant.issue(siteId, 'ECC');
      const caId = leaf.CACertificateId!;
      const out = directory('scan');
      const { target } = await service.app.deploys.add({ accountId: tenant.accountId, clientCaId: caId, directory: out });
      const [first] = await crlJobs(target.id);
      await run(first!);

      // Nothing new: the scan queues nothing for this target.
      await service.app.deploys.scanCrls();
      assert.equal((await crlJobs(target.id)).length, 1);
      // Past half of the CRL's 24 hours: the scan has it reissued and queued, once.
      const later = new Date(clock.now().getTime() + 13 * HOUR);
      clock.set(later);
      let jobs: Awaited<ReturnType<typeof crlJobs>>;
      try {
        assert.ok((await service.app.deploys.scanCrls()) >= 1);
        await service.app.deploys.scanCrls();
        jobs = await crlJobs(target.id);
        assert.equal(jobs.length, 2);
        assert.ok(jobs[1]!.crlNumber > first!.crlNumber);
        await run(jobs[1]!);
      } finally {
        clock.set(new Date()); // the SDK signs with the real time
      }
      assert.equal(crlNumberOf(out), jobs[1]!.crlNumber);
      const nextUpdate = /nextUpdate=(.+)/.exec(runOpenssl(['crl', '-in', join(out, 'crl.pem'), '-noout', '-nextupdate']).output)?.[1];
      assert.ok(new Date(nextUpdate!).getTime() > later.getTime() + 23 * HOUR, `the deployed CRL is fresh: ${nextUpdate}`);

      // The CA deleted (its certificates first): its targets go with it, a job left over does nothing.
      await tenant.esa.revokeClientCertificate(new Esa.RevokeClientCertificateRequest({ siteId, id: leaf.id }));
      await tenant.esa.deleteClientCertificate(new Esa.DeleteClientCertificateRequest({ siteId, id: leaf.id }));
      await tenant.esa.deleteClientCaCertificate(new Esa.DeleteClientCaCertificateRequest({ siteId, id: caId }));
      assert.deepEqual(await service.app.deploys.list(tenant.accountId).then((all) => all.filter((t) => t.id === target.id)), []);
      assert.equal(await run(jobs[1]!, 2), 'skipped');
    });

    it('a reload that fails: deployment.failed with the reason, and the run fails for the worker to retry', async () => {
      const { siteId } = await tenant.site();
      const caId = (await tenant.issue(siteId, 'ECC')).CACertificateId!;
      const { target } = await service.app.deploys.add({ accountId: tenant.accountId, clientCaId: caId, directory: directory('fails'), reloadCommand: `/bin/sh -c 'echo "bad crl" >&2; exit 1'` });
      const [job] = await crlJobs(target.id);
      const failure = await run(job!).then(
        () => assert.fail('the run should fail'),
        (err: unknown) => err,
      );
      assert.ok(isAppError(failure) && failure.code === 'deploy.failed', String(failure));
      assert.match((failure as Error).message, /exited with status 1: bad crl/);
      const [event] = (await eventsOf('deployment.failed', caId)).filter((e) => e.data['targetId'] === target.id);
      assert.match(String(event!.data['error']), /bad crl/);
    });

    it('deploy add --client-ca from the CLI; an unknown, uploaded or foreign CA is refused with the reason', async () => {
      const env = { CERTPLANE_DATA_DIR: service.testDb.dataDir, DATABASE_URL: service.testDb.url };
      const { siteId } = await tenant.site();
      const caId = (await tenant.issue(siteId, 'ECC')).CACertificateId!;
      const out = directory('cli');
      const added = cli(['deploy', 'add', '--account', tenant.accountId, '--client-ca', caId, '--directory', out, '--reload-command', 'nginx -s reload'], env);
      assert.equal(added.status, 0, added.stderr);
      const target = (added.json as { target: Record<string, unknown> }).target;
      assert.deepEqual([target['clientCaId'], target['siteId'], target['certificateId'], added.json!['deploymentsQueued']], [caId, String(siteId), null, 1]);
      const listed = cli(['deploy', 'list', '--account', tenant.accountId], env);
      assert.ok((listed.json!['targets'] as Array<Record<string, unknown>>).some((t) => t['id'] === target['id'] && t['clientCaId'] === caId));

      const uploaded = await tenant.esa.uploadClientCaCertificate(new Esa.UploadClientCaCertificateRequest({ siteId, certificate: await tenant.caPem(siteId, caId), name: 'trusted' }));
      const other = await tenantOf(service, 'ca-deploys-other');
      for (const [account, id, code, message] of [
        [tenant.accountId, 'f'.repeat(32), 'certificate.not_found', /does not exist/],
        [tenant.accountId, 'not-an-id', 'certificate.not_found', /does not exist/],
        [tenant.accountId, uploaded.body!.id!, 'request.invalid_parameter', /is an uploaded CA: certplane publishes no CRL for it/],
        [other.accountId, caId, 'certificate.not_found', /does not exist/],
      ] as const) {
        const refused = cli(['deploy', 'add', '--account', account, '--client-ca', id, '--directory', out], env);
        assert.equal(refused.status, 1, refused.stdout);
        const error = (JSON.parse(refused.stderr) as { error: { code: string; message: string } }).error;
        assert.equal(error.code, code, id);
        assert.match(error.message, message, id);
      }
    });
  });
}
