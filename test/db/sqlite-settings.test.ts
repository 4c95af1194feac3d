import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/adapters/db/database.js';

async function pragma(file: string, synchronous?: 'normal' | 'full') {
  const database = openDatabase({ kind: 'sqlite', file, ...(synchronous ? { synchronous } : {}) });
  try {
    const read = async (name: string) => {
      const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(database.db);
      return Object.values(rows[0]!)[0];
    };
    return { journal: await read('journal_mode'), synchronous: await read('synchronous'), foreignKeys: await read('foreign_keys') };
  } finally {
    await database.close();
  }
}

describe('SQLite connection settings', () => {
  it('runs in WAL mode with foreign keys, syncing at checkpoints by default and on every commit when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-sqlite-'));
    assert.deepEqual(await pragma(join(dir, 'a.db')), { journal: 'wal', synchronous: 1, foreignKeys: 1 });
    assert.deepEqual(await pragma(join(dir, 'b.db'), 'full'), { journal: 'wal', synchronous: 2, foreignKeys: 1 });
  });
});
