import { CompiledQuery, type Compilable, type QueryResult } from 'kysely';
import type { Db } from './database.js';
import type { Schema } from './schema.js';

/**
 * Hot queries compiled once. Building and compiling a Kysely query costs more than SQLite takes to
 * run it, so the few statements on every request keep their SQL text and only bind new values.
 * Each store owns its cache (one store per database, so one SQL dialect per cache).
 */
export class CompiledQueries {
  private readonly texts = new Map<string, string>();

  /** An insert of one row; rows of a table must always list the same columns in the same order. */
  insert(db: Db, table: keyof Schema, row: Record<string, unknown>): CompiledQuery {
    const values = Object.values(row);
    const key = `insert:${table}:${Object.keys(row).join(',')}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      const compiled = db.insertInto(table).values(row as never).compile();
      // Every value must have become one parameter, in column order, for the text to be reusable.
      if (compiled.parameters.length !== values.length) return compiled;
      text = compiled.sql;
      this.texts.set(key, text);
    }
    return CompiledQuery.raw(text, values);
  }

  /** Runs a query built by `build` with `parameters` bound in place of the ones it was built with. */
  async run<R>(db: Db, key: string, build: () => Compilable<R>, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    return db.executeQuery<R>(this.query(key, build, parameters));
  }

  /** The query `build` makes, with `parameters` bound in place of its own, without running it (for `writeAll`). */
  query<R>(key: string, build: () => Compilable<R>, parameters: readonly unknown[]): CompiledQuery<R> {
    let text = this.texts.get(key);
    if (text === undefined) {
      const compiled = build().compile();
      if (compiled.parameters.length !== parameters.length) throw new Error(`query ${key} binds ${compiled.parameters.length} values`);
      text = compiled.sql;
      this.texts.set(key, text);
    }
    return CompiledQuery.raw(text, [...parameters]);
  }
}
