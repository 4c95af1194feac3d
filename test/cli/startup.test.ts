import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { cli, freePort, serve } from '../support/cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

const newKey = () => randomBytes(32).toString('base64');
const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** The stderr of a command that must stop with exit code 2, one line naming `setting`, no stack trace. */
function refusal(result: ReturnType<typeof cli>, setting: string): string {
  assert.equal(result.status, 2, result.stderr + result.stdout);
  assert.match(result.stderr, new RegExp(setting));
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  return result.stderr;
}

describe('certplane --version', () => {
  it('prints the package version as one JSON object', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = cli(['--version'], {});
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.json, { version: pkg.version });
  });
});

for (const engine of ENGINES) {
  describe(`a master key that cannot open the sealed data stops start-up on ${engine}`, () => {
    let db: TestDatabase;
    const right = newKey();
    const env = (key: string) => ({ CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url, CERTPLANE_MASTER_KEY: key });
    before(async () => {
      db = await createTestDatabase(engine);
      const account = cli(['account', 'create', '--name', 'sealed'], env(right));
      assert.equal(cli(['key', 'create', '--account', String(account.json!.accountId)], env(right)).status, 0);
    });
    after(() => db.drop());

    it('refuses serve and every operator command, naming CERTPLANE_MASTER_KEY', () => {
      const wrong = newKey();
      for (const args of [['serve'], ['account', 'list'], ['master-key', 'reseal']]) {
        const stderr = refusal(cli(args, { ...env(wrong), CERTPLANE_PORT: '0' }), 'CERTPLANE_MASTER_KEY');
        assert.match(stderr, /cannot open the data already sealed/);
      }
      assert.equal(cli(['account', 'list'], env(right)).status, 0, 'the right key still opens it');
      assert.equal(cli(['account', 'list'], env(`${wrong},${right}`)).status, 0, 'so does a keyring holding it');
    });

    it('checks a database from before the canary through its own sealed rows, then records the canary', async () => {
      const canary = () => sql(db, "select count(*) as n from service_facts where name = 'master_key_canary'");
      await sql(db, 'delete from service_facts');
      refusal(cli(['account', 'list'], env(newKey())), 'CERTPLANE_MASTER_KEY');
      assert.equal(await canary(), 0, 'a refused key records nothing');
      assert.equal(cli(['account', 'list'], env(right)).status, 0);
      assert.equal(await canary(), 1);
    });

    it('names the generated key file when CERTPLANE_MASTER_KEY is not set', () => {
      // Another data directory on the same database: a fresh key is generated there, and refused.
      const otherDir = mkdtempSync(join(tmpdir(), 'cp-other-'));
      try {
        const result = cli(['account', 'list'], { CERTPLANE_DATA_DIR: otherDir, DATABASE_URL: db.url });
        assert.match(refusal(result, 'CERTPLANE_MASTER_KEY is not set'), new RegExp(`${otherDir}/master\\.key was used`));
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
    });
  });
}

/** One value from the test database, on either engine. */
async function sql(db: TestDatabase, statement: string): Promise<number> {
  if (db.database.kind === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    const handle = new SQLite(db.database.file);
    try {
      const row = statement.startsWith('select') ? (handle.prepare(statement).get() as { n: number }) : (handle.prepare(statement).run(), { n: 0 });
      return Number(row.n);
    } finally {
      handle.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(statement);
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

describe('listening problems are one line naming the setting', () => {
  let db: TestDatabase;
  let blocker: Server;
  let busyPort: number;
  before(async () => {
    db = await createTestDatabase('sqlite');
    busyPort = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(busyPort, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await db.drop();
  });

  it('a busy port names CERTPLANE_PORT', () => {
    const result = cli(['serve'], { CERTPLANE_DATA_DIR: db.dataDir, CERTPLANE_PORT: String(busyPort) });
    const stderr = refusal(result, 'CERTPLANE_PORT');
    assert.equal(stderr, `certplane: cannot start: CERTPLANE_PORT: 127.0.0.1:${busyPort} is already in use by another process; choose another port or stop that process\n`);
  });

  it('an address this machine does not have names CERTPLANE_HOST', () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: binding fails locally, nothing is sent.
    const result = cli(['serve'], { CERTPLANE_DATA_DIR: db.dataDir, CERTPLANE_HOST: '192.0.2.1' });
    assert.equal(refusal(result, 'CERTPLANE_HOST').trim().split('\n').length, 1);
    assert.match(result.stderr, /192\.0\.2\.1 is not an address of this machine/);
  });
});

describe('file modes of the data directory', () => {
  it('creates the data directory 0700 and the SQLite file, its -wal and -shm 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cp-modes-'));
    const dataDir = join(root, 'nested', 'data');
    const proc = await serve({ CERTPLANE_DATA_DIR: dataDir, CERTPLANE_LOG_LEVEL: 'warn' });
    try {
      assert.equal(modeOf(dataDir), '700');
      for (const name of ['certplane.db', 'certplane.db-wal', 'certplane.db-shm', 'master.key']) {
        assert.equal(modeOf(join(dataDir, name)), '600', name);
      }
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the CLI and the server agree on the database', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('postgres');
  });
  after(() => db.drop());

  it('refuses a command whose database differs from that of a live server on the same data directory', async () => {
    const server = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url, CERTPLANE_LOG_LEVEL: 'warn' };
    const proc = await serve(server);
    try {
      // A second shell without DATABASE_URL, as the README's tour would be run.
      const stray = cli(['account', 'create', '--name', 'stray'], { CERTPLANE_DATA_DIR: db.dataDir });
      const stderr = refusal(stray, 'DATABASE_URL');
      assert.ok(stderr.includes(`sqlite:${join(db.dataDir, 'certplane.db')}`), stderr);
      assert.ok(stderr.includes(db.url), 'names the server database');
      assert.equal(stray.stdout, '');
      assert.ok(!existsSync(join(db.dataDir, 'certplane.db')), 'nothing was written to the wrong database');

      const right = cli(['account', 'create', '--name', 'right'], server);
      assert.equal(right.status, 0, right.stderr);
      const url = new URL(db.url);
      url.password = 'ignored';
      assert.equal(cli(['account', 'list'], { ...server, DATABASE_URL: url.toString() }).status, 0, 'the same database, spelled with a password');
    } finally {
      proc.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    }
    assert.deepEqual(readdirSync(db.dataDir).filter((n) => n.startsWith('serve-')), [], 'a clean stop removes the record');
  });

  it('ignores the record of a server that is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    const record = { pid: gone, database: db.url, identity: 'postgres://elsewhere:5432/x', listen: '127.0.0.1:1', startedAt: new Date().toISOString() };
    writeFileSync(join(db.dataDir, `serve-${gone}.json`), JSON.stringify(record));
    const dataDirEnv = { CERTPLANE_DATA_DIR: db.dataDir, DATABASE_URL: db.url };
    const result = cli(['account', 'list'], dataDirEnv);
    assert.equal(result.status, 0, result.stderr);
  });
});

describe('a new SQLite database is announced', () => {
  it('says on stderr where it creates one, and only the first time', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-notice-'));
    try {
      const first = cli(['account', 'list'], { CERTPLANE_DATA_DIR: dataDir });
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stderr, new RegExp(`creating a new SQLite database at ${join(dataDir, 'certplane.db')}`));
      const second = cli(['account', 'list'], { CERTPLANE_DATA_DIR: dataDir });
      assert.equal(second.stderr, '');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

