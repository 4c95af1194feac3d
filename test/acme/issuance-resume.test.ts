/**
 * An issuance whose run is cut short (right after a state was stored, as a kill -9 would leave it)
 * is resumed by the worker from the CA's state: the same order URL, exactly one newOrder (counted
 * by a wrapper around every ACME client of both "processes"), and a valid certificate. A cancel
 * while records are in place ends it `canceled` with the records removed; a cancel while waiting
 * for a user's placement ends its job.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CachedAcmeClients } from '../../src/adapters/acme/clients.js';
import { certificateKeys } from '../../src/adapters/crypto/key-pairs.js';
import { SqlIssuanceStore } from '../../src/adapters/db/issuance-store.js';
import type { AcmeClient, AcmeClients } from '../../src/core/acme/ports.js';
import { AcmeAccounts } from '../../src/core/issuance/acme-accounts.js';
import { IssuanceEngine } from '../../src/core/issuance/engine.js';
import type { IssuanceState } from '../../src/core/issuance/model.js';
import type { IssuanceStore, PlacementChecks } from '../../src/core/issuance/ports.js';
import type { RecordVisibility } from '../../src/core/validation/ports.js';
import { removeDnsRecordJob } from '../../src/jobs/remove-dns-record.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { randomIds } from '../../src/kernel/ids.js';
import { eventually, startIssuanceHarness, type IssuanceHarness } from '../support/issuance.js';

/** Every ACME client it hands out counts its newOrder calls. */
function counting(inner: AcmeClients): { clients: AcmeClients; newOrders: () => number } {
  let newOrders = 0;
  const clients: AcmeClients = {
    ensureAccount: async (request) => {
      const { account, client } = await inner.ensureAccount(request);
      const counted: AcmeClient = Object.create(client) as AcmeClient;
      counted.newOrder = (order) => {
        newOrders += 1;
        return client.newOrder(order);
      };
      return { account, client: counted };
    },
  };
  return { clients, newOrders: () => newOrders };
}

class Crash extends Error {}

/** The store, but the process "dies" right after the issuance was moved into `state`. */
function crashingAfter(store: IssuanceStore, state: IssuanceState): IssuanceStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'advance') {
        return async (...args: Parameters<IssuanceStore['advance']>) => {
          const moved = await target.advance(...args);
          if (moved && args[1] !== args[2] && args[2] === state) throw new Crash(`crashed right after ${state} was stored`);
          return moved;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('ACME issuance resumed after a crash, and canceled, against pebble and BIND', () => {
  let h: IssuanceHarness;
  const appAcme = new CachedAcmeClients();
  const count = counting(appAcme);
  const crashAcme = new CachedAcmeClients();
  const crashCount = counting(crashAcme);
  const neverPlaced: PlacementChecks = { txtVisible: async () => false, httpServes: async () => false };

  before(async () => {
    h = await startIssuanceHarness({ acme: count.clients, worker: false });
  });
  after(async () => {
    await h?.stop();
    appAcme.close();
    crashAcme.close();
  });

  /** An engine of another "process": its own ACME clients, over the same database. */
  function engineOver(store: IssuanceStore, visibility?: RecordVisibility): IssuanceEngine {
    const { app } = h;
    return new IssuanceEngine({
      store,
      accounts: new AcmeAccounts({
        store,
        acme: crashCount.clients,
        sealer: app.sealer,
        clock: app.clock,
        ids: randomIds,
        newAccountKey: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      }),
      issuers: app.config.issuers,
      dns01: app.dns01,
      visibility: visibility ?? app.recordVisibility,
      placement: neverPlaced,
      keys: certificateKeys,
      sealer: app.sealer,
      clock: app.clock,
      ids: randomIds,
      removalJob: removeDnsRecordJob,
      logger: silentLogger,
      timing: { recheckMs: 100 },
    });
  }

  const store = () => new SqlIssuanceStore(h.app.database.db, randomIds);

  for (const [state, challengeType, names] of [
    ['ordered', 'http-01', ['a.example.test', 'b.example.test']],
    ['validating', 'dns-01', ['*.www.example.test', 'www.example.test']],
  ] as const) {
    it(`a run cut short right after ${state} was stored (${challengeType}) is finished by the worker: one order, the same URL`, async () => {
      const before = { mine: count.newOrders(), crashed: crashCount.newOrders() };
      const id = await h.issue([...names], { challengeType });
      await assert.rejects(engineOver(crashingAfter(store(), state)).run(id), Crash);
      const cut = (await h.app.issuances.get(id))!;
      assert.equal(cut.state, state);
      assert.ok(cut.orderUrl);
      h.startWorker();
      try {
        const issuance = await h.finished(id);
        assert.equal(issuance.state, 'valid', `${issuance.errorCode}: ${issuance.errorDetail}`);
        assert.equal(issuance.orderUrl, cut.orderUrl, 'the order the cut run made');
        assert.match(await h.pebble.verifyChain(issuance.issued!.chainPem), /: OK/);
      } finally {
        await h.stopWorker();
      }
      assert.equal(crashCount.newOrders() - before.crashed, 1, 'the cut run ordered once');
      assert.equal(count.newOrders() - before.mine, 0, 'the worker ordered nothing');
    });
  }

  it('a cancel while the dns-01 records are in place: canceled, nothing issued, the records removed', async () => {
    const id = await h.issue(['c.example.test', 'd.example.test'], { challengeType: 'dns-01' });
    // The owner withdraws the issuance while the run waits for its records to show.
    const visibility: RecordVisibility = {
      waitFor: async (name, value, deadline, options) => {
        await h.app.issuances.cancel(id);
        return h.app.recordVisibility.waitFor(name, value, deadline, options);
      },
    };
    assert.equal(await engineOver(store(), visibility).run(id), undefined, 'the run stops: nothing more to do');
    const issuance = (await h.app.issuances.get(id))!;
    assert.equal(issuance.state, 'canceled');
    assert.ok(issuance.finishedAt);
    assert.equal(issuance.issued, undefined);
    assert.equal(issuance.authorizations.filter((a) => a.dnsHandle !== undefined).length, 2);
    assert.ok(issuance.authorizations.every((a) => !a.answered), 'no challenge was answered');
    const removals = await h.app.database.db.selectFrom('jobs').select(['state', 'idempotency_key']).where('name', '=', 'dns01.remove-record').where('idempotency_key', 'like', `dns01.remove:${id}:%`).execute();
    assert.equal(removals.length, 2, 'one removal job per record');
    h.startWorker();
    try {
      await eventually(async () => {
        const jobs = await h.app.database.db.selectFrom('jobs').select('state').where('idempotency_key', 'like', `dns01.remove:${id}:%`).execute();
        return jobs.every((job) => job.state === 'done');
      }, 'the records removed');
      const job = await h.app.database.db.selectFrom('jobs').select('state').where('idempotency_key', '=', `acme.issue:${id}`).executeTakeFirstOrThrow();
      await eventually(async () => (await h.app.database.db.selectFrom('jobs').select('state').where('idempotency_key', '=', `acme.issue:${id}`).executeTakeFirstOrThrow()).state === 'done', `the issue job ends (was ${job.state})`);
    } finally {
      await h.stopWorker();
    }
    assert.equal((await h.app.issuances.get(id))!.state, 'canceled');
  });

  it('a cancel while waiting for a user to place the proof ends the issuance and its job', async () => {
    const id = await h.issue(['e.example.test'], { challengeType: 'dns-01', placement: 'user' });
    const waiting = await engineOver(store()).run(id);
    assert.ok(waiting?.continueAt, 'not placed: the run comes back later');
    const shown = (await h.app.issuances.get(id))!;
    assert.equal(shown.state, 'ordered');
    assert.equal(shown.authorizations[0]!.recordName, '_acme-challenge.e.example.test', 'what the user must place is on record');
    assert.ok(shown.authorizations[0]!.txtValue);
    const canceled = await h.app.issuances.cancel(id);
    assert.equal(canceled?.state, 'canceled');
    assert.equal((await h.app.issuances.cancel(id))?.state, 'canceled', 'canceling again changes nothing');
    assert.equal(await engineOver(store()).run(id), undefined);
    assert.equal((await h.app.issuances.get(id))!.orderUrl, shown.orderUrl);
  });
});
