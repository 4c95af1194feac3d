import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENGINES } from '../support/databases.js';
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
