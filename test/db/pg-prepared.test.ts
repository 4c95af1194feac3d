/**
 * Named statements on PostgreSQL (PostgreSQL only: SQLite keeps its prepared statements itself): a
 * read or write run a few times is parsed once per connection and runs under a name; one-off and
 * non-plain statements stay unnamed; and a prepared `select *` whose table gains a column (a newer
 * version's migration) keeps answering, with the new column, outside a transaction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { openDatabase, type Database } from '../../src/adapters/db/database.js';
import { StatementNames } from '../../src/adapters/db/pg-prepared.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('named statements on postgres', () => {
  let testDb: TestDatabase;
  let database: Database;

  before(async () => {
    testDb = await createTestDatabase('postgres');
    database = openDatabase(testDb.database);
    await sql`create table probe (id integer primary key, label text not null)`.execute(database.db);
    await sql`insert into probe values (1, 'one'), (2, 'two')`.execute(database.db);
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });

  /** The statements prepared on the connection `run` is given (a transaction holds one connection). */
  async function preparedOnOneConnection(run: (execute: (q: CompiledQuery) => Promise<unknown>) => Promise<void>): Promise<Array<{ name: string; statement: string }>> {
    return database.db.transaction().execute(async (tx) => {
      await run((q) => tx.executeQuery(q));
      const result = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by name`.execute(tx);
      return result.rows;
    });
  }

  it('names a plain statement from its third run on, and answers the same rows', async () => {
    const text = 'select id, label from probe where id = $1';
    const answers: unknown[] = [];
    const prepared = await preparedOnOneConnection(async (execute) => {
      for (let i = 0; i < 5; i++) answers.push(((await execute(CompiledQuery.raw(text, [2]))) as { rows: unknown[] }).rows);
    });
    assert.deepEqual(answers, Array.from({ length: 5 }, () => [{ id: 2, label: 'two' }]));
    const mine = prepared.filter((p) => p.statement === text);
    assert.equal(mine.length, 1, `prepared: ${JSON.stringify(prepared)}`);
    assert.match(mine[0]!.name, /^certplane_[0-9a-f]{24}$/);
  });

  it('leaves statements run once or twice, and DDL or transaction control, unnamed', async () => {
    const twice = 'select label from probe where id = $1 and label <> $2';
    const prepared = await preparedOnOneConnection(async (execute) => {
      await execute(CompiledQuery.raw(twice, [1, 'x']));
      await execute(CompiledQuery.raw(twice, [1, 'x']));
      for (let i = 0; i < 4; i++) await execute(CompiledQuery.raw('savepoint probe_point', []));
    });
    assert.deepEqual(prepared.filter((p) => p.statement === twice || /savepoint/i.test(p.statement)), []);
  });

  it('keeps answering a prepared select * after its table gains a column, with the column', async () => {
    const text = 'select * from probe where id = $1';
    for (let i = 0; i < 4; i++) assert.deepEqual((await database.db.executeQuery(CompiledQuery.raw(text, [1]))).rows, [{ id: 1, label: 'one' }]);
    await sql`alter table probe add column note text default 'added'`.execute(database.db);
    for (let i = 0; i < 4; i++) assert.deepEqual((await database.db.executeQuery(CompiledQuery.raw(text, [1]))).rows, [{ id: 1, label: 'one', note: 'added' }]);
  });

  it('prepares nothing with statements: unnamed (for a pooler that moves transactions between connections)', async () => {
    const unnamed = openDatabase({ ...(testDb.database as { kind: 'postgres'; url: string }), statements: 'unnamed' });
    try {
      const text = 'select label from probe where id = $1 and id > $2';
      const prepared = await unnamed.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 5; i++) await tx.executeQuery(CompiledQuery.raw(text, [1, 0]));
        return (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(tx)).rows;
      });
      assert.deepEqual(prepared, []);
    } finally {
      await unnamed.close();
    }
  });

  it('names at most a bounded number of texts, each under one name', () => {
    const names = new StatementNames();
    const texts = Array.from({ length: 300 }, (_, i) => `select ${i} from probe where id = $1`);
    const given = texts.map((t) => [names.nameOf(t), names.nameOf(t), names.nameOf(t), names.nameOf(t)]);
    const named = given.filter(([first, second, third]) => first === undefined && second === undefined && third !== undefined);
    assert.equal(named.length, 256);
    assert.equal(names.size, 256);
    assert.ok(named.every(([, , third, fourth]) => third === fourth));
    assert.equal(new Set(named.map(([, , third]) => third)).size, 256);
    assert.deepEqual(given.slice(256).flat().filter((n) => n !== undefined), [], 'past the bound, texts stay unnamed');
  });
});
