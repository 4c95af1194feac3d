/**
 * Group commit for SQLite: the writes that concurrent requests hand to `writeAll` within one turn
 * of the event loop go to the database in one transaction, so they share one WAL append instead of
 * paying a commit each. Each caller's statements run inside their own savepoint: a caller whose
 * statement fails (a unique or foreign-key violation) has exactly its own statements undone and
 * gets its own error, while the others' statements stay and commit. Every caller is answered only
 * once the transaction holding its rows has committed (or has failed, with that failure).
 *
 * The write lock is taken with BEGIN IMMEDIATE without SQLite's blocking busy handler: when another
 * process holds it, the batch asks again at the next turns of the event loop, then on a timer (the
 * event loop keeps serving meanwhile, and the next batch grows), up to `busyTimeoutMs`.
 */
import type SQLite from 'better-sqlite3';

/** One statement in the form better-sqlite3 runs. */
export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

interface Pending {
  statements: readonly Statement[];
  resolve(): void;
  reject(err: unknown): void;
  /** Transactions this caller's statements were in when a failure of another's undid the whole one. */
  lost: number;
}

export interface GroupCommitOptions {
  /** Runs `work` while nobody else uses the connection (Kysely's hold on it). */
  exclusive<T>(work: () => T): Promise<T>;
  /** How long to wait for another process's write lock before failing the batch. */
  busyTimeoutMs: number;
  /** The busy_timeout the connection keeps for everything else. */
  connectionBusyTimeoutMs: number;
}

/** Caps a batch so one transaction stays short; the rest go in the next one. */
const MAX_BATCH = 256;
/** Retries for another process's write lock at the next turn of the event loop, before waiting on a timer. */
const BUSY_QUICK_RETRIES = 20;
/** Longest wait between two retries on a timer, milliseconds. */
const BUSY_LONGEST_WAIT_MS = 10;

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  private readonly begin: SQLite.Statement;
  private readonly commit: SQLite.Statement;
  private readonly rollback: SQLite.Statement;
  private readonly savepoint: SQLite.Statement;
  private readonly release: SQLite.Statement;
  private readonly rollbackTo: SQLite.Statement;
  private readonly noWait: SQLite.Statement;
  private readonly wait: SQLite.Statement;

  constructor(
    private readonly handle: SQLite.Database,
    private readonly options: GroupCommitOptions,
  ) {
    this.begin = handle.prepare('BEGIN IMMEDIATE');
    this.commit = handle.prepare('COMMIT');
    this.rollback = handle.prepare('ROLLBACK');
    this.savepoint = handle.prepare('SAVEPOINT caller');
    this.release = handle.prepare('RELEASE caller');
    this.rollbackTo = handle.prepare('ROLLBACK TO caller');
    this.noWait = handle.prepare('PRAGMA busy_timeout = 0');
    this.wait = handle.prepare(`PRAGMA busy_timeout = ${Math.trunc(options.connectionBusyTimeoutMs)}`);
  }

  /** Resolves once `statements` are committed, all of them; rejects with the error of the first that failed (none of them is kept then). */
  write(statements: readonly Statement[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ statements, resolve, reject, lost: 0 });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.queue.length === 0) return;
    this.scheduled = true;
    // After the current turn's I/O callbacks: every request that reached its write in this turn joins.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      const deadline = Date.now() + this.options.busyTimeoutMs;
      for (let attempt = 1; ; attempt++) {
        const done = await this.options.exclusive(() => this.tryRun(batch));
        if (done) break;
        if (Date.now() >= deadline) {
          const err = Object.assign(new Error('database is locked (another process held the write lock too long)'), { code: 'SQLITE_BUSY' });
          for (const pending of batch) pending.reject(err);
          break;
        }
        // Another process's batch holds the lock for well under a millisecond: ask again after this
        // turn's other work at first, then on a timer so an idle process does not spin.
        if (attempt <= BUSY_QUICK_RETRIES) await new Promise((resolve) => setImmediate(resolve));
        else await new Promise((resolve) => setTimeout(resolve, Math.min(attempt - BUSY_QUICK_RETRIES, BUSY_LONGEST_WAIT_MS)));
      }
    } catch (err) {
      // Not one caller's failure (those are answered in tryRun): the batch as a whole did not commit.
      for (const pending of batch) pending.reject(err);
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }

  /** Runs the batch in one transaction and answers its callers; false when the write lock is busy (nothing was run). */
  private tryRun(batch: Pending[]): boolean {
    if (!this.beginImmediate()) return false;
    const failed = new Map<Pending, unknown>();
    const lost: Pending[] = [];
    const single = batch.length === 1;
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i]!;
      try {
        if (!single) this.savepoint.run();
        for (const q of pending.statements) this.handle.prepare(q.sql).run(...q.parameters);
        if (!single) this.release.run();
      } catch (err) {
        if (this.handle.inTransaction) {
          if (!single) {
            this.rollbackTo.run();
            this.release.run();
          }
          failed.set(pending, err);
          continue;
        }
        // SQLite undid the whole transaction (I/O error, disk full…): the others' statements went
        // with it. This caller gets its error; the others run again in a later transaction, once.
        pending.reject(err);
        for (const other of [...batch.slice(0, i), ...batch.slice(i + 1)]) {
          if (failed.has(other)) continue;
          other.lost += 1;
          if (other.lost > 1) other.reject(err);
          else lost.push(other);
        }
        for (const [other, otherErr] of failed) other.reject(otherErr);
        this.queue.unshift(...lost);
        return true;
      }
    }
    if (single && failed.size === 1) {
      this.rollback.run();
    } else {
      try {
        this.commit.run();
      } catch (err) {
        if (this.handle.inTransaction) this.rollback.run();
        throw err;
      }
    }
    for (const pending of batch) {
      if (failed.has(pending)) pending.reject(failed.get(pending));
      else pending.resolve();
    }
    return true;
  }

  private beginImmediate(): boolean {
    this.noWait.run();
    try {
      this.begin.run();
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return false;
      throw err;
    } finally {
      this.wait.run();
    }
  }
}
