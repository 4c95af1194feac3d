import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The ConfigError these settings raise. */
function configError(env: Record<string, string>, configFile?: string): ConfigError {
  try {
    loadConfig({ env, configFile });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('defaults to SQLite under ./data on 127.0.0.1:8080', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.database, { kind: 'sqlite', file: resolve('data/certplane.db') });
    assert.deepEqual(config.masterKeys, []);
  });

  it('selects PostgreSQL from a postgres:// DATABASE_URL and reads the other variables', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      env: {
        CERTPLANE_PORT: '9443',
        CERTPLANE_HOST: '0.0.0.0',
        CERTPLANE_DATA_DIR: '/tmp/cp',
        DATABASE_URL: 'postgres://u@db:5432/certs',
        CERTPLANE_MASTER_KEY: key,
      },
    });
    assert.equal(config.port, 9443);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, '/tmp/cp');
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://u@db:5432/certs' });
    assert.deepEqual(config.masterKeys, [key]);
  });

  it('reads the metrics token from CERTPLANE_METRICS_TOKEN and refuses a short or spaced one by name', () => {
    assert.equal(loadConfig({ env: {} }).metricsToken, undefined);
    assert.equal(loadConfig({ env: { CERTPLANE_METRICS_TOKEN: 'a'.repeat(16) } }).metricsToken, 'a'.repeat(16));
    for (const bad of ['too-short', 'has a space in it, 16+']) {
      const err = configError({ CERTPLANE_METRICS_TOKEN: bad });
      assert.deepEqual(err.problems, ['CERTPLANE_METRICS_TOKEN: must be 16 to 256 printable ASCII characters without spaces']);
    }
  });

  it('names every bad setting at once, schema, database URL and master keys together', () => {
    const err = configError({
      CERTPLANE_PORT: 'eighty',
      CERTPLANE_HOST: 'not a host!',
      CERTPLANE_LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      CERTPLANE_MASTER_KEY: 'short,also-short',
    });
    assert.deepEqual(
      err.problems.map((p) => p.split(':')[0]),
      ['CERTPLANE_PORT', 'CERTPLANE_HOST', 'CERTPLANE_LOG_LEVEL', 'DATABASE_URL', 'CERTPLANE_MASTER_KEY', 'CERTPLANE_MASTER_KEY'],
    );
    assert.match(err.problems[5]!, /key 2/);
  });

  it('names a setting from the config file by its key and by how the file was given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
    const file = join(dir, 'certplane.json');
    writeFileSync(file, JSON.stringify({ port: 'eighty', databaseUrl: 'mysql://x', prot: 1 }));
    const flagged = configError({ CERTPLANE_MASTER_KEY: 'short' }, file);
    assert.deepEqual(flagged.problems, [
      `port in --config ${file}: Invalid input: expected number, received NaN`,
      `--config ${file}: Unrecognized key: "prot"`,
      `databaseUrl in --config ${file}: must start with postgres://, postgresql:// or sqlite:`,
      'CERTPLANE_MASTER_KEY: key 1 is not 32 bytes of base64 or hex',
    ]);
    const fromEnv = configError({ CERTPLANE_CONFIG: file });
    assert.ok(fromEnv.problems.every((p) => p.includes(`CERTPLANE_CONFIG ${file}`)), fromEnv.problems.join('\n'));
    assert.ok(!fromEnv.message.includes('--config'));
    const missing = configError({}, join(dir, 'missing.json'));
    assert.deepEqual(missing.problems, [`--config ${join(dir, 'missing.json')}: cannot read the file: ENOENT`]);
  });

  it('accepts IP addresses and host names as CERTPLANE_HOST', () => {
    for (const host of ['0.0.0.0', '::1', 'localhost', 'api.internal.example']) assert.equal(loadConfig({ env: { CERTPLANE_HOST: host } }).host, host);
  });

  it('lets SQLite sync every commit when asked, and only SQLite', () => {
    const full = loadConfig({ env: { CERTPLANE_SQLITE_SYNCHRONOUS: 'full' } });
    assert.deepEqual(full.database, { kind: 'sqlite', file: resolve('data/certplane.db'), synchronous: 'full' });
    const pg = loadConfig({ env: { CERTPLANE_SQLITE_SYNCHRONOUS: 'full', DATABASE_URL: 'postgres://db/x' } });
    assert.deepEqual(pg.database, { kind: 'postgres', url: 'postgres://db/x' });
    assert.throws(() => loadConfig({ env: { CERTPLANE_SQLITE_SYNCHRONOUS: 'off' } }), /CERTPLANE_SQLITE_SYNCHRONOUS/);
  });

  it('prepares repeated PostgreSQL statements unless told not to, and only on PostgreSQL', () => {
    const url = 'postgres://db/x';
    assert.deepEqual(loadConfig({ env: { DATABASE_URL: url } }).database, { kind: 'postgres', url });
    assert.deepEqual(loadConfig({ env: { DATABASE_URL: url, CERTPLANE_POSTGRES_STATEMENTS: 'unnamed' } }).database, { kind: 'postgres', url, statements: 'unnamed' });
    assert.deepEqual(loadConfig({ env: { CERTPLANE_POSTGRES_STATEMENTS: 'unnamed' } }).database, { kind: 'sqlite', file: resolve('data/certplane.db') });
    assert.throws(() => loadConfig({ env: { DATABASE_URL: url, CERTPLANE_POSTGRES_STATEMENTS: 'off' } }), /CERTPLANE_POSTGRES_STATEMENTS/);
  });

  it('reads a JSON config file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
    const file = join(dir, 'certplane.json');
    writeFileSync(file, JSON.stringify({ port: 7000, host: '127.0.0.2', logLevel: 'warn' }));
    const config = loadConfig({ env: { CERTPLANE_PORT: '7001' }, configFile: file });
    assert.equal(config.port, 7001);
    assert.equal(config.host, '127.0.0.2');
    assert.equal(config.logLevel, 'warn');
  });

  it('rejects an unknown key, an unreadable file and a file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
    const unknown = join(dir, 'a.json');
    writeFileSync(unknown, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ env: {}, configFile: unknown }), (err: unknown) => {
      return err instanceof ConfigError && /prot/.test(err.message);
    });
    assert.throws(() => loadConfig({ env: {}, configFile: join(dir, 'missing.json') }), /cannot read/);
    const broken = join(dir, 'b.json');
    writeFileSync(broken, '{port:');
    assert.throws(() => loadConfig({ env: {}, configFile: broken }), /not valid JSON/);
  });
});

describe('renewalScanMinutes', () => {
  it('defaults to 10, is read from CERTPLANE_RENEWAL_SCAN_MINUTES, and refuses what is not 1–1440 whole minutes', () => {
    assert.equal(loadConfig({ env: {} }).renewalScanMinutes, 10);
    assert.equal(loadConfig({ env: { CERTPLANE_RENEWAL_SCAN_MINUTES: '60' } }).renewalScanMinutes, 60);
    for (const bad of ['0', '1441', '2.5', 'often']) {
      assert.throws(
        () => loadConfig({ env: { CERTPLANE_RENEWAL_SCAN_MINUTES: bad } }),
        (err: Error) => err instanceof ConfigError && /CERTPLANE_RENEWAL_SCAN_MINUTES: must be a whole number of minutes from 1 to 1440/.test(err.message),
        bad,
      );
    }
  });
});
