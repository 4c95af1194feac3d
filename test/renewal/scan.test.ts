/**
 * The renewal scan over an in-memory store and a CA standing in for the ACME client: a due
 * certificate is renewed at once without ARI, postponed to the CA's next look with ARI when its
 * window is ahead, renewed when the window has come, left a day when its issuer profile is gone;
 * the renewal names what it replaces, keeps the names, the challenge and key type, and its id
 * names the attempt.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { RenewalInfo } from '../../src/core/acme/model.js';
import type { AcmeClient } from '../../src/core/acme/ports.js';
import type { AcmeAccounts } from '../../src/core/issuance/acme-accounts.js';
import type { NewIssuance } from '../../src/core/issuance/model.js';
import type { DueCertificate, RenewalStore } from '../../src/core/renewal/ports.js';
import { RenewalService, renewalIdOf } from '../../src/core/renewal/service.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { issuersFrom } from '../../src/config/issuers.js';

const NOW = new Date('2030-03-01T00:00:00Z');
const DAY = 86_400_000;

class MemoryStore implements RenewalStore {
  due_: DueCertificate[] = [];
  postponed = new Map<string, Date>();
  started: Array<{ issuanceId: string; renewal: NewIssuance }> = [];
  async due(now: Date, limit: number): Promise<DueCertificate[]> {
    return this.due_.filter((d) => d.renewAt <= now && !this.started.some((s) => s.issuanceId === d.issuanceId)).slice(0, limit);
  }
  async postpone(issuanceId: string, at: Date): Promise<void> {
    this.postponed.set(issuanceId, at);
    const due = this.due_.find((d) => d.issuanceId === issuanceId)!;
    due.renewAt = at;
  }
  async startRenewal(issuanceId: string, renewal: NewIssuance): Promise<boolean> {
    this.started.push({ issuanceId, renewal });
    return true;
  }
}

function due(id: string, extra: Partial<DueCertificate> = {}): DueCertificate {
  return {
    issuanceId: id,
    accountId: 'acct',
    profile: 'lets_encrypt',
    identifiers: ['www.example.com', '*.example.com'],
    challengeType: 'dns-01',
    keyType: 'RSA2048',
    acmeAccountId: 'acme-1',
    chainPem: 'PEM',
    notBefore: new Date(NOW.getTime() - 60 * DAY),
    notAfter: new Date(NOW.getTime() + 30 * DAY),
    failures: 0,
    renewAt: new Date(NOW.getTime() - 1000),
    ariCheckAt: undefined,
    ...extra,
  };
}

function scanner(store: RenewalStore, info: RenewalInfo | undefined) {
  const client = { renewalInfo: async () => info } as unknown as AcmeClient;
  const accounts = { byId: async () => client } as unknown as AcmeAccounts;
  const issuers = issuersFrom({}, { directoryUrl: 'https://ca.test/dir', caBundle: undefined }, [], (k) => k);
  return new RenewalService({ store, accounts, issuers, clock: fixedClock(NOW), ids: randomIds, random: () => 0.5, logger: pino({ level: 'silent' }) });
}

describe('renewal scan', () => {
  it('without ARI: a due certificate is renewed at once, as the same names, challenge and key type, replacing the old one', async () => {
    const store = new MemoryStore();
    store.due_.push(due('old-1', { failures: 2 }));
    assert.deepEqual(await scanner(store, undefined).scan(), { started: 1, postponed: 0 });
    assert.deepEqual(store.started, [
      {
        issuanceId: 'old-1',
        renewal: {
          id: renewalIdOf('old-1', 3),
          accountId: 'acct',
          profile: 'lets_encrypt',
          identifiers: ['www.example.com', '*.example.com'],
          challengeType: 'dns-01',
          placement: 'certplane',
          keyType: 'RSA2048',
          replaces: 'old-1',
        },
      },
    ]);
    assert.match(renewalIdOf('old-1', 3), /^[0-9a-f]{32}$/);
    assert.notEqual(renewalIdOf('old-1', 3), renewalIdOf('old-1', 4));
  });

  it('with ARI: a window ahead postpones to the earlier of the chosen time and Retry-After; a window come renews', async () => {
    const ahead = { suggestedWindow: { start: new Date(NOW.getTime() + 2 * DAY), end: new Date(NOW.getTime() + 3 * DAY) }, retryAfterMs: 6 * 3_600_000 };
    const store = new MemoryStore();
    store.due_.push(due('old-2'));
    assert.deepEqual(await scanner(store, ahead).scan(), { started: 0, postponed: 1 });
    assert.deepEqual(store.postponed.get('old-2'), new Date(NOW.getTime() + 6 * 3_600_000));
    assert.deepEqual(store.started, []);

    // The time chosen in the window came before the CA may be asked again: renewed, the CA not asked.
    const kept = new MemoryStore();
    kept.due_.push(due('old-5', { ariCheckAt: new Date(NOW.getTime() + 3_600_000) }));
    let asked = 0;
    const client = { renewalInfo: async () => (asked++, ahead) } as unknown as AcmeClient;
    const issuers = issuersFrom({}, { directoryUrl: 'https://ca.test/dir', caBundle: undefined }, [], (k) => k);
    const service = new RenewalService({ store: kept, accounts: { byId: async () => client } as unknown as AcmeAccounts, issuers, clock: fixedClock(NOW), ids: randomIds, random: () => 0.5, logger: pino({ level: 'silent' }) });
    assert.deepEqual(await service.scan(), { started: 1, postponed: 0 });
    assert.equal(asked, 0);

    const come = { suggestedWindow: { start: new Date(NOW.getTime() - DAY), end: new Date(NOW.getTime() + 1000) } };
    const again = new MemoryStore();
    again.due_.push(due('old-3'));
    assert.deepEqual(await scanner(again, come).scan(), { started: 1, postponed: 0 });
  });

  it('an issuer profile no longer configured: looked at again in a day, nothing ordered', async () => {
    const store = new MemoryStore();
    store.due_.push(due('old-4', { profile: 'gone' }));
    assert.deepEqual(await scanner(store, undefined).scan(), { started: 0, postponed: 1 });
    assert.deepEqual(store.postponed.get('old-4'), new Date(NOW.getTime() + DAY));
  });

  it('only what is due, every batch of it', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 450; i++) store.due_.push(due(`d-${i}`));
    store.due_.push(due('later', { renewAt: new Date(NOW.getTime() + DAY) }));
    // A store that answers at once (as SQLite does): the event loop still gets its turn between batches.
    let startedWhenLoopRan: number | undefined;
    setImmediate(() => (startedWhenLoopRan = store.started.length));
    assert.deepEqual(await scanner(store, undefined).scan(), { started: 450, postponed: 0 });
    assert.equal(store.started.some((s) => s.issuanceId === 'later'), false);
    assert.ok(startedWhenLoopRan !== undefined && startedWhenLoopRan < 450, `the event loop ran only after the whole scan (${startedWhenLoopRan})`);
  });
});
