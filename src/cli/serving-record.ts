import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config/config.js';
import { databaseLabel } from '../adapters/db/database.js';

/**
 * Which database a running `certplane serve` uses, kept in its data directory (`serve-PID.json`)
 * while it runs. An operator command run against the same data directory but another database (the
 * server started with DATABASE_URL, the command in a shell without it) is refused before it writes
 * anything, naming both databases: otherwise its accounts and tokens would land where the server
 * never looks.
 */
interface ServingRecord {
  pid: number;
  /** Shown to the operator: the database URL without its password, or `sqlite:FILE`. */
  database: string;
  /** Compared: the same database however its URL is spelled (password, default port). */
  identity: string;
  listen: string;
  startedAt: string;
}

const PREFIX = 'serve-';

/**
 * Records this process as serving `config.database`; the returned function removes the record.
 * A data directory the server may not write to only costs the check, so that is reported, not fatal.
 */
export function recordServing(config: Config, listen: string, onError: (err: unknown) => void): () => void {
  const file = join(config.dataDir, `${PREFIX}${process.pid}.json`);
  const record: ServingRecord = {
    pid: process.pid,
    database: databaseLabel(config.database),
    identity: databaseIdentity(config.database),
    listen,
    startedAt: new Date().toISOString(),
  };
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  } catch (err) {
    onError(err);
    return () => undefined;
  }
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', remove);
  return remove;
}

/** Throws when a live server on this data directory serves another database than `config` names. */
export function refuseIfServerDisagrees(config: Config): void {
  const mine = databaseIdentity(config.database);
  const other = liveRecords(config.dataDir).find((r) => r.identity !== mine);
  if (!other) return;
  throw new ConfigError(
    [
      `DATABASE_URL: this command would use ${databaseLabel(config.database)}, but the certplane server running with ` +
        `the data directory ${config.dataDir} (pid ${other.pid}, ${other.listen}) serves ${other.database}. ` +
        "Set DATABASE_URL to the server's database in this shell, or CERTPLANE_DATA_DIR to another directory.",
    ],
    'refusing to run',
  );
}

function liveRecords(dataDir: string): ServingRecord[] {
  if (!existsSync(dataDir)) return [];
  const records: ServingRecord[] = [];
  for (const name of readdirSync(dataDir)) {
    if (!name.startsWith(PREFIX) || !name.endsWith('.json')) continue;
    try {
      const record = JSON.parse(readFileSync(join(dataDir, name), 'utf8')) as ServingRecord;
      if (typeof record.pid === 'number' && typeof record.identity === 'string' && isServing(record.pid)) records.push(record);
    } catch {
      // unreadable or half-written: not evidence of anything
    }
  }
  return records;
}

/** A record outlives a killed server; its pid must still run, and (where /proc exists) run `serve`. */
function isServing(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serve');
  } catch {
    return true;
  }
}

/** One spelling per database: SQLite by file, PostgreSQL by user, host, port and database name. */
function databaseIdentity(settings: Config['database']): string {
  if (settings.kind === 'sqlite') return `sqlite:${settings.file}`;
  const url = new URL(settings.url);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username);
  return `postgres://${decodeURIComponent(url.username)}@${url.hostname.toLowerCase()}:${url.port || '5432'}/${database}`;
}
