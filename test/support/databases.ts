import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../../src/adapters/db/database.js';
import { SqlJobStore } from '../../src/adapters/db/job-store.js';
import type { Config } from '../../src/config/config.js';
import type { Clock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';

/** The engines every store and API test runs on. */
export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

/** The PostgreSQL server tests use; each test database is created on it and dropped afterwards. */
export const POSTGRES_URL = process.env.CERTPLANE_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

export interface TestDatabase {
  engine: Engine;
  database: Config['database'];
  /** A fresh data directory (master key, SQLite file). */
  dataDir: string;
  /** `DATABASE_URL` value for a child process. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'certplane-test-'));
  if (engine === 'sqlite') {
    const file = join(dataDir, 'certplane.db');
    return {
      engine,
      database: { kind: 'sqlite', file },
      dataDir,
      url: `sqlite:${file}`,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `certplane_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  try {
    await admin(`create database ${name}`);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    engine,
    database: { kind: 'postgres', url: url.toString() },
    dataDir,
    url: url.toString(),
    drop: async () => {
      await admin(`drop database if exists ${name} with (force)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${(err as Error).message}). Start it, e.g. ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set CERTPLANE_TEST_POSTGRES_URL.',
    );
  }
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A migrated test database with its job store, for the job suites; `close` closes and drops it. */
export interface JobStoreDatabase {
  database: Database;
  jobs: SqlJobStore;
  close(): Promise<void>;
}

export async function openJobStoreDatabase(engine: Engine, clock: Clock): Promise<JobStoreDatabase> {
  const testDb = await createTestDatabase(engine);
  const database = openDatabase(testDb.database);
  await migrate(database.db);
  return {
    database,
    jobs: new SqlJobStore(database, { clock, ids: randomIds }),
    close: async () => {
      await database.close();
      await testDb.drop();
    },
  };
}
