import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CLIENT_CA, loadConfig } from '../../src/config/config.js';
import { configFile } from '../support/config-files.js';

function problems(env: Record<string, string>, configFile?: string): string[] {
  try {
    loadConfig({ env, configFile });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

const file = configFile;

describe('private CA settings', () => {
  it('defaults publicUrl to the listening address, brackets for IPv6', () => {
    assert.equal(loadConfig({ env: {} }).publicUrl, 'http://127.0.0.1:8080');
    assert.equal(loadConfig({ env: { CERTPLANE_HOST: 'ca.internal', CERTPLANE_PORT: '9000' } }).publicUrl, 'http://ca.internal:9000');
    assert.equal(loadConfig({ env: { CERTPLANE_HOST: '::1' } }).publicUrl, 'http://[::1]:8080');
  });

  it('takes CERTPLANE_PUBLIC_URL over the file, without its trailing slash', () => {
    assert.equal(loadConfig({ env: { CERTPLANE_PUBLIC_URL: 'https://pki.example.com/' } }).publicUrl, 'https://pki.example.com');
    assert.equal(loadConfig({ env: { CERTPLANE_PUBLIC_URL: 'https://example.com/certplane//' } }).publicUrl, 'https://example.com/certplane');
    const path = file({ publicUrl: 'https://from-file.example' });
    assert.equal(loadConfig({ env: {}, configFile: path }).publicUrl, 'https://from-file.example');
    assert.equal(loadConfig({ env: { CERTPLANE_PUBLIC_URL: 'http://env.example' }, configFile: path }).publicUrl, 'http://env.example');
  });

  it('refuses a publicUrl certificates could not carry, naming the setting and why', () => {
    const cases: Array<[string, RegExp]> = [
      ['pki.example.com', /must be an absolute http:\/\/ or https:\/\/ URL/],
      ['ftp://pki.example.com', /must be an http:\/\/ or https:\/\/ URL/],
      ['https://pki.example.com/?x=1', /must not have a query/],
      ['https://pki.example.com/?', /must not have a query/],
      ['https://pki.example.com/#top', /must not have a fragment/],
      ['https://user:pw@pki.example.com', /must not hold credentials/],
    ];
    for (const [value, why] of cases) {
      const [problem, ...rest] = problems({ CERTPLANE_PUBLIC_URL: value });
      assert.deepEqual(rest, [], value);
      assert.match(problem!, /^CERTPLANE_PUBLIC_URL: /, value);
      assert.match(problem!, why, value);
    }
    const [fromFile] = problems({}, file({ publicUrl: 'nope' }));
    assert.match(fromFile!, /^publicUrl in --config .*: must be an absolute/);
  });

  it('reads clientCa from the file over its defaults, and refuses unknown or bad keys', () => {
    assert.deepEqual(loadConfig({ env: {} }).clientCa, DEFAULT_CLIENT_CA);
    assert.deepEqual(DEFAULT_CLIENT_CA, {
      keyType: 'EC',
      organization: 'certplane',
      organizationalUnit: 'site {siteId}',
      commonName: 'certplane client CA {site}',
      validityDays: 7305,
      crlValidityHours: 168,
      ocspValidityMinutes: 10,
    });
    const config = loadConfig({ env: {}, configFile: file({ clientCa: { keyType: 'RSA', commonName: 'Example mTLS CA {site}' } }) });
    assert.deepEqual(config.clientCa, { ...DEFAULT_CLIENT_CA, keyType: 'RSA', commonName: 'Example mTLS CA {site}' });
    for (const clientCa of [{ keyType: 'DSA' }, { validityDays: 0 }, { validityDays: 36_526 }, { organization: '' }, { colour: 'blue' }]) {
      const [problem] = problems({}, file({ clientCa }));
      assert.match(problem!, /^clientCa in --config /, JSON.stringify(clientCa));
    }
  });

  it('bounds how long CRLs (at most 7 days) and OCSP answers (at most a day) hold', () => {
    const config = loadConfig({ env: {}, configFile: file({ clientCa: { crlValidityHours: 24, ocspValidityMinutes: 5 } }) });
    assert.deepEqual([config.clientCa.crlValidityHours, config.clientCa.ocspValidityMinutes], [24, 5]);
    for (const [clientCa, why] of [
      [{ crlValidityHours: 169 }, /crlValidityHours must be a whole number of hours from 1 to 168/],
      [{ crlValidityHours: 0 }, /crlValidityHours must be a whole number of hours from 1 to 168/],
      [{ crlValidityHours: 1.5 }, /crlValidityHours must be a whole number of hours/],
      [{ crlValidityHours: '24' }, /crlValidityHours must be a whole number of hours/],
      [{ ocspValidityMinutes: 1441 }, /ocspValidityMinutes must be a whole number of minutes from 1 to 1440/],
      [{ ocspValidityMinutes: 0 }, /ocspValidityMinutes must be a whole number of minutes from 1 to 1440/],
    ] as const) {
      const [problem, ...rest] = problems({}, file({ clientCa }));
      assert.deepEqual(rest, [], JSON.stringify(clientCa));
      assert.match(problem!, /^clientCa in --config /, JSON.stringify(clientCa));
      assert.match(problem!, why, problem);
    }
  });
});
