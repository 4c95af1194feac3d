import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { compose, type App } from '../../src/main.js';
import { cli, serve } from '../support/cli.js';
import { verifyWith } from '../support/client-certs.js';
import { ENGINES, createTestDatabase } from '../support/databases.js';

const stamp = (accountId: string, action: string) => new AuditStamp(accountId, 'key:test', action, (id) => `x/${id}`, `req-${action}-${Math.random()}`);

/** An account with a pending enterprise site, made through the services. */
async function siteOf(app: App): Promise<{ accountId: string; siteId: string }> {
  const account = await app.accounts.createAccount('ca-cli');
  const instance = await app.plans.grant(account.id, 'enterprise');
  const name = `cli${process.pid}x${Math.floor(Math.random() * 1e9)}.com`;
  const site = await app.sites.create(account.id, { name, accessType: 'CNAME', coverage: 'global', instanceId: instance.id }, stamp(account.id, 'esa:CreateSite'));
  return { accountId: account.id, siteId: site.id };
}

for (const engine of ENGINES) {
  describe(`the private CA across processes on ${engine}`, () => {
    it('reseals the CA key and generated client keys on rotation, and the CA signs on under the new key alone', async () => {
      const db = await createTestDatabase(engine);
      const oldKey = randomBytes(32).toString('base64');
      const newKey = randomBytes(32).toString('base64');
      const withKeys = (keys: string) => ({ CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url, CERTPLANE_MASTER_KEY: keys });
      const open = (keys: string) => compose({ ...loadConfig({ env: withKeys(keys) }), logLevel: 'silent' });
      try {
        let app = await open(oldKey);
        const { accountId, siteId } = await siteOf(app);
        const first = await app.privateCa.issue(accountId, siteId, { pkeyType: 'ECC', validityDays: 30 }, stamp(accountId, 'esa:CreateClientCertificate'));
        const caPem = (await app.privateCa.getCa(accountId, siteId, first.ca.id)).ca.certificatePem;
        await app.close();

        const rotated = cli(['master-key', 'reseal'], withKeys(`${newKey},${oldKey}`));
        assert.equal(rotated.status, 0, rotated.stderr);
        assert.deepEqual([rotated.json!.resealed, rotated.json!.total], [2, 2], 'the CA key and the generated client key');

        app = await open(newKey);
        try {
          const second = await app.privateCa.issue(accountId, siteId, { pkeyType: 'ECC', validityDays: 30 }, stamp(accountId, 'esa:CreateClientCertificate'));
          assert.equal(second.ca.id, first.ca.id, 'the same CA');
          const verdict = verifyWith(caPem, second.certificatePem);
          assert.equal(verdict.status, 0, verdict.output);
          const row = await app.database.db.selectFrom('client_certificates').select('key_sealed').where('id', '=', first.certificate.id).executeTakeFirstOrThrow();
          assert.equal(app.sealer.open(row.key_sealed!, `client_certificate_key:${first.certificate.id}`), first.privateKey);
        } finally {
          await app.close();
        }
      } finally {
        await db.drop();
      }
    });

    it('voids, when the server starts, the issuances a crash left recorded but unfinished', async () => {
      const db = await createTestDatabase(engine);
      const env = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url };
      try {
        const app = await compose({ ...loadConfig({ env }), logLevel: 'silent' });
        const { accountId, siteId } = await siteOf(app);
        const issued = await app.privateCa.issue(accountId, siteId, { pkeyType: 'ECC', validityDays: 30 }, stamp(accountId, 'esa:CreateClientCertificate'));
        // A crash between the reservation and the completion, twenty minutes ago, and one in flight now.
        const record = (id: string, minutesAgo: number) => {
          const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
          return {
            id, account_id: accountId, site_id: siteId, ca_id: issued.ca.id, serial_number: id, status: 'issuing', common_name: 'crashed', issuer: 'x',
            public_key_algorithm: 'ECC', key_generated: 0, not_before: at, not_after: at, validity_days: 1, created_at: at, updated_at: at,
          };
        };
        await app.database.db.insertInto('client_certificates').values([record('a'.repeat(32), 20), record('b'.repeat(32), 1)]).execute();
        await app.close();

        const proc = await serve(env);
        proc.kill('SIGTERM');
        await proc.exited;
        assert.ok(proc.logs().some((l) => l.includes('abandoned client certificate issuances voided') && l.includes('"voided":1')), proc.logs().join('\n'));

        const after = await compose({ ...loadConfig({ env }), logLevel: 'silent' });
        try {
          const rows = await after.database.db.selectFrom('client_certificates').select(['id', 'status']).orderBy('id').execute();
          assert.deepEqual(
            rows.map((r) => [r.id, r.status]).sort(),
            [['a'.repeat(32), 'void'], ['b'.repeat(32), 'issuing'], [issued.certificate.id, 'active']].sort(),
          );
        } finally {
          await after.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
