/**
 * `Database.writeAll` on both engines, as the request path uses it (nonces, certificate records,
 * audit rows): concurrent callers each get their own outcome. On SQLite their statements share a
 * transaction (group commit), so these tests pin what that must never change: a failing caller
 * loses only its own statements, every caller is answered only once its rows are committed, a
 * caller's statements never join a transaction someone else has open, and another process holding
 * the write lock delays the batch without stalling the event loop.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, sql } from 'kysely';
import { isUniqueViolation, openDatabase, type Database } from '../../src/adapters/db/database.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';

const SQLite = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

for (const engine of ENGINES) {
  describe(`writeAll on ${engine}`, () => {
    let testDb: TestDatabase;
    let database: Database;
    /** A second connection to the same database, as another process would have. */
    let other: Database;
    let table = 0;

    /** A fresh table per test: `probe_N (id integer primary key, caller text)`. */
    async function freshTable(): Promise<{ name: string; insert(id: number, caller: string): CompiledQuery }> {
      const name = `probe_${++table}`;
      await sql.raw(`create table ${name} (id integer primary key, caller text not null)`).execute(database.db);
      const placeholders = engine === 'postgres' ? '($1, $2)' : '(?, ?)';
      return { name, insert: (id, caller) => CompiledQuery.raw(`insert into ${name} (id, caller) values ${placeholders}`, [id, caller]) };
    }

    async function rows(db: Database, name: string): Promise<Array<{ id: number; caller: string }>> {
      const result = await sql.raw<{ id: number; caller: string }>(`select id, caller from ${name} order by id`).execute(db.db);
      return result.rows.map((r) => ({ id: Number(r.id), caller: r.caller }));
    }

    before(async () => {
      testDb = await createTestDatabase(engine);
      database = openDatabase(testDb.database);
      other = openDatabase(testDb.database);
    });
    after(async () => {
      await other.close();
      await database.close();
      await testDb.drop();
    });

    it("keeps every other caller's rows when one caller's statement fails, and undoes all of that caller's", async () => {
      const t = await freshTable();
      await database.writeAll([t.insert(1, 'before')]);
      // Issued together, as concurrent requests do: on SQLite they go to the database in one transaction.
      const outcomes = await Promise.allSettled([
        database.writeAll([t.insert(10, 'a'), t.insert(11, 'a')]),
        database.writeAll([t.insert(20, 'b'), t.insert(1, 'b')]), // its second row collides with 'before'
        database.writeAll([t.insert(30, 'c')]),
        database.writeAll([t.insert(40, 'd'), t.insert(41, 'd'), t.insert(42, 'd')]),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      const failure = (outcomes[1] as PromiseRejectedResult).reason;
      assert.ok(isUniqueViolation(failure), `the failing caller gets its own unique violation, got ${String(failure)}`);
      assert.deepEqual(
        (await rows(other, t.name)).map((r) => `${r.id}:${r.caller}`),
        ['1:before', '10:a', '11:a', '30:c', '40:d', '41:d', '42:d'],
        "b's first row went with its failed second one; nobody else lost anything",
      );
    });

    it('answers each caller only once its rows are committed and visible to another connection', async () => {
      const t = await freshTable();
      const seen = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          await database.writeAll([t.insert(i + 1, `caller${i}`)]);
          const found = await sql.raw<{ n: number | string }>(`select count(*) as n from ${t.name} where id = ${i + 1}`).execute(other.db);
          return Number(found.rows[0]!.n);
        }),
      );
      assert.deepEqual(seen, Array(12).fill(1));
    });

    it('fails only the caller whose statement is not valid SQL, and later writes go on', async () => {
      const t = await freshTable();
      const outcomes = await Promise.allSettled([
        database.writeAll([t.insert(1, 'a')]),
        database.writeAll([CompiledQuery.raw('insert into no_such_table (id) values (1)', [])]),
        database.writeAll([t.insert(2, 'c')]),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /no_such_table/);
      await database.writeAll([t.insert(3, 'later')]);
      assert.deepEqual((await rows(other, t.name)).map((r) => r.id), [1, 2, 3]);
    });

    it("never joins a transaction someone else has open on the connection: that one's rollback leaves its rows alone", async () => {
      const t = await freshTable();
      let written: Promise<void> | undefined;
      await assert.rejects(
        database.db.transaction().execute(async (tx) => {
          await sql.raw(`insert into ${t.name} (id, caller) values (1, 'tx')`).execute(tx);
          written = database.writeAll([t.insert(2, 'writeAll')]);
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await written;
      assert.deepEqual((await rows(database, t.name)).map((r) => `${r.id}:${r.caller}`), ['2:writeAll']);
    });

    if (engine === 'sqlite') {
      it("waits for another process's write lock without stalling the event loop, then commits", async () => {
        const t = await freshTable();
        const file = (testDb.database as { file: string }).file;
        const holder = new SQLite(file);
        holder.pragma('busy_timeout = 5000');
        holder.prepare('BEGIN IMMEDIATE').run();
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 5);
        let settled = false;
        const written = database.writeAll([t.insert(1, 'waited')]).finally(() => (settled = true));
        try {
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.equal(settled, false, 'the write cannot commit while another connection holds the lock');
          assert.ok(ticks >= 10, `timers kept firing while the write waited (${ticks} ticks in 300 ms)`);
          holder.prepare('COMMIT').run();
          await written;
        } finally {
          clearInterval(ticker);
          holder.close();
        }
        assert.deepEqual((await rows(other, t.name)).map((r) => r.caller), ['waited']);
      });
    }
  });
}
