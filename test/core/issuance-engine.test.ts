/**
 * The issuance engine without a network: a scripted CA behind the ACME port and scripted placement
 * checks, over the real store on SQLite, under a fixed clock. A user's proof is checked before any
 * challenge is answered and looked for again later while missing; the CA's patience (rate limits,
 * outages) becomes a retry at its Retry-After; what cannot succeed ends `invalid` with a clear code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { insertIssuanceWith } from '../../src/adapters/db/issuance-rows.js';
import type { Authorization, Challenge, NewOrder, Order } from '../../src/core/acme/model.js';
import type { AccountRequest, AcmeClient, AcmeClients } from '../../src/core/acme/ports.js';
import { AcmeProblem, AcmeUnavailable } from '../../src/core/acme/problem.js';
import type { NewIssuance } from '../../src/core/issuance/model.js';
import { phaseOf } from '../../src/core/orders/model.js';
import type { PlacementChecks } from '../../src/core/issuance/ports.js';
import { PermanentJobFailure, RetryAfter } from '../../src/core/jobs/ports.js';
import { issueCertificate } from '../../src/jobs/issue-certificate.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { compose, type App } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { testConfig } from '../support/service.js';
import { makeCa, makeLeaf } from '../support/openssl.js';
import { ariCertId } from '../../src/pki/index.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');

/** A CA that orders, hands out authorizations with both challenge types, and records which challenges were answered. */
class ScriptedCa implements AcmeClients, AcmeClient {
  readonly accountUrl = 'https://ca.test/acct/1';
  newOrders = 0;
  answered: string[] = [];
  /** Thrown by the next newOrder. */
  refuseNextOrder: Error | undefined;
  /** Lists an order's authorizations last name first (a CA may list them in any order). */
  listReversed = false;
  private readonly orders = new Map<string, Order>();

  /** Whether the directory offers renewalInfo (RFC 9773). */
  ari = false;
  /** `replaces` of each newOrder. */
  replaces: Array<string | undefined> = [];

  async offersRenewalInfo(): Promise<boolean> {
    return this.ari;
  }

  async renewalInfo(): Promise<undefined> {
    return undefined;
  }

  async ensureAccount(request: AccountRequest) {
    return { account: { url: this.accountUrl, keyPem: request.keyPem ?? '', status: 'valid' as const, created: request.url === undefined }, client: this };
  }

  async newOrder(request: NewOrder): Promise<Order> {
    const refusal = this.refuseNextOrder;
    this.refuseNextOrder = undefined;
    this.replaces.push(request.replaces);
    if (refusal) throw refusal;
    this.newOrders += 1;
    const url = `https://ca.test/order/${this.newOrders}`;
    const order: Order = {
      url,
      status: 'pending',
      identifiers: request.identifiers,
      authorizations: (this.listReversed ? [...request.identifiers].reverse() : request.identifiers).map((i) => `https://ca.test/authz/${this.newOrders}/${i.value}`),
      finalize: `${url}/finalize`,
    };
    this.orders.set(url, order);
    return order;
  }

  async getOrder(url: string): Promise<Order> {
    return this.orders.get(url)!;
  }

  async getAuthorization(url: string): Promise<Authorization> {
    const name = url.slice(url.lastIndexOf('/') + 1);
    const state = (challenge: string) => (this.answered.includes(challenge) ? 'processing' : 'pending');
    const challenges: Challenge[] = [
      { type: 'http-01', url: `${url}/http`, status: state(`${url}/http`), token: `tok-${name}`, path: `/.well-known/acme-challenge/tok-${name}`, keyAuthorization: `tok-${name}.thumb` },
      { type: 'dns-01', url: `${url}/dns`, status: state(`${url}/dns`), token: `dtok-${name}`, recordName: `_acme-challenge.${name}`, txtValue: `txt-${name}` },
    ];
    return { url, status: 'pending', identifier: { type: 'dns', value: name }, wildcard: false, challenges };
  }

  async respondToChallenge(challenge: Challenge): Promise<Challenge> {
    this.answered.push(challenge.url);
    return { ...challenge, status: 'processing' };
  }

  async waitForAuthorization(url: string): Promise<Authorization> {
    return { ...(await this.getAuthorization(url)), retryAfterMs: 3000 };
  }

  waitForOrder(url: string): Promise<Order> {
    return this.getOrder(url);
  }

  finalize(): Promise<Order> {
    throw new Error('not scripted');
  }

  downloadCertificate(): never {
    throw new Error('not scripted');
  }
}

describe('issuance engine with a scripted CA', () => {
  let testDb: TestDatabase;
  let app: App;
  const clock = fixedClock(T0);
  const ca = new ScriptedCa();
  const placed = new Set<string>();
  const asked: string[] = [];
  const placement: PlacementChecks = {
    txtVisible: async (name, value) => {
      asked.push(`TXT ${name} ${value}`);
      return placed.has(`${name} ${value}`);
    },
    httpServes: async (domain, token, keyAuthorization) => {
      asked.push(`GET http://${domain}/.well-known/acme-challenge/${token}`);
      return placed.has(`${domain} ${token} ${keyAuthorization}`);
    },
  };

  before(async () => {
    testDb = await createTestDatabase('sqlite');
    const base = testConfig(testDb);
    const config = { ...base, dns01: undefined, issuers: { ...base.issuers, lets_encrypt: { ...base.issuers.lets_encrypt!, directoryUrl: 'https://ca.test/dir' } } };
    app = await compose(config, { logger: pino({ level: 'silent' }), clock, acme: ca, placement, issuanceTiming: { userCheckMs: 30_000, pollInRunMs: 0 } });
  });
  after(async () => {
    await app?.close();
    await testDb?.drop();
  });

  async function issue(identifiers: string[], extra: Partial<NewIssuance> = {}): Promise<string> {
    const account = await app.accounts.createAccount(`t-${randomBytes(3).toString('hex')}`);
    const id = randomBytes(16).toString('hex');
    const request = { id, accountId: account.id, profile: 'lets_encrypt', identifiers, challengeType: 'http-01' as const, placement: 'user' as const, ...extra };
    await insertIssuanceWith(app.database.db, request, clock.now(), randomBytes(16).toString('hex'));
    return id;
  }

  it('user placement, http-01: nothing answered while the file is missing, the run comes back later; answered once it is served', async () => {
    clock.set(T0);
    const id = await issue(['www.example.com']);
    const first = await app.issuanceEngine.run(id);
    assert.deepEqual(first, { continueAt: new Date(T0.getTime() + 30_000) });
    let issuance = (await app.issuances.get(id))!;
    assert.equal(issuance.state, 'ordered');
    const [authz] = issuance.authorizations;
    assert.deepEqual([authz!.domain, authz!.path, authz!.keyAuthorization, authz!.answered], ['www.example.com', '/.well-known/acme-challenge/tok-www.example.com', 'tok-www.example.com.thumb', false]);
    assert.deepEqual(asked, ['GET http://www.example.com/.well-known/acme-challenge/tok-www.example.com']);
    assert.deepEqual(ca.answered, []);

    placed.add('www.example.com tok-www.example.com tok-www.example.com.thumb');
    clock.set(new Date(T0.getTime() + 30_000));
    const second = await app.issuanceEngine.run(id);
    assert.deepEqual(ca.answered, [`${authz!.url}/http`]);
    issuance = (await app.issuances.get(id))!;
    assert.equal(issuance.state, 'validating');
    assert.equal(issuance.authorizations[0]!.answered, true);
    assert.deepEqual(second, { continueAt: new Date(T0.getTime() + 33_000) }, 'the CA still validates: back at its Retry-After');
    assert.equal(ca.newOrders, 1);
  });

  it('user placement, dns-01: each TXT record checked; one missing holds back every answer', async () => {
    clock.set(T0);
    asked.length = 0;
    ca.answered = [];
    const id = await issue(['a.example.com', 'b.example.com'], { challengeType: 'dns-01' });
    placed.add('_acme-challenge.a.example.com txt-a.example.com');
    assert.ok((await app.issuanceEngine.run(id))?.continueAt);
    assert.deepEqual(asked.sort(), ['TXT _acme-challenge.a.example.com txt-a.example.com', 'TXT _acme-challenge.b.example.com txt-b.example.com']);
    assert.deepEqual(ca.answered, []);
    const issuance = (await app.issuances.get(id))!;
    const shown = issuance.authorizations.map((a) => [a.recordName, a.txtValue, a.seen]);
    assert.deepEqual(shown, [['_acme-challenge.a.example.com', 'txt-a.example.com', true], ['_acme-challenge.b.example.com', 'txt-b.example.com', false]], 'what was seen is noted');
    const phase = phaseOf(issuance);
    assert.ok(phase.phase === 'awaiting_validation' && phase.proof.kind === 'dns');
    assert.equal(phase.proof.recordName, '_acme-challenge.b.example.com', 'the owner is shown the name still missing');
    placed.add('_acme-challenge.b.example.com txt-b.example.com');
    await app.issuanceEngine.run(id);
    assert.equal(ca.answered.length, 2);
    assert.equal((await app.issuances.get(id))!.state, 'validating');
  });

  it('user placement: a record seen once and then removed is shown again; the names keep the order they were asked in', async () => {
    clock.set(T0);
    asked.length = 0;
    ca.answered = [];
    ca.listReversed = true;
    const id = await issue(['z.example.com', 'y.example.com'], { challengeType: 'dns-01' });
    placed.add('_acme-challenge.z.example.com txt-z.example.com');
    await app.issuanceEngine.run(id);
    let issuance = (await app.issuances.get(id))!;
    assert.deepEqual(issuance.authorizations.map((a) => [a.domain, a.seen]), [['z.example.com', true], ['y.example.com', false]]);
    placed.delete('_acme-challenge.z.example.com txt-z.example.com');
    await app.issuanceEngine.run(id);
    issuance = (await app.issuances.get(id))!;
    assert.deepEqual(issuance.authorizations.map((a) => [a.domain, a.seen]), [['z.example.com', false], ['y.example.com', false]]);
    const phase = phaseOf(issuance);
    assert.ok(phase.phase === 'awaiting_validation' && phase.proof.kind === 'dns' && phase.proof.recordName === '_acme-challenge.z.example.com');
    assert.deepEqual(ca.answered, []);
    ca.listReversed = false;
  });

  it('dns-01 placed by certplane without a dns01 provider: invalid, saying what to configure', async () => {
    const id = await issue(['c.example.com'], { challengeType: 'dns-01', placement: 'certplane' });
    assert.equal(await app.issuanceEngine.run(id), undefined);
    const issuance = (await app.issuances.get(id))!;
    assert.deepEqual([issuance.state, issuance.errorCode], ['invalid', 'dns01NotConfigured']);
    assert.match(issuance.errorDetail!, /set dns01/);
    assert.ok(issuance.finishedAt);
  });

  it('an issuer profile without a directory: invalid, naming the setting', async () => {
    const id = await issue(['d.example.com'], { profile: 'digicert_single' });
    await app.issuanceEngine.run(id);
    const issuance = (await app.issuances.get(id))!;
    assert.deepEqual([issuance.state, issuance.errorCode], ['invalid', 'issuerNotConfigured']);
    assert.match(issuance.errorDetail!, /issuers\.digicert_single\.directoryUrl/);
  });

  it('rate limited: retried at the CA\'s Retry-After, nothing stored', async () => {
    clock.set(T0);
    const id = await issue(['e.example.com']);
    ca.refuseNextOrder = new AcmeProblem({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many orders', status: 429 }, { retryAfterMs: 3_600_000 });
    const refused = await app.issuanceEngine.run(id).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof RetryAfter, String(refused));
    assert.equal(refused.at.getTime(), T0.getTime() + 3_600_000);
    assert.equal((await app.issuances.get(id))!.state, 'queued');
  });

  it('the CA refusing the names: invalid with the problem type\'s last part and its detail, subproblems included', async () => {
    const id = await issue(['f.example.com', 'g.example.com']);
    ca.refuseNextOrder = new AcmeProblem({
      type: 'urn:ietf:params:acme:error:rejectedIdentifier',
      detail: 'Error creating new order',
      status: 400,
      subproblems: [{ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'forbidden name', identifier: { type: 'dns', value: 'g.example.com' } }],
    });
    await app.issuanceEngine.run(id);
    const issuance = (await app.issuances.get(id))!;
    assert.deepEqual([issuance.state, issuance.errorCode], ['invalid', 'rejectedIdentifier']);
    assert.equal(issuance.errorDetail, 'Error creating new order (g.example.com: rejectedIdentifier: forbidden name)');
  });

  it('the CA unreachable on the job\'s last attempt: the issuance ends invalid (caUnavailable) and the job fails for good', async () => {
    const id = await issue(['h.example.com']);
    const handler = issueCertificate(app.issuanceEngine);
    const context = (attempt: number) => ({ jobId: 'j', attempt, maxAttempts: 3, signal: new AbortController().signal, logger: app.logger });
    ca.refuseNextOrder = new AcmeUnavailable('connect ECONNREFUSED 192.0.2.1:443');
    await assert.rejects(handler.run({ issuanceId: id }, context(2)), AcmeUnavailable);
    assert.equal((await app.issuances.get(id))!.state, 'queued', 'not the last attempt: left to the retry');
    ca.refuseNextOrder = new AcmeUnavailable('connect ECONNREFUSED 192.0.2.1:443');
    await assert.rejects(handler.run({ issuanceId: id }, context(3)), PermanentJobFailure);
    const issuance = (await app.issuances.get(id))!;
    assert.deepEqual([issuance.state, issuance.errorCode, issuance.errorDetail], ['invalid', 'caUnavailable', 'connect ECONNREFUSED 192.0.2.1:443']);
    assert.throws(() => handler.parse({}), /issuanceId/);
  });

  it('a renewal’s order names the certificate it replaces by its ARI id, only to a CA that offers ARI', async () => {
    clock.set(T0);
    const ca0 = makeCa({ alg: 'p256' });
    const leaf = makeLeaf({ issuer: ca0, alg: 'p256', cn: 'renew.example.com' });
    const old = await issue(['renew.example.com']);
    await app.database.db.updateTable('acme_issuances').set({ state: 'valid', chain_pem: leaf.certPem + ca0.certPem, not_before: T0.toISOString(), not_after: T0.toISOString() }).where('id', '=', old).execute();
    for (const ari of [true, false]) {
      ca.ari = ari;
      const renewal = await issue(['renew.example.com'], { replaces: old });
      await app.issuanceEngine.run(renewal);
      assert.equal(ca.replaces.at(-1), ari ? ariCertId(leaf.certPem) : undefined);
    }
    // A CA that says the certificate was replaced already: the renewal is ordered without `replaces`.
    ca.ari = true;
    ca.refuseNextOrder = new AcmeProblem({ type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: 'replaced by another order', status: 409 });
    const again = await issue(['renew.example.com'], { replaces: old });
    await app.issuanceEngine.run(again);
    assert.deepEqual(ca.replaces.slice(-2), [ariCertId(leaf.certPem), undefined], 'refused with replaces, then ordered without');
    assert.equal((await app.issuances.get(again))!.state, 'ordered');
    ca.ari = false;
  });
});
