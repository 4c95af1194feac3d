/**
 * The ACME adapter against a scripted fake CA (test/support/fake-acme.ts): what goes on the wire
 * (nonces reused from replies, badNonce retried, profile/replaces sent only when given), how long it
 * waits between polls (the CA's Retry-After, clamped), and what a failure looks like to the caller
 * (AcmeProblem with the whole problem document, AcmeUnavailable when there is none).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CachedAcmeClients } from '../../src/adapters/acme/clients.js';
import type { PollTimer } from '../../src/adapters/acme/polling.js';
import type { AcmeClient } from '../../src/core/acme/ports.js';
import { AcmeProblem, AcmeUnavailable } from '../../src/core/acme/problem.js';
import { csrFor } from '../support/acme.js';
import { orderBody, startFakeAcme, type FakeAcme } from '../support/fake-acme.js';

function testKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A timer whose sleeps pass at once, recording each wait and moving its clock on by it. */
function fakeTimer(): PollTimer & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return { waits, now: () => now, sleep: async (ms) => void (waits.push(ms), (now += ms)) };
}

describe('ACME adapter on the wire (fake CA)', () => {
  let ca: FakeAcme;
  let clients: CachedAcmeClients;
  let timer: ReturnType<typeof fakeTimer>;
  let client: AcmeClient;

  before(async () => {
    ca = await startFakeAcme();
  });
  after(() => ca?.stop());

  beforeEach(async () => {
    ca.reset();
    timer = fakeTimer();
    clients = new CachedAcmeClients({ timer, poll: { minDelayMs: 100, maxDelayMs: 2000, timeoutMs: 60_000 } });
    ({ client } = await clients.ensureAccount({ directory: { url: ca.directoryUrl }, termsOfServiceAgreed: true }));
    ca.reset();
  });
  afterEach(() => clients.close());

  const order = () => `${ca.baseUrl}/order/1`;
  const posts = () => ca.requests.filter((r) => r.method === 'POST');

  it('signs each request with the nonce an earlier reply carried: no newNonce request at all', async () => {
    for (let i = 0; i < 10; i++) await client.getOrder(order());
    assert.equal(ca.requests.filter((r) => r.method === 'HEAD').length, 0, 'the registration reply left a nonce');
    assert.equal(posts().length, 10);
    const nonces = posts().map((r) => r.protected?.nonce);
    assert.equal(new Set(nonces).size, 10, 'no nonce used twice');
    assert.deepEqual(posts().map((r) => r.protected?.kid), Array(10).fill(`${ca.baseUrl}/account/1`));
  });

  it('really waits the Retry-After: polls reach the CA a second apart', async () => {
    const real = new CachedAcmeClients({ poll: { minDelayMs: 10, maxDelayMs: 5000 } });
    try {
      const { client: other } = await real.ensureAccount({ directory: { url: ca.directoryUrl }, termsOfServiceAgreed: true });
      ca.reset();
      ca.script('/order/1', [
        { status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '1' } },
        { status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '1' } },
        { status: 200, body: orderBody(ca.baseUrl, 'valid', { certificate: `${ca.baseUrl}/cert/1` }) },
      ]);
      assert.equal((await other.waitForOrder(order())).status, 'valid');
      const polls = posts().map((r) => r.at);
      assert.equal(polls.length, 3);
      const gaps = polls.slice(1).map((at, i) => at - polls[i]!);
      // Generous bounds: never sooner than asked (timers do not fire early), and nowhere near acme-client's 5 s.
      for (const gap of gaps) assert.ok(gap >= 990 && gap < 4000, `polls ${Math.round(gap)} ms apart`);
    } finally {
      real.close();
    }
  });

  it('retries a badNonce with the nonce the rejection carried, unseen by the caller', async () => {
    ca.rejectNonces(3);
    const read = await client.getOrder(order());
    assert.equal(read.status, 'pending');
    assert.equal(posts().length, 4);
    assert.equal(ca.requests.filter((r) => r.method === 'HEAD').length, 0);
  });

  it('keeps one client per account key: concurrent and later calls share it, and it registers once', async () => {
    const shared = new CachedAcmeClients({ timer });
    try {
      const keyPem = testKeyPem();
      const ensure = () => shared.ensureAccount({ directory: { url: ca.directoryUrl }, keyPem, termsOfServiceAgreed: true });
      const first = await Promise.all([ensure(), ensure(), ensure()]);
      const later = await ensure();
      assert.equal(new Set([...first, later].map((e) => e.client)).size, 1);
      assert.equal(ca.requests.filter((r) => r.path === '/new-account').length, 1);
      assert.deepEqual(first.map((e) => e.account.created).sort(), [false, false, true]);
      assert.equal(later.account.created, false);
    } finally {
      shared.close();
    }
  });

  it('makes no request for an account whose URL the caller stored', async () => {
    const restarted = new CachedAcmeClients({ timer });
    try {
      const { account, client: resumed } = await restarted.ensureAccount({ directory: { url: ca.directoryUrl }, keyPem: testKeyPem(), url: `${ca.baseUrl}/account/7`, termsOfServiceAgreed: true });
      assert.deepEqual([account.url, account.created, resumed.accountUrl], [`${ca.baseUrl}/account/7`, false, `${ca.baseUrl}/account/7`]);
      assert.equal(ca.requests.length, 0);
      await resumed.getOrder(order());
      assert.equal(posts()[0]?.protected?.kid, `${ca.baseUrl}/account/7`);
    } finally {
      restarted.close();
    }
  });

  it('finalizes with the CSR as DER, whether it came as DER, PEM text or PEM bytes', async () => {
    const csr = csrFor(['a.example.test']);
    const target = { url: order(), finalize: `${ca.baseUrl}/finalize/1` };
    for (const form of [csr.der, csr.pem, Buffer.from(csr.pem)]) assert.equal((await client.finalize(target, form)).status, 'processing');
    assert.deepEqual(posts().map((r) => r.payload), Array(3).fill({ csr: csr.der.toString('base64url') }));
    await assert.rejects(client.finalize(target, 'not a CSR'), TypeError);
  });

  it('sends profile and replaces in newOrder only when given', async () => {
    await client.newOrder({ identifiers: [{ type: 'dns', value: 'a.example.test' }], profile: 'shortlived', replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' });
    await client.newOrder({ identifiers: [{ type: 'dns', value: '*.example.test' }] });
    const [first, second] = posts().map((r) => r.payload);
    assert.deepEqual(first, { identifiers: [{ type: 'dns', value: 'a.example.test' }], profile: 'shortlived', replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE' });
    assert.deepEqual(second, { identifiers: [{ type: 'dns', value: '*.example.test' }] });
  });

  it('waits as long as Retry-After says between polls, within the configured bounds', async () => {
    ca.script('/order/1', [
      { status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '1' } },
      { status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '30' } },
      { status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '0' } },
      { status: 200, body: orderBody(ca.baseUrl, 'valid', { certificate: `${ca.baseUrl}/cert/1` }) },
    ]);
    const valid = await client.waitForOrder(order());
    assert.equal(valid.status, 'valid');
    assert.deepEqual(timer.waits, [1000, 2000, 100], '1 s as asked, 30 s cut to the maximum, 0 raised to the minimum');
  });

  it('without Retry-After, waits the minimum and doubles up to the maximum', async () => {
    ca.script('/order/1', [...Array(7).fill({ status: 200, body: orderBody(ca.baseUrl, 'pending') }), { status: 200, body: orderBody(ca.baseUrl, 'ready') }]);
    const ready = await client.waitForOrder(order());
    assert.equal(ready.status, 'ready');
    assert.deepEqual(timer.waits, [100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('gives the order back still pending when the next wait would pass timeoutMs', async () => {
    ca.script('/order/1', [{ status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': '2' } }]);
    const still = await client.waitForOrder(order(), { timeoutMs: 5000 });
    assert.equal(still.status, 'processing');
    assert.equal(still.retryAfterMs, 2000);
    assert.deepEqual(timer.waits, [2000, 2000]);
  });

  it('reads an HTTP-date Retry-After as the time left until then', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    ca.script('/order/1', [{ status: 200, body: orderBody(ca.baseUrl, 'processing'), headers: { 'retry-after': at } }]);
    const read = await client.getOrder(order());
    assert.ok(read.retryAfterMs! > 55_000 && read.retryAfterMs! <= 60_000, String(read.retryAfterMs));
  });

  it('turns a problem document into an AcmeProblem with its subproblems, status and identifiers', async () => {
    ca.script('/new-order', [{
      status: 400,
      body: {
        type: 'urn:ietf:params:acme:error:rejectedIdentifier',
        detail: 'Error creating new order :: 2 identifiers rejected',
        subproblems: [
          { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'forbidden name', identifier: { type: 'dns', value: 'bad.example' } },
          { type: 'urn:ietf:params:acme:error:caa', detail: 'CAA forbids issuance', identifier: { type: 'dns', value: 'caa.example' }, status: 403 },
        ],
      },
    }]);
    const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'bad.example' }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AcmeProblem, String(err));
    assert.equal(err.acmeError, 'rejectedIdentifier');
    assert.equal(err.status, 400);
    assert.equal(err.detail, 'Error creating new order :: 2 identifiers rejected');
    assert.deepEqual(err.subproblems.map((p) => [p.acmeError, p.identifier?.value, p.status]), [['rejectedIdentifier', 'bad.example', undefined], ['caa', 'caa.example', 403]]);
    assert.deepEqual(err.toDocument().subproblems?.[1], { type: 'urn:ietf:params:acme:error:caa', detail: 'CAA forbids issuance', identifier: { type: 'dns', value: 'caa.example' }, status: 403 });
  });

  it('hands a rate limit back at once with its Retry-After instead of sleeping on it', async () => {
    ca.script('/new-order', [{ status: 429, body: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates' }, headers: { 'retry-after': '3600' } }]);
    const err = await client.newOrder({ identifiers: [{ type: 'dns', value: 'a.example.test' }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AcmeProblem);
    assert.equal(err.acmeError, 'rateLimited');
    assert.equal(err.retryAfterMs, 3_600_000);
    assert.equal(posts().length, 1, 'asked once');
  });

  it('calls a reply without a problem document AcmeUnavailable, with the CA\'s Retry-After', async () => {
    ca.script('/order/1', [{ status: 503, headers: { 'retry-after': '120' } }]);
    const err = await client.getOrder(order()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AcmeUnavailable, String(err));
    assert.equal(err.retryAfterMs, 120_000);
  });

  it('calls a malformed order AcmeUnavailable rather than returning half of it', async () => {
    ca.script('/order/1', [{ status: 200, body: { status: 'valid' } }]);
    await assert.rejects(client.getOrder(order()), (err: unknown) => err instanceof AcmeUnavailable && /malformed order/.test(err.message));
  });

  it('calls a CA that cannot be reached AcmeUnavailable', async () => {
    const nowhere = new CachedAcmeClients();
    try {
      const err = await nowhere.ensureAccount({ directory: { url: 'http://127.0.0.1:1/dir' }, termsOfServiceAgreed: true }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof AcmeUnavailable, String(err));
      assert.match(err.message, /ECONNREFUSED/);
    } finally {
      nowhere.close();
    }
  });
});
