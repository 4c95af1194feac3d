/**
 * The rfc2136 provider against a real BIND 9, which applies only updates whose TSIG verifies and
 * signs its answers: records appear and disappear as BIND serves them, one order's removal leaves
 * another's value, and a key, secret or answer that is wrong is an error naming what to fix.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Rfc2136Provider, type Rfc2136Settings } from '../../src/adapters/dns/rfc2136.js';
import { NodeDnsResolver } from '../../src/adapters/dns/resolver.js';
import { DnsProviderError } from '../../src/core/validation/ports.js';
import { startBind, type BindServer } from '../support/bind.js';

const OTHER_ALGORITHMS = ['hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;

describe('rfc2136 DNS provider against BIND', () => {
  let bind: BindServer;
  let dns: NodeDnsResolver;
  let settings: Rfc2136Settings;
  const txt = (name: string) => dns.resolveTxt(name).then((values) => values.sort());

  before(async () => {
    bind = await startBind({ extraKeys: OTHER_ALGORITHMS.map((algorithm) => ({ name: `key-${algorithm}`, algorithm })) });
    dns = new NodeDnsResolver({ address: bind.address, timeoutMs: 500 });
    settings = { server: bind.address, tsigKeyName: bind.tsig.name, tsigAlgorithm: 'hmac-sha256', tsigSecret: bind.tsig.secret };
    await bind.addZone('example.test', [{ name: 'keep', type: 'TXT', value: 'not ours' }]);
    await bind.addZone('sub.example.test', []);
  });
  after(() => bind?.stop());

  it('publishes a TXT record that the server then serves, and removes exactly it', async () => {
    const dns01 = new Rfc2136Provider(settings);
    const name = '_acme-challenge.www.example.test';
    const first = await dns01.create({ name, type: 'TXT', value: 'order-one', ttl: 60 });
    const second = await dns01.create({ name: `${name.toUpperCase()}.`, type: 'TXT', value: 'order-two', ttl: 60 });
    assert.deepEqual(first, { provider: 'rfc2136', record: { name, type: 'TXT', value: 'order-one', ttl: 60 }, detail: { zone: 'example.test' } });
    assert.equal(second.record.name, name);
    assert.deepEqual(await txt(name), ['order-one', 'order-two']);

    await dns01.remove(first);
    assert.deepEqual(await txt(name), ['order-two'], 'the other order\'s value at the same name stays');
    await dns01.remove(first); // gone already: still fine, so a retried job may repeat it
    await dns01.remove(second);
    assert.deepEqual(await txt(name), []);
    assert.deepEqual(await txt('keep.example.test'), ['not ours']);
  });

  it('publishes the same value once however often it is created', async () => {
    const dns01 = new Rfc2136Provider(settings);
    const record = { name: 'twice.example.test', type: 'TXT' as const, value: 'same', ttl: 60 };
    const handle = await dns01.create(record);
    await dns01.create(record);
    assert.deepEqual(await txt('twice.example.test'), ['same']);
    await dns01.remove(handle);
    assert.deepEqual(await txt('twice.example.test'), []);
  });

  it('finds the zone by the SOA of the name or its parents, a sub-zone included', async () => {
    const dns01 = new Rfc2136Provider(settings);
    const deep = await dns01.create({ name: '_acme-challenge.a.b.c.example.test', type: 'TXT', value: 'deep', ttl: 60 });
    const sub = await dns01.create({ name: '_acme-challenge.www.sub.example.test', type: 'TXT', value: 'sub', ttl: 60 });
    assert.equal(deep.detail['zone'], 'example.test');
    assert.equal(sub.detail['zone'], 'sub.example.test');
    assert.deepEqual(await txt('_acme-challenge.www.sub.example.test'), ['sub']);
    await dns01.remove(deep);
    await dns01.remove(sub);
    assert.deepEqual(await txt('_acme-challenge.a.b.c.example.test'), []);
  });

  it('uses a configured zone as given, and reports one the server does not serve', async () => {
    const configured = new Rfc2136Provider({ ...settings, zone: 'example.test.' });
    const handle = await configured.create({ name: 'z.example.test', type: 'TXT', value: 'configured', ttl: 60 });
    assert.equal(handle.detail['zone'], 'example.test');
    await configured.remove(handle);

    const wrong = new Rfc2136Provider({ ...settings, zone: 'elsewhere.test' });
    await assert.rejects(wrong.create({ name: 'z.elsewhere.test', type: 'TXT', value: 'x', ttl: 60 }), (err) => {
      assert.ok(err instanceof DnsProviderError);
      assert.match(err.message, /NOTAUTH/);
      assert.equal(err.transient, false);
      return true;
    });
    await assert.rejects(new Rfc2136Provider(settings).create({ name: 'www.nowhere.test', type: 'TXT', value: 'x', ttl: 60 }), /serves no zone that holds www\.nowhere\.test/);
  });

  it('signs with every supported algorithm, each accepted by BIND', async () => {
    for (const key of bind.extraKeys) {
      const dns01 = new Rfc2136Provider({ server: bind.address, tsigKeyName: key.name, tsigAlgorithm: key.algorithm, tsigSecret: key.secret });
      const handle = await dns01.create({ name: `${key.algorithm}.example.test`, type: 'TXT', value: key.algorithm, ttl: 60 });
      assert.deepEqual(await txt(`${key.algorithm}.example.test`), [key.algorithm]);
      await dns01.remove(handle);
    }
  });

  it('reports a wrong secret, an unknown key and a wrong algorithm as refused signatures, changing nothing', async () => {
    const cases: Array<[Partial<Rfc2136Settings>, RegExp]> = [
      [{ tsigSecret: Buffer.alloc(32, 7).toString('base64') }, /BADSIG/],
      [{ tsigKeyName: 'no-such-key' }, /BADKEY/],
      [{ tsigAlgorithm: 'hmac-sha512' }, /BADKEY/],
    ];
    for (const [change, code] of cases) {
      const dns01 = new Rfc2136Provider({ ...settings, ...change });
      await assert.rejects(dns01.create({ name: 'refused.example.test', type: 'TXT', value: 'x', ttl: 60 }), (err) => {
        assert.ok(err instanceof DnsProviderError);
        assert.match(err.message, code);
        assert.match(err.message, /tsigSecret/);
        assert.equal(err.transient, false);
        return true;
      });
    }
    assert.deepEqual(await txt('refused.example.test'), []);
  });

  it('sends an update too large for UDP over TCP', async () => {
    const dns01 = new Rfc2136Provider(settings);
    const value = 'v'.repeat(1000);
    const handle = await dns01.create({ name: 'large.example.test', type: 'TXT', value, ttl: 60 });
    assert.deepEqual(await txt('large.example.test'), [value]);
    await dns01.remove(handle);
    assert.deepEqual(await txt('large.example.test'), []);
  });

  it('does not trust an answer whose signature does not verify', async () => {
    // A relay that flips one header bit (RA) of BIND's answers: the TSIG no longer matches.
    const relay = await startRelay(bind.port, (answer) => {
      answer[3] = answer[3]! ^ 0x80;
      return answer;
    });
    try {
      const dns01 = new Rfc2136Provider({ ...settings, server: `127.0.0.1:${relay.port}`, zone: 'example.test' });
      await assert.rejects(dns01.create({ name: 'tampered.example.test', type: 'TXT', value: 'x', ttl: 60 }), (err) => {
        assert.ok(err instanceof DnsProviderError);
        assert.match(err.message, /not trusted: the answer's signature does not verify/);
        return true;
      });
    } finally {
      relay.close();
    }
  });

  it('reports a server that does not answer as a transient failure, and stops when aborted', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const server = `127.0.0.1:${silent.address().port}`;
    try {
      const dns01 = new Rfc2136Provider({ ...settings, server, zone: 'example.test', timeoutMs: 100 });
      await assert.rejects(dns01.create({ name: 'x.example.test', type: 'TXT', value: 'x', ttl: 60 }), (err) => {
        assert.ok(err instanceof DnsProviderError);
        assert.equal(err.transient, true);
        assert.match(err.message, /did not answer within 3 × 100 ms/);
        return true;
      });
      const patient = new Rfc2136Provider({ ...settings, server, zone: 'example.test', timeoutMs: 60_000 });
      const controller = new AbortController();
      const pending = patient.create({ name: 'x.example.test', type: 'TXT', value: 'x', ttl: 60 }, { signal: controller.signal });
      controller.abort(new Error('the worker gave up'));
      await assert.rejects(pending, /the worker gave up/);

      // Aborted before it starts: it fails with the reason and sends nothing.
      await new Promise((resolve) => setTimeout(resolve, 20));
      let datagrams = 0;
      silent.on('message', () => datagrams++);
      await assert.rejects(
        patient.create({ name: 'x.example.test', type: 'TXT', value: 'x', ttl: 60 }, { signal: AbortSignal.abort(new Error('given up already')) }),
        /given up already/,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(datagrams, 0, 'nothing was sent');
    } finally {
      silent.close();
    }
  });

  it('stops a TCP exchange that gets no answer when aborted, closing its connection', async () => {
    const closed: Promise<void>[] = [];
    const silent = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume(); // reads and drops the update, so the client's close is seen
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      // Too large for UDP, so it goes straight to TCP.
      const patient = new Rfc2136Provider({ ...settings, server: `127.0.0.1:${port}`, zone: 'example.test', timeoutMs: 60_000 });
      const controller = new AbortController();
      const pending = patient.create({ name: 'x.example.test', type: 'TXT', value: 'v'.repeat(1000), ttl: 60 }, { signal: controller.signal });
      for (const deadline = Date.now() + 5000; closed.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(closed.length, 1, 'the update was sent over TCP');
      controller.abort(new Error('the worker gave up'));
      await assert.rejects(pending, /the worker gave up/);
      const gone = await Promise.race([closed[0]!.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref())]);
      assert.ok(gone, 'the connection was closed');
    } finally {
      silent.close();
    }
  });
});

/** A UDP relay to BIND on 127.0.0.1 that passes each answer through `change`. */
async function startRelay(target: number, change: (answer: Buffer) => Buffer): Promise<{ port: number; close(): void }> {
  const front = dgram.createSocket('udp4');
  front.on('message', (query, client) => {
    const back = dgram.createSocket('udp4');
    back.on('message', (answer) => {
      front.send(change(Buffer.from(answer)), client.port, client.address);
      back.close();
    });
    back.send(query, target, '127.0.0.1');
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return { port: front.address().port, close: () => front.close() };
}
