/**
 * Named (prepared) statements on PostgreSQL for the statements this process runs again and again.
 * Kysely sends every query unnamed, so the server parses and plans it anew each time: for the
 * signed-request path (access key, site, nonce) planning cost more than running, ≈ 150–230 µs of
 * server CPU per select against ≈ 20 µs of execution. A text seen NAME_AFTER times gets a name; each
 * connection then parses it once, and the server keeps its plan (a generic one once it is as good).
 *
 * Bounded: at most MAX_NAMED texts per process are named (the rest stay unnamed), and only plain
 * reads and writes (select, insert, update, delete, with), never DDL or transaction control, which
 * run once or are cheap to parse.
 *
 * A prepared `select *` stops working when a newer version's migration adds a column under it
 * (PostgreSQL: "cached plan must not change result type", 0A000). Outside a transaction the query
 * is run again unnamed and its text is no longer named by this process; inside one, the transaction
 * fails once with that error (the caller's retry runs unnamed).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** How often a text is seen unnamed before it is named. */
const NAME_AFTER = 3;
/** Most texts a process names. */
const MAX_NAMED = 256;
/** Texts counted while not yet named; past this the counts start again. */
const MAX_COUNTED = 4096;
const PLAIN = /^\s*(select|insert|update|delete|with)\s/i;
/** PostgreSQL's feature_not_supported, which "cached plan must not change result type" is. */
const RESULT_TYPE_CHANGED = '0A000';

export class StatementNames {
  private readonly named = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  private readonly retired = new Set<string>();

  /** The name to run `text` under, or undefined to run it unnamed. */
  nameOf(text: string): string | undefined {
    const name = this.named.get(text);
    if (name !== undefined) return name;
    if (this.named.size >= MAX_NAMED || this.retired.has(text) || !PLAIN.test(text)) return undefined;
    const count = (this.seen.get(text) ?? 0) + 1;
    if (count < NAME_AFTER) {
      if (this.seen.size >= MAX_COUNTED) this.seen.clear();
      this.seen.set(text, count);
      return undefined;
    }
    this.seen.delete(text);
    const created = `certplane_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    this.named.set(text, created);
    return created;
  }

  /** `text` runs unnamed from now on (its prepared form no longer fits the table). */
  retire(text: string): void {
    this.named.delete(text);
    this.retired.add(text);
  }

  get size(): number {
    return this.named.size;
  }
}

type QueryResult = pg.QueryResult<Record<string, unknown>>;

/** Makes `client.query(text, values)` (Kysely's only form) run named statements; every other form passes through. */
export function prepareStatements(client: pg.PoolClient, names: StatementNames): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<QueryResult>;
  const named = async (text: string, values: unknown[], name: string): Promise<QueryResult> => {
    try {
      return await query({ name, text, values });
    } catch (err) {
      if ((err as { code?: unknown }).code !== RESULT_TYPE_CHANGED) throw err;
      names.retire(text);
      // Inside a transaction the error has aborted it: nothing can run until it ends.
      if (inTransaction(client)) throw err;
      return query(text, values);
    }
  };
  client.query = ((...args: unknown[]) => {
    const [text, values] = args;
    if (args.length === 2 && typeof text === 'string' && Array.isArray(values)) {
      const name = names.nameOf(text);
      if (name !== undefined) return named(text, values, name);
    }
    return query(...args);
  }) as typeof client.query;
}

/** The server's status at its last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
function inTransaction(client: pg.PoolClient): boolean {
  const status = client.getTransactionStatus();
  return status !== null && status !== 'I';
}
