/**
 * Record visibility against a real BIND 9: the zone's NS set and the nameservers' addresses come
 * from the resolver (here BIND itself), each nameserver is then asked directly, and a record counts
 * only once every one of them serves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Rfc2136Provider } from '../../src/adapters/dns/rfc2136.js';
import { NodeDnsResolver } from '../../src/adapters/dns/resolver.js';
import { AuthoritativeVisibility } from '../../src/adapters/dns/visibility.js';
import { RecordNotVisible } from '../../src/core/validation/ports.js';
import { systemClock } from '../../src/kernel/clock.js';
import { startBind, type BindServer } from '../support/bind.js';

const NAME = '_acme-challenge.www.vis.test';

describe('record visibility at the authoritative servers, against BIND', () => {
  let bind: BindServer;
  let dns01: Rfc2136Provider;
  let visibility: AuthoritativeVisibility;
  const soon = (ms: number) => new Date(Date.now() + ms);

  before(async () => {
    bind = await startBind();
    const resolver = new NodeDnsResolver({ address: bind.address, timeoutMs: 500 });
    visibility = new AuthoritativeVisibility({ resolver, clock: systemClock, intervalMs: 50, port: bind.port, queryTimeoutMs: 300 });
    dns01 = new Rfc2136Provider({ server: bind.address, tsigKeyName: bind.tsig.name, tsigAlgorithm: 'hmac-sha256', tsigSecret: bind.tsig.secret });
    await bind.addZone('vis.test', [
      { name: '@', type: 'NS', value: 'ns1.vis.test' },
      { name: 'ns1', type: 'A', value: '127.0.0.1' },
    ]);
    // A zone whose second nameserver (127.0.0.2, where nothing listens on BIND's port) never answers.
    await bind.addZone('half.test', [
      { name: '@', type: 'NS', value: 'ns1.half.test' },
      { name: '@', type: 'NS', value: 'ns2.half.test' },
      { name: 'ns1', type: 'A', value: '127.0.0.1' },
      { name: 'ns2', type: 'A', value: '127.0.0.2' },
    ]);
  });
  after(() => bind?.stop());

  it('is not visible before the record is published, and says what the server answered', async () => {
    await assert.rejects(visibility.waitFor(NAME, 'token-1', soon(200)), (err) => {
      assert.ok(err instanceof RecordNotVisible);
      assert.deepEqual(err.answers, [{ server: 'ns1.vis.test (127.0.0.1)', answer: 'NXDOMAIN', visible: false }]);
      assert.match(err.message, /TXT _acme-challenge\.www\.vis\.test was not visible .*: ns1\.vis\.test \(127\.0\.0\.1\): NXDOMAIN/);
      return true;
    });
  });

  it('is visible once published, and not once removed', async () => {
    const handle = await dns01.create({ name: NAME, type: 'TXT', value: 'token-2', ttl: 60 });
    await visibility.waitFor(NAME, 'token-2', soon(2000));
    await dns01.remove(handle);
    await assert.rejects(visibility.waitFor(NAME, 'token-2', soon(200)), RecordNotVisible);
  });

  it('keeps asking until a record published while it waits appears', async () => {
    const waiting = visibility.waitFor(NAME, 'token-3', soon(5000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const handle = await dns01.create({ name: NAME, type: 'TXT', value: 'token-3', ttl: 60 });
    await waiting;
    await dns01.remove(handle);
  });

  it('does not count another value at the name', async () => {
    const other = await dns01.create({ name: NAME, type: 'TXT', value: 'another-order', ttl: 60 });
    try {
      await assert.rejects(visibility.waitFor(NAME, 'token-4', soon(200)), (err) => {
        assert.ok(err instanceof RecordNotVisible);
        assert.deepEqual(err.answers, [{ server: 'ns1.vis.test (127.0.0.1)', answer: 'TXT "another-order"', visible: false }]);
        return true;
      });
    } finally {
      await dns01.remove(other);
    }
  });

  it('waits for every nameserver, and reports each one\'s answer when time runs out', async () => {
    const name = '_acme-challenge.half.test';
    const handle = await dns01.create({ name, type: 'TXT', value: 'token-5', ttl: 60 });
    await assert.rejects(visibility.waitFor(name, 'token-5', soon(700)), (err) => {
      assert.ok(err instanceof RecordNotVisible);
      assert.deepEqual(err.answers, [
        { server: 'ns1.half.test (127.0.0.1)', answer: 'TXT "token-5"', visible: true },
        { server: 'ns2.half.test (127.0.0.2)', answer: `no answer within 300 ms from 127.0.0.2:${bind.port}`, visible: false },
      ]);
      return true;
    });
    await dns01.remove(handle);
  });

  it('reports a name whose zone the resolver cannot find', async () => {
    await assert.rejects(visibility.waitFor('_acme-challenge.nowhere.test', 'x', soon(150)), (err) => {
      assert.ok(err instanceof RecordNotVisible);
      assert.deepEqual(err.answers, []);
      assert.match(err.message, /could not answer NS .*REFUSED/);
      return true;
    });
  });
});
