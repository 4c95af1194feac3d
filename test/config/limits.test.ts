import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_LIMITS, loadConfig } from '../../src/config/config.js';

function fromFile(content: unknown) {
  const file = join(mkdtempSync(join(tmpdir(), 'cp-limits-')), 'certplane.json');
  writeFileSync(file, JSON.stringify(content));
  return loadConfig({ env: {}, configFile: file });
}

function problemsOf(content: unknown): string {
  try {
    fromFile(content);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.join('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('the limits setting', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(loadConfig({ env: {} }).limits, {
      chainCertificates: 10,
      rsaMinBits: 2048,
      rsaMaxBits: 8192,
      pemCharacters: 65_536,
      domains: 100,
      policyDocumentCharacters: 6_144,
    });
    assert.deepEqual(loadConfig({ env: {} }).limits, DEFAULT_LIMITS);
  });

  it('takes any of its keys from the config file, the others keeping their defaults', () => {
    const config = fromFile({ limits: { chainCertificates: 4, rsaMaxBits: 4096, policyDocumentCharacters: 10_000 } });
    assert.deepEqual(config.limits, { ...DEFAULT_LIMITS, chainCertificates: 4, rsaMaxBits: 4096, policyDocumentCharacters: 10_000 });
  });

  it('names the key of a bad value, an unknown key, and a minimum over the maximum', () => {
    assert.match(problemsOf({ limits: { chainCertificates: 0 } }), /limits in --config \S+: chainCertificates must be an integer from 1 to 100/);
    assert.match(problemsOf({ limits: { domains: 'many' } }), /limits in --config \S+: domains must be an integer/);
    assert.match(problemsOf({ limits: { rsaMaxBits: 100_000 } }), /rsaMaxBits must be an integer from 1024 to 16384/);
    assert.match(problemsOf({ limits: { chains: 3 } }), /limits in --config \S+: .*chains/);
    assert.match(problemsOf({ limits: { rsaMinBits: 4096, rsaMaxBits: 3072 } }), /rsaMinBits must not exceed rsaMaxBits/);
  });
});
