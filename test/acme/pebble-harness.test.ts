/**
 * The pebble harness (test/support/pebble.ts) against Debian's pebble: its API answers over TLS only
 * to a client trusting the throwaway root, its issuing root and intermediate come from the management
 * port and chain, EAB is required when configured, and nothing is left behind by stop() or by the
 * death of the test process.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startPebble, type PebbleServer } from '../support/pebble.js';

const run = promisify(execFile);

function fetchJson(url: string, ca?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(url, ca === undefined ? {} : { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('error', reject).end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'pebble';
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe('pebble harness', () => {
  let pebble: PebbleServer;

  before(async () => {
    pebble = await startPebble({ httpPort: 5999 });
  });

  after(() => pebble?.stop());

  it('serves its directory over TLS that chains to the throwaway root in caBundlePath', async () => {
    const directory = await fetchJson(pebble.directoryUrl, readFileSync(pebble.caBundlePath, 'utf8'));
    assert.match(String(directory['newOrder']), /^https:\/\/127\.0\.0\.1:\d+\//);
    assert.equal((directory['meta'] as Record<string, unknown>)['externalAccountRequired'], false);
    await assert.rejects(fetchJson(pebble.directoryUrl), /unable to verify the first certificate/);
  });

  it('hands out its issuing root and intermediate, the intermediate verifying against the root', async () => {
    const { roots, intermediates } = await pebble.roots();
    assert.equal(roots.length, 1);
    assert.match(roots[0]!, /^-----BEGIN CERTIFICATE-----/);
    const output = await pebble.verifyChain(intermediates[0]!);
    assert.match(output, /OK/);
    await assert.rejects(pebble.verifyChain(pebble.caBundlePem), /openssl verify failed/);
  });

  it('passes the http-01 port through and leaves nonce rejection at its default', () => {
    assert.equal(pebble.httpPort, 5999);
    assert.match(pebble.log(), /Disabling random VA sleeps/);
    assert.match(pebble.log(), /reject 5% of good nonces/);
  });

  it('requires external account binding when MAC keys are given', async () => {
    const eab = await startPebble({ externalAccountMacKeys: { 'kid-1': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' } });
    try {
      const directory = await fetchJson(eab.directoryUrl, eab.caBundlePem);
      assert.equal((directory['meta'] as Record<string, unknown>)['externalAccountRequired'], true);
    } finally {
      await eab.stop();
    }
  });

  it('stop() kills pebble and removes its directory', async () => {
    const other = await startPebble();
    const dir = other.caBundlePath.replace(/\/[^/]+$/, '');
    assert.ok(existsSync(dir));
    assert.ok(alive(other.pid));
    await other.stop();
    await other.stop();
    assert.equal(existsSync(dir), false);
    assert.equal(alive(other.pid), false);
    await assert.rejects(fetchJson(other.directoryUrl, other.caBundlePem), /ECONNREFUSED/);
  });

  it('a test process killed with SIGKILL leaves no pebble and no directory behind', async () => {
    const harness = fileURLToPath(new URL('../support/pebble.js', import.meta.url));
    const script = `const { startPebble } = await import(${JSON.stringify(harness)});
const p = await startPebble();
console.log(JSON.stringify({ dir: p.caBundlePath.replace(/\\/[^/]+$/, ''), url: p.directoryUrl }));
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    const { dir } = JSON.parse(line) as { dir: string; url: string };
    const pids = (await run('pgrep', ['-P', String(child.pid), '-x', 'pebble'])).stdout.trim().split('\n').map(Number);
    assert.equal(pids.length, 1);
    assert.ok(alive(pids[0]!));
    child.kill('SIGKILL');
    assert.ok(await waitFor(() => !alive(pids[0]!) && !existsSync(dir), 5000), 'the watchdog cleaned up');
  });
});
