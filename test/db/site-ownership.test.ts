import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator } from 'kysely';
import { migrate, openDatabase, type Database } from '../../src/adapters/db/database.js';
import { migrationProvider } from '../../src/adapters/db/migrations/index.js';
import { SqlSiteStore } from '../../src/adapters/db/site-store.js';
import type { AuditEvent } from '../../src/core/audit/ports.js';
import type { Site } from '../../src/core/sites/model.js';
import { NameServersInUse, SiteNameInUse } from '../../src/core/sites/ports.js';
import { removeDnsRecordJob } from '../../src/jobs/remove-dns-record.js';
import { randomIds } from '../../src/kernel/ids.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';

function auditEvent(accountId: string, action: string): AuditEvent {
  return { at: new Date(), accountId, actor: 'key:test', action, resource: 'site/*', outcome: 'success', requestId: 'req' };
}

const LEGACY_NS = JSON.stringify(['ns1.certplane-dns.net', 'ns2.certplane-dns.net']);
const T0 = '2025-01-01T00:00:00.000Z';

/** A sites row as migration 002 left them: every site of a name with the same nameservers. */
function legacyRow(id: string, accessType: string, status: string, createdAt: string, verifiedAt: string | null) {
  return {
    id,
    account_id: `acc${id}`,
    name: 'legacy.com',
    access_type: accessType,
    coverage: 'global',
    instance_id: `inst${id}`,
    resource_group_id: null,
    status,
    verify_code: `verify_${id}`,
    name_servers: LEGACY_NS,
    cname_zone: 'legacy.com.cname.certplane-dns.net',
    created_at: createdAt,
    updated_at: createdAt,
    verified_at: verifiedAt,
  };
}

for (const engine of ENGINES) {
  describe(`Site ownership in the database on ${engine}`, () => {
    let testDb: TestDatabase;
    let database: Database;

    before(async () => {
      testDb = await createTestDatabase(engine);
      database = openDatabase(testDb.database);
      const { error } = await new Migrator({ db: database.db, provider: migrationProvider }).migrateTo('002-identity-sites');
      if (error) throw error;
      for (const id of ['1', '2', '3', '4', '5']) {
        await database.db.insertInto('accounts').values({ id: `acc${id}`, name: id, project_id: `p${id}`, created_at: T0 }).execute();
        await database.db.insertInto('plan_instances').values({ id: `inst${id}`, account_id: `acc${id}`, plan: 'enterprise', created_at: T0 }).execute();
      }
      // Written without ns_pair: the column does not exist before 003.
      const sites = database.db as unknown as { insertInto(t: 'sites'): { values(v: object): { execute(): Promise<unknown> } } };
      await sites.insertInto('sites').values(legacyRow('1', 'NS', 'pending', '2025-01-01T01:00:00.000Z', null)).execute();
      await sites.insertInto('sites').values(legacyRow('2', 'NS', 'active', '2025-01-01T02:00:00.000Z', '2025-01-02T00:00:00.000Z')).execute();
      await sites.insertInto('sites').values(legacyRow('3', 'NS', 'active', '2025-01-01T03:00:00.000Z', '2025-01-03T00:00:00.000Z')).execute();
      await sites.insertInto('sites').values(legacyRow('4', 'CNAME', 'active', '2025-01-01T04:00:00.000Z', '2025-01-01T05:00:00.000Z')).execute();
      const upgrade = await new Migrator({ db: database.db, provider: migrationProvider }).migrateTo('003-site-ownership');
      if (upgrade.error) throw upgrade.error;
      assert.deepEqual(upgrade.results?.map((r) => [r.migrationName, r.status]), [['003-site-ownership', 'Success']]);
      await migrate(database.db);
    });
    after(async () => {
      await database.close();
      await testDb.drop();
    });

    it('settles sites made before ownership rules: one active site per name, one holder per nameserver set', async () => {
      const rows = await database.db.selectFrom('sites').select(['id', 'status', 'ns_pair', 'name_servers']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { id: '1', status: 'pending', ns_pair: null, name_servers: '[]' },
        { id: '2', status: 'moved', ns_pair: null, name_servers: '[]' },
        { id: '3', status: 'active', ns_pair: 'ns1.certplane-dns.net,ns2.certplane-dns.net', name_servers: LEGACY_NS },
        { id: '4', status: 'moved', ns_pair: null, name_servers: LEGACY_NS },
      ]);
    });

    it('refuses a second holder of a name’s nameservers and a second site of a name in one account', async () => {
      const store = new SqlSiteStore(database.db, { removalJob: removeDnsRecordJob, ids: randomIds });
      const site = (id: string, accountId: string, nameServers: string[]): Site => ({
        id,
        accountId,
        name: 'legacy.com',
        accessType: 'NS',
        coverage: 'global',
        instanceId: `inst${accountId.slice(3)}`,
        plan: 'enterprise',
        resourceGroupId: null,
        status: 'pending',
        verifyCode: `verify_${id}`,
        nameServers,
        cnameZone: 'legacy.com.cname.test',
        createdAt: new Date(),
        updatedAt: new Date(),
        verifiedAt: null,
      });
      const insert = (s: Site) => store.withInstance(s.instanceId, (tx) => tx.insert(s, auditEvent(s.accountId, 'esa:CreateSite')));
      await assert.rejects(insert(site('10', 'acc5', ['ns1.certplane-dns.net', 'ns2.certplane-dns.net'])), NameServersInUse);
      await assert.rejects(insert(site('11', 'acc3', ['ns3.certplane-dns.net', 'ns4.certplane-dns.net'])), SiteNameInUse);
      const holders = await store.withInstance('inst5', (tx) => tx.sitesNamed('legacy.com'));
      const ns = holders.filter((h) => h.accessType === 'NS' && h.nameServers.length > 0);
      assert.deepEqual(ns, [{ accountId: 'acc3', accessType: 'NS', nameServers: JSON.parse(LEGACY_NS) }]);
      assert.equal(holders.length, 4);
      assert.equal(await store.withInstance('inst5', (tx) => tx.count()), 0, 'nothing stored by the refused inserts');
      await insert(site('12', 'acc5', ['ns2.certplane-dns.net', 'ns3.certplane-dns.net']));
      assert.equal(await store.withInstance('inst5', (tx) => tx.count()), 1);
    });

    it('activates a site and moves the active one of the same name in one step', async () => {
      const store = new SqlSiteStore(database.db, { removalJob: removeDnsRecordJob, ids: randomIds });
      const pending = (await store.find('acc1', '1'))!;
      const movedAudit = (m: { accountId: string; id: string }) => ({ ...auditEvent(m.accountId, 'certplane:MoveSite'), resource: `site/${m.id}` });
      const moved = await store.activate(pending, new Date('2026-01-01T00:00:00Z'), auditEvent('acc1', 'esa:VerifySite'), movedAudit);
      assert.deepEqual(moved, [{ accountId: 'acc3', id: '3' }]);
      assert.equal((await store.find('acc3', '3'))!.status, 'moved');
      assert.equal((await store.find('acc1', '1'))!.status, 'active');
      assert.equal(await store.activate(pending, new Date(), auditEvent('acc1', 'esa:VerifySite'), movedAudit), undefined, 'an active site is not activated again');
      const audited = await database.db.selectFrom('audit_events').select(['account_id', 'action']).where('account_id', '=', 'acc1').execute();
      assert.deepEqual(audited, [{ account_id: 'acc1', action: 'esa:VerifySite' }], 'one activation, one audit row');
      const told = await database.db.selectFrom('audit_events').select(['account_id', 'action', 'resource']).where('account_id', '=', 'acc3').execute();
      assert.deepEqual(told, [{ account_id: 'acc3', action: 'certplane:MoveSite', resource: 'site/3' }], 'the account that lost the name has it on record');
      const active = await database.db.selectFrom('sites').select('id').where('status', '=', 'active').execute();
      assert.deepEqual(active, [{ id: '1' }]);
    });
  });
}
