/**
 * The deploy adapters on their own: files replaced atomically (a reader running throughout sees
 * only whole old or whole new content, the key 0600, no temporary file left), and reload commands
 * run without a shell, with their exit status, a missing program and a timeout that kills.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { atomicFiles } from '../../src/adapters/files/atomic-files.js';
import { execFileRunner } from '../../src/adapters/process/command.js';
import { splitCommandLine } from '../../src/core/deploy/command-line.js';

const dir = mkdtempSync(join(tmpdir(), 'certplane-deploy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic files', () => {
  it('writes fullchain.pem 0644 and privkey.pem 0600, replacing earlier ones, leaving no temporary file', async () => {
    writeFileSync(join(dir, 'privkey.pem'), 'old key', { mode: 0o644 });
    await atomicFiles.write(dir, [
      { name: 'fullchain.pem', content: 'chain\n', mode: 0o644 },
      { name: 'privkey.pem', content: 'key\n', mode: 0o600 },
    ]);
    assert.equal(readFileSync(join(dir, 'fullchain.pem'), 'utf8'), 'chain\n');
    assert.equal(readFileSync(join(dir, 'privkey.pem'), 'utf8'), 'key\n');
    assert.equal(statSync(join(dir, 'privkey.pem')).mode & 0o777, 0o600, 'the key is readable by its owner only, even replacing a 0644 file');
    assert.equal(statSync(join(dir, 'fullchain.pem')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['fullchain.pem', 'privkey.pem']);
  });

  it('a reader running throughout sees only whole files', async () => {
    const big = (c: string) => c.repeat(4 * 1024 * 1024);
    await atomicFiles.write(dir, [{ name: 'fullchain.pem', content: big('a'), mode: 0o644 }]);
    let reading = true;
    let reads = 0;
    const torn: string[] = [];
    const reader = (async () => {
      while (reading) {
        const text = readFileSync(join(dir, 'fullchain.pem'), 'utf8');
        reads++;
        if (text.length !== 4 * 1024 * 1024 || (text !== big('a') && text !== big('b'))) torn.push(`${text.length} bytes starting ${text.slice(0, 1)}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let i = 0; i < 10; i++) await atomicFiles.write(dir, [{ name: 'fullchain.pem', content: big(i % 2 ? 'a' : 'b'), mode: 0o644 }]);
    reading = false;
    await reader;
    assert.ok(reads > 5, `${reads} reads`);
    assert.deepEqual(torn, []);
  });

  it('says why a directory cannot take the files', async () => {
    assert.equal(await atomicFiles.problemWith(dir), undefined);
    assert.match((await atomicFiles.problemWith(join(dir, 'missing')))!, /does not exist/);
    assert.match((await atomicFiles.problemWith(join(dir, 'fullchain.pem')))!, /is not a directory/);
  });
});

describe('reload commands', () => {
  it('runs argv without a shell: $VARIABLES, ; and | are plain arguments', async () => {
    const result = await execFileRunner.run(['/bin/echo', '$HOME', ';', 'rm', '|', '*'], 5000);
    assert.deepEqual(result, { ok: true, stdout: '$HOME ; rm | *\n', stderr: '' });
  });

  it('a failing command: its exit status and what it said', async () => {
    const result = await execFileRunner.run(['/bin/sh', '-c', 'echo broken config >&2; exit 3'], 5000);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'exited with status 3');
    assert.equal(result.stderr, 'broken config\n');
    const missing = await execFileRunner.run(['/nonexistent/reload'], 5000);
    assert.equal(!missing.ok && missing.reason, '/nonexistent/reload not found');
  });

  it('a command past its timeout is killed, and the run ends at once', async () => {
    const started = Date.now();
    const result = await execFileRunner.run(['/bin/sleep', '30'], 500);
    assert.equal(!result.ok && result.reason, 'timed out after 0.5 s and was killed');
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
  });

  it('splits a command line into words as a shell would, quotes included', () => {
    assert.deepEqual(splitCommandLine('nginx -s reload'), ['nginx', '-s', 'reload']);
    assert.deepEqual(splitCommandLine(`  /usr/sbin/nginx -c '/etc/my nginx/nginx.conf'  -g "pid /run/a \\"b\\".pid;" x\\ y `), [
      '/usr/sbin/nginx', '-c', '/etc/my nginx/nginx.conf', '-g', 'pid /run/a "b".pid;', 'x y',
    ]);
    assert.deepEqual(splitCommandLine("a '' b"), ['a', '', 'b']);
    assert.throws(() => splitCommandLine("nginx -c 'open"), /single quote is not closed/);
    assert.throws(() => splitCommandLine('nginx -c "open'), /double quote is not closed/);
    assert.deepEqual(splitCommandLine('   '), []);
  });
});
