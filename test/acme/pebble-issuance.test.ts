/**
 * The ACME adapter (CachedAcmeClients over acme-client) against Debian's pebble validating for real:
 * http-01 fetched from a responder in this test, dns-01 (a wildcard included) read from TXT records
 * in a test BIND that pebble resolves through. Issued chains are checked with openssl against
 * pebble's own root; failures arrive as AcmeProblem with the CA's problem type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CachedAcmeClients } from '../../src/adapters/acme/clients.js';
import type { Authorization, Challenge, Dns01Challenge, Http01Challenge, Order } from '../../src/core/acme/model.js';
import type { AcmeClient } from '../../src/core/acme/ports.js';
import { AcmeProblem } from '../../src/core/acme/problem.js';
import { certificateSpki, csrFor, sanNames, startHttp01Responder, type Http01Responder } from '../support/acme.js';
import { startBind, type BindRecord, type BindServer } from '../support/bind.js';
import { startPebble, type PebbleServer } from '../support/pebble.js';

const ZONE = 'example.test';
const HOSTS: BindRecord[] = ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'A', value: '127.0.0.1' }));

describe('ACME adapter against pebble', () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let responder: Http01Responder;
  let clients: CachedAcmeClients;
  let client: AcmeClient;
  let accountKeyPem: string;
  let accountUrl: string;

  const directory = () => ({ url: pebble.directoryUrl, caBundlePem: pebble.caBundlePem });
  const dns = (...names: string[]) => names.map((value) => ({ type: 'dns' as const, value }));

  before(async () => {
    bind = await startBind();
    await bind.addZone(ZONE, HOSTS);
    responder = await startHttp01Responder(0);
    pebble = await startPebble({ dnsServer: bind.address, httpPort: responder.port });
    clients = new CachedAcmeClients({ poll: { minDelayMs: 20, maxDelayMs: 1000, timeoutMs: 30_000 } });
    const ensured = await clients.ensureAccount({ directory: directory(), termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    client = ensured.client;
    accountKeyPem = ensured.account.keyPem;
    accountUrl = ensured.account.url;
  });

  after(async () => {
    clients?.close();
    await responder?.stop();
    await pebble?.stop();
    await bind?.stop();
  });

  /** Answers every authorization of `order` with `answer`, tells pebble, and waits for each to settle. */
  async function authorize(order: Order, answer: (authz: Authorization) => Promise<Challenge>): Promise<Authorization[]> {
    return Promise.all(
      order.authorizations.map(async (url) => {
        const authz = await client.getAuthorization(url);
        const challenge = await answer(authz);
        await client.respondToChallenge(challenge);
        return client.waitForAuthorization(url);
      }),
    );
  }

  async function http01(authz: Authorization): Promise<Challenge> {
    const challenge = authz.challenges.find((c): c is Http01Challenge => c.type === 'http-01');
    assert.ok(challenge, `pebble offers http-01 for ${authz.identifier.value}`);
    responder.set(challenge.token, challenge.keyAuthorization);
    return challenge;
  }

  /** Finalizes a ready order with a CSR for `names`, downloads the chain and checks it with openssl. */
  async function finalizeAndCheck(order: Order, names: string[], csrForm: 'pem' | 'der'): Promise<void> {
    const csr = csrFor(names);
    const finalized = await client.finalize(order, csrForm === 'pem' ? csr.pem : csr.der);
    assert.ok(['processing', 'valid'].includes(finalized.status), finalized.status);
    const valid = await client.waitForOrder(order.url);
    assert.equal(valid.status, 'valid');
    assert.ok(valid.certificate);
    const chain = await client.downloadCertificate(valid.certificate);
    assert.ok(chain.certificates.length >= 2, 'leaf and intermediate');
    assert.match(await pebble.verifyChain(chain.pem), /: OK/);
    assert.deepEqual(sanNames(chain.certificates[0]!), [...names].sort());
    assert.deepEqual(certificateSpki(chain.certificates[0]!), csr.key.spki, 'the leaf carries the CSR key');
    const { intermediates } = await pebble.roots();
    assert.equal(chain.certificates[1]!.trim(), intermediates[0]!.trim(), 'then the intermediate');
  }

  it('registers an account once for a key: the same key finds the same account', async () => {
    assert.match(accountUrl, /^https:\/\/127\.0\.0\.1:\d+\//);
    const fresh = new CachedAcmeClients();
    try {
      const again = await fresh.ensureAccount({ directory: directory(), keyPem: accountKeyPem, termsOfServiceAgreed: true });
      assert.equal(again.account.url, accountUrl);
      assert.equal(again.account.created, false);
      assert.equal(again.account.status, 'valid');
      const other = await fresh.ensureAccount({ directory: directory(), termsOfServiceAgreed: true });
      assert.equal(other.account.created, true);
      assert.notEqual(other.account.url, accountUrl);
      assert.match(other.account.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    } finally {
      fresh.close();
    }
  });

  it('issues for two names over http-01 answered by the test responder', async () => {
    const order = await client.newOrder({ identifiers: dns('a.example.test', 'b.example.test') });
    assert.equal(order.status, 'pending');
    assert.equal(order.authorizations.length, 2);
    const authzs = await authorize(order, http01);
    assert.deepEqual(authzs.map((a) => a.status), ['valid', 'valid']);
    assert.deepEqual([...new Set(responder.fetchedBy.map((host) => host.replace(/:\d+$/, '')))].sort(), ['a.example.test', 'b.example.test']);
    const ready = await client.waitForOrder(order.url);
    assert.equal(ready.status, 'ready');
    await finalizeAndCheck(ready, ['a.example.test', 'b.example.test'], 'pem');
  });

  it('issues a wildcard and its base name over dns-01 from TXT records in BIND', async () => {
    const order = await client.newOrder({ identifiers: dns('*.shop.example.test', 'shop.example.test') });
    const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    assert.deepEqual(authzs.map((a) => [a.identifier.value, a.wildcard]).sort(), [['shop.example.test', false], ['shop.example.test', true]]);
    const wildcard = authzs.find((a) => a.wildcard)!;
    assert.deepEqual(wildcard.challenges.map((c) => c.type), ['dns-01'], 'a wildcard is proven over DNS only');
    const challenges = authzs.map((a) => a.challenges.find((c): c is Dns01Challenge => c.type === 'dns-01')!);
    assert.deepEqual([...new Set(challenges.map((c) => c.recordName))], ['_acme-challenge.shop.example.test']);
    await bind.setRecords(ZONE, [...HOSTS, ...challenges.map((c): BindRecord => ({ name: c.recordName, type: 'TXT', value: c.txtValue }))]);
    for (const challenge of challenges) await client.respondToChallenge(challenge);
    const settled = await Promise.all(order.authorizations.map((url) => client.waitForAuthorization(url)));
    assert.deepEqual(settled.map((a) => a.status), ['valid', 'valid']);
    const ready = await client.waitForOrder(order.url);
    assert.equal(ready.status, 'ready');
    await finalizeAndCheck(ready, ['*.shop.example.test', 'shop.example.test'], 'der');
  });

  it('a wrong TXT value makes the order invalid, with the CA\'s problem recovered', async () => {
    const order = await client.newOrder({ identifiers: dns('wrong.example.test') });
    const authz = await client.getAuthorization(order.authorizations[0]!);
    const challenge = authz.challenges.find((c): c is Dns01Challenge => c.type === 'dns-01')!;
    await bind.setRecords(ZONE, [...HOSTS, { name: challenge.recordName, type: 'TXT', value: 'not-the-key-authorization-digest' }]);
    await client.respondToChallenge(challenge);
    const failed = await client.waitForAuthorization(authz.url);
    assert.equal(failed.status, 'invalid');
    const problem = failed.challenges.find((c) => c.url === challenge.url)?.error;
    assert.ok(problem instanceof AcmeProblem);
    assert.equal(problem.type, 'urn:ietf:params:acme:error:unauthorized');
    assert.match(problem.detail ?? '', /correct value not found/i);
    const invalid = await client.waitForOrder(order.url);
    assert.equal(invalid.status, 'invalid');
    assert.ok(invalid.error instanceof AcmeProblem, 'the order says why it is invalid');
    assert.equal(invalid.error.acmeError, 'unauthorized');
    assert.equal(invalid.error.status, 403);
    const refused = await client.finalize(invalid, csrFor(['wrong.example.test']).der).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof AcmeProblem, String(refused));
    assert.equal(refused.acmeError, 'orderNotReady');
    assert.equal(refused.status, 403);
  });

  it('resumes an order from its URL with a new client for the same key', async () => {
    const order = await client.newOrder({ identifiers: dns('c.example.test', 'd.example.test') });
    const restarted = new CachedAcmeClients({ poll: { minDelayMs: 20 } });
    try {
      const { client: second, account } = await restarted.ensureAccount({ directory: directory(), keyPem: accountKeyPem, termsOfServiceAgreed: true });
      assert.equal(account.url, accountUrl);
      assert.notEqual(second, client);
      const again = await second.getOrder(order.url);
      assert.equal(again.status, 'pending');
      assert.deepEqual([...again.authorizations].sort(), [...order.authorizations].sort());
      client = second;
      await authorize(again, http01);
      await finalizeAndCheck(await second.waitForOrder(order.url), ['c.example.test', 'd.example.test'], 'pem');
    } finally {
      client = (await clients.ensureAccount({ directory: directory(), keyPem: accountKeyPem, termsOfServiceAgreed: true })).client;
      restarted.close();
    }
  });
});
