import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { configFile } from '../support/config-files.js';

function withFile(settings: Record<string, unknown>) {
  const file = configFile(settings);
  return () => loadConfig({ env: {}, configFile: file });
}

function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('the nameServers pool', () => {
  it('defaults to at least four distinct names under certplane-dns.net', () => {
    const { nameServers } = loadConfig({ env: {} });
    assert.ok(nameServers.length >= 4, String(nameServers.length));
    assert.equal(new Set(nameServers).size, nameServers.length);
    assert.ok(nameServers.every((ns) => ns.endsWith('.certplane-dns.net')), nameServers.join(','));
  });

  it('takes a pool of four or more names from the config file', () => {
    const pool = ['a.dns.example', 'b.dns.example', 'c.dns.example', 'd.dns.example', 'e.dns.example'];
    assert.deepEqual(withFile({ nameServers: pool })().nameServers, pool);
  });

  it('refuses fewer than four names, a name twice and a name that is not a host name, naming nameServers', () => {
    const cases: Array<[unknown, RegExp]> = [
      [['a.dns.example', 'b.dns.example', 'c.dns.example'], /at least 4 host names/],
      [['a.dns.example', 'b.dns.example', 'c.dns.example', 'a.dns.example'], /twice/],
      [['a.dns.example', 'b.dns.example', 'c.dns.example', 'NS4.Dns.Example'], /lower-case host name/],
      ['a.dns.example,b.dns.example,c.dns.example,d.dns.example', /expected array/],
    ];
    for (const [nameServers, why] of cases) {
      const found = problems(withFile({ nameServers }));
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, /^nameServers in --config \S+: /);
      assert.match(found[0]!, why);
    }
  });
});
