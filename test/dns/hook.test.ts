/**
 * The hook provider runs a real shell script: the contract (argv and environment) is what the
 * script receives, a failure carries its stderr, and a command that hangs is killed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookProvider } from '../../src/adapters/dns/hook.js';
import { DnsProviderError, type TxtRecord } from '../../src/core/validation/ports.js';

const RECORD: TxtRecord = { name: '_acme-challenge.www.example.com', type: 'TXT', value: 'LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM', ttl: 60 };

describe('hook DNS provider', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'certplane-hook-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sh = (script: string, timeoutSeconds?: number) => new HookProvider({ command: ['/bin/sh', '-c', script, 'hook'], timeoutSeconds });
  const lines = (file: string) => readFileSync(join(dir, file), 'utf8').trim().split('\n');

  it('runs COMMAND present NAME. VALUE, then COMMAND cleanup NAME. VALUE, with the same in the environment', async () => {
    const log = join(dir, 'calls.log');
    const hook = sh(`printf '%s|%s|%s|%s|%s|%s|%s\\n' "$1" "$2" "$3" "$CERTPLANE_DNS_ACTION" "$CERTPLANE_DNS_NAME" "$CERTPLANE_DNS_VALUE" "$CERTPLANE_DNS_TTL" >> '${log}'`);
    const handle = await hook.create(RECORD);
    assert.deepEqual(handle, { provider: 'hook', record: RECORD, detail: {} });
    await hook.remove(handle);
    const name = '_acme-challenge.www.example.com.';
    assert.deepEqual(lines('calls.log'), [
      `present|${name}|${RECORD.value}|present|${name}|${RECORD.value}|60`,
      `cleanup|${name}|${RECORD.value}|cleanup|${name}|${RECORD.value}|60`,
    ]);
  });

  it('keeps certplane\'s secrets and settings out of the command\'s environment', async () => {
    const saved = { ...process.env };
    process.env.CERTPLANE_MASTER_KEY = 'a-secret-master-key';
    process.env.DATABASE_URL = 'postgres://user:password@db/certplane';
    process.env.DNS_API_TOKEN = 'the-script-needs-this';
    try {
      const log = join(dir, 'env.log');
      await sh(`echo "\${CERTPLANE_MASTER_KEY-unset} \${DATABASE_URL-unset} \${DNS_API_TOKEN-unset} $(command -v sh)" > '${log}'`).create(RECORD);
      assert.match(lines('env.log')[0]!, /^unset unset the-script-needs-this \/.*sh$/);
    } finally {
      process.env = saved;
    }
  });

  it('fails with the exit status and stderr of a command that fails', async () => {
    await assert.rejects(sh('echo "zone example.com not found at the DNS host" >&2; exit 3').create(RECORD), (err) => {
      assert.ok(err instanceof DnsProviderError);
      assert.equal(err.message, 'dns01 hook present _acme-challenge.www.example.com. exited with 3: zone example.com not found at the DNS host');
      assert.equal(err.transient, true);
      return true;
    });
    await assert.rejects(new HookProvider({ command: [join(dir, 'no-such-program')] }).create(RECORD), /cannot run .*no-such-program: spawn .* ENOENT/);
  });

  it('kills a command that outlives its timeout, with the children it started', async () => {
    const pids = join(dir, 'pids');
    await assert.rejects(sh(`sleep 30 & echo $$ $! > '${pids}'; wait`, 1).create(RECORD), (err) => {
      assert.ok(err instanceof DnsProviderError);
      assert.match(err.message, /^dns01 hook present _acme-challenge\.www\.example\.com\. did not finish within 1 s$/);
      return true;
    });
    for (const pid of lines('pids')[0]!.split(' ').map(Number)) assert.ok(await gone(pid), `process ${pid} is gone`);
  });

  it('stops the command when the caller aborts', async () => {
    const controller = new AbortController();
    const pids = join(dir, 'aborted');
    const pending = sh(`echo $$ > '${pids}'; exec sleep 30`).remove({ provider: 'hook', record: RECORD, detail: {} }, { signal: controller.signal });
    await waitForFile(pids);
    controller.abort(new Error('worker stopping'));
    await assert.rejects(pending, /worker stopping/);
    assert.ok(await gone(Number(lines('aborted')[0])));
  });

  it('refuses a handle another provider made', async () => {
    await assert.rejects(sh('true').remove({ provider: 'rfc2136', record: RECORD, detail: { zone: 'example.com' } }), /made by the rfc2136 provider/);
  });
});

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      if (readFileSync(file, 'utf8').trim() !== '') return;
    } catch {
      // not yet written
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${file} never appeared`);
}

/** True once `pid` no longer exists (an orphan may linger a moment as a zombie before init reaps it). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}
