import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { ENGINES, POSTGRES_URL } from '../support/databases.js';
import { startService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`health probes on ${engine}`, () => {
    it('answers /healthz while the process is up and /readyz only while the database answers', async () => {
      const service = await startService(engine);
      try {
        assert.equal((await fetch(`${service.baseUrl}/healthz`)).status, 200);
        const ready = await fetch(`${service.baseUrl}/readyz`);
        assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);

        await service.app.database.close();
        const down = await fetch(`${service.baseUrl}/readyz`);
        assert.deepEqual([down.status, await down.json()], [503, { status: 'database unreachable' }]);
        assert.equal((await fetch(`${service.baseUrl}/healthz`)).status, 200, 'the process itself is still up');
      } finally {
        await service.server.close();
        await service.testDb.drop();
      }
    });
  });
}

describe('database connections lost', () => {
  it('keeps serving after PostgreSQL drops every connection of the service', async () => {
    const service = await startService('postgres');
    try {
      assert.equal((await fetch(`${service.baseUrl}/readyz`)).status, 200);
      const database = new URL(service.testDb.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        const { rowCount } = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        );
        assert.ok((rowCount ?? 0) >= 1, 'the service had a connection to drop');
      } finally {
        await admin.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await fetch(`${service.baseUrl}/readyz`)).status, 200, 'the pool opened a new connection');
      assert.equal((await fetch(`${service.baseUrl}/healthz`)).status, 200);
    } finally {
      await service.stop();
    }
  });
});
