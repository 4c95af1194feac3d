import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config/config.js';
import { migrationProvider } from './migrations/index.js';
import { GroupCommit } from './group-commit.js';
import { FOLD_FUNCTION, fold } from './like.js';
import { StatementNames, prepareStatements } from './pg-prepared.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import type { Schema } from './schema.js';

export type Db = Kysely<Schema>;

export interface Database {
  db: Db;
  kind: 'sqlite' | 'postgres';
  /** True when the engine answers a trivial query. */
  ping(): Promise<boolean>;
  /**
   * Runs the statements in one transaction and resolves once they are committed; rejects with the
   * error of the statement that failed (none of them is kept then). On SQLite, concurrent callers'
   * statements share one transaction (group commit, see GroupCommit), each caller in its own
   * savepoint, so one caller's failure neither undoes nor fails another's.
   */
  writeAll(statements: CompiledQuery[]): Promise<void>;
  close(): Promise<void>;
}

/** How the operator would name the database, without its password: `sqlite:/abs/file` or `postgres://user@host/db`. */
export function databaseLabel(settings: Config['database']): string {
  if (settings.kind === 'sqlite') return `sqlite:${settings.file}`;
  const url = new URL(settings.url);
  url.password = '';
  return url.toString();
}

/** How long a SQLite writer waits for another process's write lock. */
const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(settings: Config['database'], onError: (err: Error) => void = () => undefined): Database {
  if (settings.kind === 'sqlite') {
    createPrivately(settings.file);
    const handle = new SQLite(settings.file);
    handle.pragma('journal_mode = WAL');
    tightenSidecars(settings.file);
    handle.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    handle.pragma('foreign_keys = ON');
    // Keep the hot b-tree pages in memory. WAL checkpoints run on a worker thread; the connection's
    // own checkpoint stays as a safety net should that thread fall behind.
    handle.pragma('cache_size = -65536');
    handle.pragma('mmap_size = 268435456');
    handle.pragma('wal_autocheckpoint = 16000');
    handle.function(FOLD_FUNCTION, { deterministic: true }, fold);
    cacheStatements(handle);
    const checkpointer = startCheckpointer(settings.file);
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: handle }) });
    const group = new GroupCommit(handle, {
      exclusive: (work) => db.connection().execute(async () => work()),
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      connectionBusyTimeoutMs: BUSY_TIMEOUT_MS,
    });
    return {
      ...common(db, 'sqlite'),
      writeAll: (statements) => group.write(statements),
      close: async () => {
        await checkpointer.stop();
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: settings.url, max: 10 });
  // An idle connection the server drops (a restart, an administrator) is replaced by the pool;
  // without a listener its error would end the process.
  pool.on('error', (err) => onError(err));
  const open = new Set<pg.PoolClient>();
  const names = settings.statements === 'unnamed' ? undefined : new StatementNames();
  pool.on('connect', (client) => {
    if (names) prepareStatements(client, names);
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return {
    ...common(db, 'postgres'),
    writeAll: async (statements) => {
      // One statement is atomic on its own: no BEGIN and COMMIT round trips around it.
      if (statements.length === 1) {
        await db.executeQuery(statements[0]!);
        return;
      }
      const single = asOneStatement(statements);
      if (single) {
        await db.executeQuery(single);
        return;
      }
      await db.transaction().execute(async (tx) => {
        for (const q of statements) await tx.executeQuery(q);
      });
    },
    close: async () => {
      // pool.end() resolves before its sockets are closed; wait for them, so a closed database
      // really holds no connection any more.
      const closing = [...open].map((client) => {
        client.on('error', () => undefined);
        return new Promise<void>((resolve) => client.once('end', () => resolve()));
      });
      await db.destroy();
      await Promise.all(closing);
    },
  };
}

/**
 * The database holds sealed keys and token hashes: its directory is made 0700 and the file 0600
 * before SQLite opens it (SQLite gives its -wal and -shm files the database file's mode).
 */
function createPrivately(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  else tighten(file);
}

/** Files left by an older version with looser modes are tightened; one we may not change is left as it is. */
function tighten(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch {
    // not there, or not ours: SQLite creates -wal/-shm with the database file's mode
  }
}

function tightenSidecars(file: string): void {
  for (const suffix of ['-wal', '-shm']) tighten(`${file}${suffix}`);
}

const MODIFYING = /^\s*(insert|update|delete)\s/i;

/**
 * Several PostgreSQL writes as one statement, `WITH s0 AS (…), s1 AS (…) <last>`: one round trip
 * instead of BEGIN, each statement and COMMIT, and just as atomic (constraints, foreign keys included,
 * are checked at the end of the statement). Undefined when the statements are not all plain writes.
 */
function asOneStatement(statements: CompiledQuery[]): CompiledQuery | undefined {
  if (statements.length < 2 || !statements.every((q) => MODIFYING.test(q.sql))) return undefined;
  const parameters: unknown[] = [];
  const renumbered = statements.map((q) => {
    const offset = parameters.length;
    parameters.push(...q.parameters);
    return q.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  });
  const last = renumbered.pop()!;
  const ctes = renumbered.map((text, i) => `s${i} as (${text})`).join(', ');
  return CompiledQuery.raw(`with ${ctes} ${last}`, parameters);
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, so keep them by SQL
 * text (bounded: texts with IN lists of varying length would otherwise grow it without end).
 */
function cacheStatements(handle: SQLite.Database, limit = 512): void {
  const prepare = handle.prepare.bind(handle);
  const cache = new Map<string, SQLite.Statement>();
  handle.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      if (cache.size >= limit) cache.clear();
      statement = prepare(source);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof handle.prepare;
}

function common(db: Db, kind: Database['kind']): Pick<Database, 'db' | 'kind' | 'ping'> {
  return {
    db,
    kind,
    ping: async () => {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export async function migrate(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Unique-constraint violations, told apart from other failures on both engines. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** NOT NULL violations, on both engines. */
export function isNotNullViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23502' || code === 'SQLITE_CONSTRAINT_NOTNULL';
}
