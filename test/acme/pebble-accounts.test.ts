/**
 * Accounts and the transport against Debian's pebble requiring external account binding: EAB
 * registration (and pebble's refusals without it or with a wrong MAC key, as AcmeProblems), trust
 * limited to the directory's CA bundle, and pebble's 5% badNonce rejection absorbed over hundreds
 * of requests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AcmeRequestEvent } from '../../src/adapters/acme/transport.js';
import { CachedAcmeClients } from '../../src/adapters/acme/clients.js';
import type { AcmeDirectory } from '../../src/core/acme/model.js';
import { AcmeProblem, AcmeUnavailable } from '../../src/core/acme/problem.js';
import { startPebble, type PebbleServer } from '../support/pebble.js';

const KEY_ID = 'kid-certplane';
const HMAC_KEY = randomBytes(32).toString('base64url');

describe('ACME accounts against pebble with EAB required', () => {
  let pebble: PebbleServer;
  let directory: AcmeDirectory;
  const events: AcmeRequestEvent[] = [];
  let clients: CachedAcmeClients;

  before(async () => {
    pebble = await startPebble({ externalAccountMacKeys: { [KEY_ID]: HMAC_KEY } });
    directory = { url: pebble.directoryUrl, caBundlePem: pebble.caBundlePem };
    clients = new CachedAcmeClients({ onRequest: (event) => events.push(event) });
  });

  after(async () => {
    clients?.close();
    await pebble?.stop();
  });

  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err);

  it('registers with the key id and MAC key the CA gave', async () => {
    const { account } = await clients.ensureAccount({ directory, termsOfServiceAgreed: true, externalAccountBinding: { keyId: KEY_ID, hmacKey: HMAC_KEY } });
    assert.equal(account.created, true);
    assert.equal(account.status, 'valid');
  });

  it('is refused without EAB, with externalAccountRequired', async () => {
    const err = await failure(clients.ensureAccount({ directory, termsOfServiceAgreed: true }));
    assert.ok(err instanceof AcmeProblem, String(err));
    assert.equal(err.acmeError, 'externalAccountRequired');
  });

  it('is refused with a wrong MAC key', async () => {
    const err = await failure(clients.ensureAccount({ directory, termsOfServiceAgreed: true, externalAccountBinding: { keyId: KEY_ID, hmacKey: randomBytes(32).toString('base64url') } }));
    assert.ok(err instanceof AcmeProblem, String(err));
    assert.equal(err.type, 'urn:ietf:params:acme:error:unauthorized');
    assert.equal(err.status, 403);
    assert.match(err.detail ?? '', /external account binding/);
  });

  it('trusts only the directory\'s CA bundle: without it the TLS handshake fails', async () => {
    const untrusting = new CachedAcmeClients();
    try {
      const err = await failure(untrusting.ensureAccount({ directory: { url: pebble.directoryUrl }, termsOfServiceAgreed: true }));
      assert.ok(err instanceof AcmeUnavailable, String(err));
      assert.match(err.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/);
    } finally {
      untrusting.close();
    }
  });

  it('absorbs pebble\'s badNonce rejections: 300 requests, none fails, a few retried', async () => {
    const { client } = await clients.ensureAccount({ directory, termsOfServiceAgreed: true, externalAccountBinding: { keyId: KEY_ID, hmacKey: HMAC_KEY } });
    // Ten lanes at once, each reading its own order: Debian's pebble deadlocks now and then when
    // one order is read by several requests at once (a read lock taken twice in one request while
    // another request waits for the write lock, seen in its goroutine dump), which a CA under test
    // should not be made to do.
    const orders = await Promise.all(
      Array.from({ length: 10 }, (_, lane) => client.newOrder({ identifiers: [{ type: 'dns', value: `nonce${lane}.example.test` }] })),
    );
    events.length = 0;
    for (let round = 0; round < 30; round++) {
      await Promise.all(orders.map((order) => client.getOrder(order.url)));
    }
    const posts = events.filter((e) => e.method === 'POST');
    const rejected = posts.filter((e) => e.status === 400).length;
    // 5% of ≥ 300 nonces: the chance that pebble rejects none is 0.95^300 ≈ 2e-7.
    assert.ok(rejected > 0, 'pebble rejected some nonces');
    assert.equal(posts.length - rejected, 300, 'every read succeeded in the end');
    const heads = events.filter((e) => e.method === 'HEAD').length;
    assert.ok(heads <= 10, `${heads} newNonce requests for ${posts.length} signed ones`);
  });
});
