import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { REDACTED, REDACTED_PATHS } from '../../src/kernel/logger.js';
import { configFile, configProblems } from '../support/config-files.js';

const file = configFile;
const problems = configProblems;

const SECRET = Buffer.alloc(32, 9).toString('base64');
const RFC2136 = { provider: 'rfc2136', server: '192.0.2.53:5353', tsigKeyName: 'certplane.', tsigSecret: SECRET };

describe('dns01 settings', () => {
  it('is unset by default, with the documented propagation and worker defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.dns01, undefined);
    assert.deepEqual(config.dns01Propagation, { timeoutSeconds: 120, intervalMs: 2000, nameServerPort: 53 });
    assert.equal(config.workerConcurrency, 10);
  });

  it('reads an rfc2136 provider, hmac-sha256 unless another algorithm is named', () => {
    assert.deepEqual(loadConfig({ env: {}, configFile: file({ dns01: RFC2136 }) }).dns01, { ...RFC2136, tsigAlgorithm: 'hmac-sha256', zone: undefined });
    const named = loadConfig({ env: {}, configFile: file({ dns01: { ...RFC2136, server: '[2001:db8::53]:53', tsigAlgorithm: 'hmac-sha512', zone: 'Example.COM.' } }) });
    assert.deepEqual(named.dns01, { ...RFC2136, server: '[2001:db8::53]:53', tsigAlgorithm: 'hmac-sha512', zone: 'example.com' });
  });

  it('reads a hook provider, 60 s per run unless told otherwise', () => {
    assert.deepEqual(loadConfig({ env: {}, configFile: file({ dns01: { provider: 'hook', command: ['/usr/local/bin/dns', '--zone-file'] } }) }).dns01, {
      provider: 'hook',
      command: ['/usr/local/bin/dns', '--zone-file'],
      timeoutSeconds: 60,
    });
  });

  it('reads the propagation settings and CERTPLANE_WORKER_CONCURRENCY', () => {
    const config = loadConfig({
      env: { CERTPLANE_WORKER_CONCURRENCY: '32' },
      configFile: file({ dns01PropagationTimeoutSeconds: 300, dns01PropagationIntervalMs: 250, dns01NameServerPort: 5353 }),
    });
    assert.deepEqual(config.dns01Propagation, { timeoutSeconds: 300, intervalMs: 250, nameServerPort: 5353 });
    assert.equal(config.workerConcurrency, 32);
    assert.match(problems({}, { CERTPLANE_WORKER_CONCURRENCY: '0' })[0]!, /^CERTPLANE_WORKER_CONCURRENCY: /);
    assert.match(problems({ dns01PropagationIntervalMs: 10 })[0]!, /^dns01PropagationIntervalMs in --config .*: /);
  });

  it('refuses a wrong provider setting, naming the field, and never echoes the secret', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ server: '192.0.2.53' }, /provider must be "rfc2136" or "hook"/],
      [{ provider: 'route53' }, /provider must be "rfc2136" or "hook"/],
      [{ ...RFC2136, server: 'ns1.example.com:53' }, /server must be IP:PORT/],
      [{ ...RFC2136, server: '192.0.2.53:70000' }, /server must be IP:PORT/],
      [{ ...RFC2136, tsigSecret: 'c2hvcnQ=' }, /tsigSecret must be base64 of at least 16 bytes/],
      [{ ...RFC2136, tsigSecret: 'not base64 at all, a passphrase' }, /tsigSecret must be base64/],
      [{ ...RFC2136, tsigAlgorithm: 'hmac-md5' }, /tsigAlgorithm must be one of hmac-sha256, hmac-sha512/],
      [{ ...RFC2136, tsigKeyName: 'bad name!' }, /tsigKeyName must be a DNS name/],
      [{ ...RFC2136, command: ['x'] }, /command/],
      [{ provider: 'hook', command: [] }, /command must name a program/],
      [{ provider: 'hook', command: ['/bin/dns', ''] }, /command must not hold an empty string/],
      [{ provider: 'hook', command: ['/bin/dns'], timeoutSeconds: 0 }, /timeoutSeconds/],
    ];
    for (const [dns01, message] of cases) {
      const found = problems({ dns01 });
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!, /^dns01 in --config /);
      assert.match(found[0]!, message);
      assert.doesNotMatch(found[0]!, /passphrase|c2hvcnQ|CQkJ/, 'the secret is not repeated');
    }
  });

  it('keeps the TSIG secret out of the logs should the settings be logged', () => {
    const dns01 = loadConfig({ env: {}, configFile: file({ dns01: RFC2136 }) }).dns01;
    const lines: string[] = [];
    const logger = pino({ redact: { paths: [...REDACTED_PATHS], censor: REDACTED } }, { write: (line: string) => lines.push(line) });
    logger.info({ dns01 }, 'settings');
    logger.info(dns01 ?? {}, 'settings');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.doesNotMatch(line, new RegExp(SECRET.slice(0, 20)));
      assert.match(line, /"tsigSecret":"\[redacted\]"/);
    }
  });
});
