import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DEFAULT_PLANS } from '../../src/config/config.js';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { certificatesRenewable } from '../../src/core/sites/model.js';
import { DnsUnavailable, NameServersInUse, type DnsResolver } from '../../src/core/sites/ports.js';
import { SitesService } from '../../src/core/sites/service.js';
import type { PlanInstance } from '../../src/core/plans/model.js';
import { AppError } from '../../src/kernel/errors.js';
import { fixedClock } from '../../src/kernel/clock.js';
import type { Logger } from '../../src/kernel/logger.js';
import { MemorySiteStore } from '../support/memory-site-store.js';

const POOL = ['ns-a.test', 'ns-b.test', 'ns-c.test', 'ns-d.test'];

/** DNS answers held in maps, keyed by the name asked; `down` makes every lookup fail as a dead resolver would. */
class FakeDns implements DnsResolver {
  readonly description = '192.0.2.53:53';
  readonly ns = new Map<string, string[]>();
  readonly txt = new Map<string, string[]>();
  down = false;
  async resolveNs(name: string): Promise<string[]> {
    if (this.down) throw new DnsUnavailable('no answer', 'ETIMEOUT');
    return this.ns.get(name) ?? [];
  }
  async resolveTxt(name: string): Promise<string[]> {
    if (this.down) throw new DnsUnavailable('no answer', 'ETIMEOUT');
    return this.txt.get(name) ?? [];
  }
}

class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; obj: Record<string, unknown>; msg: string | undefined }> = [];
  info = (obj: object, msg?: string) => void this.lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg });
  warn = (obj: object, msg?: string) => void this.lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
  error = (obj: object, msg?: string) => void this.lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
  debug = (obj: object, msg?: string) => void this.lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg });
  child = () => this;
}

describe('SitesService with in-memory ports', () => {
  let store: MemorySiteStore;
  let dns: FakeDns;
  let logger: RecordingLogger;
  let sites: SitesService;
  let picks: number[];
  let next = 0;

  function service(pick: (n: number) => number = () => 0): SitesService {
    return new SitesService({
      store,
      dns,
      clock: fixedClock(new Date('2026-01-01T00:00:00Z')),
      regionId: 'test-region',
      ids: { hex32: () => (++next).toString(16).padStart(32, '0'), ordered32: () => (++next).toString(16).padStart(32, '0'), numeric: () => String(1e12 + ++next), secret: () => 's' },
      plans: {
        requireInstance: async (accountId, id) => {
          const plan = id.startsWith('free') ? 'free' : 'enterprise';
          const instance: PlanInstance = { id, accountId, plan, createdAt: new Date(0) };
          return { instance, definition: DEFAULT_PLANS[plan]! };
        },
        definition: (plan) => DEFAULT_PLANS[plan]!,
      },
      nameServers: POOL,
      cnameSuffix: 'cname.test',
      randomIndex: (n) => {
        picks.push(n);
        return pick(n);
      },
      logger,
    });
  }

  beforeEach(() => {
    store = new MemorySiteStore();
    dns = new FakeDns();
    logger = new RecordingLogger();
    picks = [];
    sites = service();
  });

  const stamp = (account: string, action: string) => new AuditStamp(account, 'key:test', action, (id) => `site/${id}`, `req-${++next}`);
  const create = (account: string, name: string, accessType: 'NS' | 'CNAME' = 'NS', instanceId = `inst-${account}`) =>
    sites.create(account, { name, accessType, coverage: 'global', instanceId }, stamp(account, 'esa:CreateSite'));
  const verify = (account: string, id: string) => sites.verify(account, id, stamp(account, 'esa:VerifySite'));

  it('passes NS verification only on a delegation to exactly the site’s pair', async () => {
    const site = await create('acc1', 'example.com');
    assert.deepEqual(site.nameServers, ['ns-a.test', 'ns-b.test']);
    const cases: Array<[string[], boolean, RegExp]> = [
      [[], false, /has no NS records/],
      [['ns-a.test'], false, /missing ns-b\.test/],
      [['ns-a.test', 'ns-b.test', 'ns-c.test'], false, /not this site's ns-c\.test/],
      [['ns-c.test', 'ns-d.test'], false, /missing ns-a\.test, ns-b\.test; not this site's ns-c\.test, ns-d\.test/],
      [['ns-b.test', 'ns-a.test'], true, /delegated to exactly this site's nameservers/],
    ];
    for (const [found, passed, reason] of cases) {
      dns.ns.set('example.com', found);
      const result = await verify('acc1', site.id);
      assert.equal(result.passed, passed, found.join(','));
      assert.match(result.report.reason, reason);
      assert.deepEqual(
        [result.report.recordType, result.report.recordName, result.report.expected, result.report.found, result.report.resolver],
        ['NS', 'example.com', ['ns-a.test', 'ns-b.test'], [...found].sort(), '192.0.2.53:53'],
      );
    }
    assert.equal((await sites.get('acc1', site.id)).status, 'active');
    const failures = logger.lines.filter((l) => l.msg === 'site verification did not pass');
    assert.equal(failures.length, 4);
    assert.ok(failures.every((l) => l.level === 'info' && l.obj.siteId === site.id));
    assert.deepEqual((failures[1]!.obj.verification as { found: string[] }).found, ['ns-a.test']);
  });

  it('looks for the VerifyCode of a CNAME-mode site at _esaauth.<site>, beside other values', async () => {
    const site = await create('acc1', 'shop.example.com', 'CNAME');
    assert.deepEqual(site.nameServers, [], 'a CNAME-mode site holds no pair');
    assert.deepEqual(picks, [], 'and draws none');
    dns.txt.set('shop.example.com', [site.verifyCode]);
    const bare = await verify('acc1', site.id);
    assert.equal(bare.passed, false);
    assert.equal(bare.report.recordName, '_esaauth.shop.example.com');
    assert.match(bare.report.reason, /no TXT record at _esaauth\.shop\.example\.com$/);
    dns.txt.set('_esaauth.shop.example.com', ['verify_someone_else']);
    assert.match((await verify('acc1', site.id)).report.reason, /holds this site's VerifyCode/);
    assert.equal((await sites.get('acc1', site.id)).status, 'pending');
    dns.txt.set('_esaauth.shop.example.com', ['verify_someone_else', ` ${site.verifyCode} `]);
    assert.equal((await verify('acc1', site.id)).passed, true);
    assert.equal((await sites.get('acc1', site.id)).status, 'active');
  });

  it('moves the active site of another account when a site of the same name becomes active', async () => {
    const a = await create('acc-a', 'example.com');
    const b = await create('acc-b', 'example.com');
    assert.notDeepEqual(a.nameServers, b.nameServers);
    dns.ns.set('example.com', a.nameServers);
    assert.equal((await verify('acc-b', b.id)).passed, false);
    assert.equal((await verify('acc-a', a.id)).passed, true);
    assert.equal(certificatesRenewable(await sites.get('acc-a', a.id)), true);

    dns.ns.set('example.com', b.nameServers);
    const won = await verify('acc-b', b.id);
    assert.equal(won.passed, true);
    assert.equal(won.site.status, 'active');
    const moved = await sites.get('acc-a', a.id);
    assert.equal(moved.status, 'moved');
    assert.equal(certificatesRenewable(moved), false, 'a moved site gets no more certificates');
    assert.deepEqual(logger.lines.at(-1)!.obj.moved, [{ accountId: 'acc-a', id: a.id }]);

    // The owner of the delegation wins the name back the same way.
    dns.ns.set('example.com', a.nameServers);
    assert.equal((await verify('acc-a', a.id)).site.status, 'active');
    assert.equal((await sites.get('acc-b', b.id)).status, 'moved');

    // Each creation and activation was stored with its audit event, and each move with one in the
    // account that lost the name (naming certplane's rule, not the other account); failed checks changed nothing.
    assert.deepEqual(
      store.audit.map((e) => [e.accountId, e.actor, e.action, e.resource]),
      [
        ['acc-a', 'key:test', 'esa:CreateSite', `site/${a.id}`],
        ['acc-b', 'key:test', 'esa:CreateSite', `site/${b.id}`],
        ['acc-a', 'key:test', 'esa:VerifySite', `site/*`],
        ['acc-b', 'key:test', 'esa:VerifySite', `site/*`],
        ['acc-a', 'system:site-verification', 'certplane:MoveSite', `acs:esa:test-region:acc-a:site/${a.id}`],
        ['acc-a', 'key:test', 'esa:VerifySite', `site/*`],
        ['acc-b', 'system:site-verification', 'certplane:MoveSite', `acs:esa:test-region:acc-b:site/${b.id}`],
      ],
    );
  });

  it('draws a free pair at random for each site of a name, and says so when the pool has none left', async () => {
    sites = service((n) => n - 1);
    const pairs = [];
    for (let i = 0; i < 6; i++) pairs.push((await create(`acc${i}`, 'example.com')).nameServers.join(','));
    assert.deepEqual(picks, [6, 5, 4, 3, 2, 1], 'chosen among the pairs still free');
    assert.equal(new Set(pairs).size, 6);
    assert.equal((await create('other', 'example.org')).nameServers.length, 2, 'another name has the whole pool');
    await assert.rejects(create('acc6', 'example.com'), (err: AppError) => {
      assert.equal(err.code, 'site.name_servers_exhausted');
      assert.match(err.message, /all 6 nameserver pairs .* example\.com; .* nameServers/);
      return true;
    });
    assert.equal((await store.sitesOnInstance('acc6', 'inst-acc6')).length, 0);
    // An account that already has the name is told so, even with the pool used up.
    await assert.rejects(create('acc0', 'example.com', 'CNAME'), (err: AppError) => err.code === 'site.name_taken');
  });

  it('draws again when a concurrent creation took the pair first', async () => {
    const original = store.withInstance.bind(store);
    let conflicts = 1;
    store.withInstance = (instanceId, work) =>
      original(instanceId, (tx) =>
        work({
          ...tx,
          insert: async (site, audit) => {
            if (conflicts-- > 0) throw new NameServersInUse('taken meanwhile');
            await tx.insert(site, audit);
          },
        }),
      );
    const site = await create('acc1', 'example.com');
    assert.equal(picks.length, 2);
    assert.deepEqual((await sites.get('acc1', site.id)).nameServers, site.nameServers);
  });

  it('refuses a site over the plan quota and a resolver that cannot answer', async () => {
    for (const name of ['a.com', 'b.com', 'c.com']) await create('acc1', name, 'NS', 'free-1');
    await assert.rejects(create('acc1', 'd.com', 'NS', 'free-1'), (err: AppError) => err.code === 'site.quota_exceeded');
    const site = await create('acc1', 'e.com');
    dns.down = true;
    await assert.rejects(verify('acc1', site.id), (err: AppError) => err.code === 'dependency.unavailable');
    assert.equal((await sites.get('acc1', site.id)).status, 'pending');
  });
});
