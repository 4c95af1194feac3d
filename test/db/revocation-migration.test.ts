import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { openDatabase } from '../../src/adapters/db/database.js';
import { migrationProvider } from '../../src/adapters/db/migrations/index.js';
import { ENGINES, createTestDatabase } from '../support/databases.js';
import { opensslOk, testCa } from '../support/pki.js';

/** The issuer hashes `openssl ocsp` puts in a CertID for this CA, name hash then key hash, hex. */
function opensslIssuerId(caPath: string, digest: 'sha1' | 'sha256'): string {
  const text = opensslOk(['ocsp', `-${digest}`, '-issuer', caPath, '-serial', '0x01', '-no_nonce', '-req_text']);
  const name = /Issuer Name Hash: ([0-9A-F]+)/.exec(text)![1]!;
  const key = /Issuer Key Hash: ([0-9A-F]+)/.exec(text)![1]!;
  return (name + key).toLowerCase();
}

for (const engine of ENGINES) {
  describe(`migration 006 on ${engine}`, () => {
    it('gives managed CAs made before it the OCSP ids openssl names them by; uploaded CAs get none', async () => {
      const testDb = await createTestDatabase(engine);
      const database = openDatabase(testDb.database);
      try {
        // A database as the previous version left it: one site with a managed CA and an uploaded one.
        const { error } = await new Migrator({ db: database.db, provider: migrationProvider }).migrateTo('005-private-ca');
        assert.equal(error, undefined);
        const now = new Date().toISOString();
        const managed = testCa('p256', 'Managed before 006');
        const uploaded = testCa('rsa', 'Uploaded before 006');
        await sql`insert into accounts (id, name, project_id, created_at) values ('100000000000001', 'old', ${'a'.repeat(32)}, ${now})`.execute(database.db);
        await sql`insert into plan_instances (id, account_id, plan, created_at) values ('pi-1', '100000000000001', 'enterprise', ${now})`.execute(database.db);
        await sql`insert into sites (id, account_id, name, access_type, coverage, instance_id, status, verify_code, name_servers, cname_zone, created_at, updated_at)
          values ('200000000000001', '100000000000001', 'old.example', 'CNAME', 'global', 'pi-1', 'pending', 'v', '', 'c', ${now}, ${now})`.execute(database.db);
        for (const [id, kind, ca] of [['c'.repeat(32), 'managed', managed], ['d'.repeat(32), 'uploaded', uploaded]] as const) {
          await sql`insert into client_cas (id, account_id, site_id, kind, name, certificate_pem, key_sealed, common_name, issuer, serial_number,
            fingerprint_sha256, signature_algorithm, public_key_algorithm, san, not_before, not_after, created_at, updated_at)
            values (${id}, '100000000000001', '200000000000001', ${kind}, 'ca', ${ca.cert.pem}, null, 'ca', 'ca', '01', 'ff', 'ECDSA-SHA256', 'ECC', '',
            ${now}, ${now}, ${now}, ${now})`.execute(database.db);
        }

        const upgrade = await new Migrator({ db: database.db, provider: migrationProvider }).migrateToLatest();
        assert.equal(upgrade.error, undefined);
        const rows = await database.db
          .selectFrom('client_cas')
          .select(['id', 'ocsp_sha1', 'ocsp_sha256', 'revocation_version', 'crl_revocation_version', 'crl_number'])
          .orderBy('id')
          .execute();
        assert.deepEqual(rows, [
          {
            id: 'c'.repeat(32),
            ocsp_sha1: opensslIssuerId(managed.certPath, 'sha1'),
            ocsp_sha256: opensslIssuerId(managed.certPath, 'sha256'),
            revocation_version: 0,
            crl_revocation_version: 0,
            crl_number: 0,
          },
          { id: 'd'.repeat(32), ocsp_sha1: null, ocsp_sha256: null, revocation_version: 0, crl_revocation_version: 0, crl_number: 0 },
        ]);
      } finally {
        await database.close();
        await testDb.drop();
      }
    });
  });
}
