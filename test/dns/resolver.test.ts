import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { NodeDnsResolver } from '../../src/adapters/dns/resolver.js';
import { DnsUnavailable } from '../../src/core/sites/ports.js';
import { startBind, type BindServer } from '../support/bind.js';

const run = promisify(execFile);

describe('NodeDnsResolver against BIND', () => {
  let bind: BindServer;
  let dns: NodeDnsResolver;

  before(async () => {
    bind = await startBind();
    dns = new NodeDnsResolver({ address: bind.address, timeoutMs: 500, tries: 2 });
    await bind.addZone('example.test', [
      { name: '@', type: 'NS', value: 'NS1.Certplane.NET.' },
      { name: '@', type: 'NS', value: 'ns2.certplane.net' },
      { name: 'shop', type: 'TXT', value: 'verify_ab12cd34ef56' },
      { name: 'shop.example.test', type: 'TXT', value: 'v=spf1 -all' },
      { name: 'long', type: 'TXT', value: 'x'.repeat(300) + 'y'.repeat(300) },
      { name: 'www', type: 'A', value: '192.0.2.10' },
    ]);
  });

  after(() => bind?.stop());

  it('returns the NS names of a zone lower-cased and without the trailing dot', async () => {
    assert.deepEqual((await dns.resolveNs('example.test')).sort(), ['ns1.certplane.net', 'ns2.certplane.net']);
    assert.deepEqual((await dns.resolveNs('EXAMPLE.test.')).sort(), ['ns1.certplane.net', 'ns2.certplane.net']);
  });

  it('returns every TXT record at a name, a verify code among them', async () => {
    assert.deepEqual((await dns.resolveTxt('shop.example.test')).sort(), ['v=spf1 -all', 'verify_ab12cd34ef56']);
  });

  it('joins the strings of a TXT record longer than 255 bytes', async () => {
    assert.deepEqual(await dns.resolveTxt('long.example.test'), ['x'.repeat(300) + 'y'.repeat(300)]);
  });

  it('answers [] for a name that does not exist (NXDOMAIN)', async () => {
    assert.deepEqual(await dns.resolveTxt('nope.example.test'), []);
    assert.deepEqual(await dns.resolveNs('nope.example.test'), []);
  });

  it('answers [] for a name without records of the type (NODATA)', async () => {
    assert.deepEqual(await dns.resolveTxt('www.example.test'), []);
    assert.deepEqual(await dns.resolveNs('shop.example.test'), []);
  });

  it('reports a zone the server refuses to answer for as DnsUnavailable', async () => {
    await assert.rejects(dns.resolveTxt('shop.elsewhere.test'), (err) => {
      assert.ok(err instanceof DnsUnavailable);
      assert.equal(err.code, 'EREFUSED');
      return true;
    });
  });

  it('resolves a zone added after the server started', async () => {
    await assert.rejects(dns.resolveNs('late.test'), DnsUnavailable);
    await bind.addZone('late.test', [{ name: '@', type: 'NS', value: 'ns1.certplane.net' }]);
    assert.deepEqual(await dns.resolveNs('late.test'), ['ns1.certplane.net']);
  });

  it('sees records replaced while the server runs', async () => {
    await bind.addZone('swap.test', [{ name: 'shop', type: 'TXT', value: 'verify_old' }]);
    assert.deepEqual(await dns.resolveTxt('shop.swap.test'), ['verify_old']);
    assert.deepEqual(await dns.resolveNs('swap.test'), ['ns.harness.invalid']);

    await bind.setRecords('swap.test', [
      { name: '@', type: 'NS', value: 'ns7.certplane.net' },
      { name: 'shop', type: 'TXT', value: 'verify_new' },
    ]);
    assert.deepEqual(await dns.resolveTxt('shop.swap.test'), ['verify_new']);
    assert.deepEqual(await dns.resolveNs('swap.test'), ['ns7.certplane.net']);
  });

  it('stops answering for a removed zone', async () => {
    await bind.addZone('gone.test', []);
    assert.deepEqual(await dns.resolveNs('gone.test'), ['ns.harness.invalid']);
    await bind.removeZone('gone.test');
    await assert.rejects(dns.resolveNs('gone.test'), DnsUnavailable);
  });

  it('accepts TSIG-signed dynamic updates, and a replaced zone forgets them', async () => {
    await bind.addZone('dyn.test', []);
    const { name, algorithm, secret } = bind.tsig;
    const script = [
      `server ${bind.host} ${bind.port}`,
      'zone dyn.test',
      'update add _acme-challenge.dyn.test 60 TXT "token-1"',
      'send',
      '',
    ].join('\n');
    const child = run('nsupdate', ['-y', `${algorithm}:${name}:${secret}`]);
    child.child.stdin?.end(script);
    await child;
    assert.deepEqual(await dns.resolveTxt('_acme-challenge.dyn.test'), ['token-1']);

    await bind.setRecords('dyn.test', []);
    assert.deepEqual(await dns.resolveTxt('_acme-challenge.dyn.test'), []);
  });

  it('refuses setRecords for a zone that was never added', async () => {
    await assert.rejects(bind.setRecords('never.test', []), /never added/);
  });
});

describe('NodeDnsResolver without a working server', () => {
  it('throws DnsUnavailable quickly when nothing listens on the port', async () => {
    const dns = new NodeDnsResolver({ address: `127.0.0.1:${await closedPort()}`, timeoutMs: 300, tries: 2 });
    const started = Date.now();
    await assert.rejects(dns.resolveNs('example.test'), (err) => {
      assert.ok(err instanceof DnsUnavailable);
      assert.equal(err.code, 'ECONNREFUSED');
      return true;
    });
    assert.ok(Date.now() - started < 600, `took ${Date.now() - started} ms`);
  });

  it('throws DnsUnavailable within timeout × tries when the server never answers', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const dns = new NodeDnsResolver({ address: `127.0.0.1:${silent.address().port}`, timeoutMs: 200, tries: 2 });
      const started = Date.now();
      await assert.rejects(dns.resolveTxt('example.test'), (err) => {
        assert.ok(err instanceof DnsUnavailable);
        assert.equal(err.code, 'ETIMEOUT');
        return true;
      });
      const elapsed = Date.now() - started;
      // The budget is 200 ms × 2 tries; the slack above it is for a loaded CI machine.
      assert.ok(elapsed >= 350 && elapsed < 400 + 400, `took ${elapsed} ms`);
    } finally {
      silent.close();
    }
  });

  it('rejects an address that is not IP[:port] when constructed', () => {
    assert.throws(() => new NodeDnsResolver({ address: 'dns.example:53' }), /IP address/i);
    assert.doesNotThrow(() => new NodeDnsResolver({ address: '[::1]:5353' }));
    assert.doesNotThrow(() => new NodeDnsResolver());
  });

  it('no longer answers once BIND is stopped', async () => {
    const bind = await startBind();
    await bind.addZone('brief.test', []);
    const dns = new NodeDnsResolver({ address: bind.address, timeoutMs: 200, tries: 1 });
    assert.deepEqual(await dns.resolveNs('brief.test'), ['ns.harness.invalid']);
    await bind.stop();
    await bind.stop();
    await assert.rejects(dns.resolveNs('brief.test'), DnsUnavailable);
  });
});

/** A TCP+UDP port that was free a moment ago and that nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
