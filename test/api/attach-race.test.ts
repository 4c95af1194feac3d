import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apigClient, certName, countRows } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`concurrent domain attaches on ${engine}`, () => {
    let service: TestService;
    let api: ReturnType<typeof apigClient>;
    before(async () => {
      service = await startService(engine);
      const t = await tenant(service);
      api = apigClient(service, t.projectId, t.token);
    });
    after(() => service.stop());

    async function upload(): Promise<string> {
      const chain = makeChain('p256');
      const res = await api.create({ name: certName('race'), cert_content: chain.chainPem, private_key: chain.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return String(res.body.id);
    }

    it('one domain attached to two certificates at once: one wins, the other gets APIG.2051, never a 500', async () => {
      for (let round = 0; round < 8; round++) {
        const [a, b] = [await upload(), await upload()];
        const results = await Promise.all([a, b].map((id) => api.attach(id, [{ domain: 'p256.example.com' }])));
        const outcome = results.map((r) => `${r.status} ${r.body.error_code ?? ''}`.trim()).sort();
        assert.deepEqual(outcome, ['204', '400 APIG.2051'], JSON.stringify(results.map((r) => r.body)));
        assert.equal(await countRows(service, 'certificate_domains'), 1);
        const winner = results[0]!.status === 204 ? a : b;
        assert.equal((await api.detach(winner, [{ domain: 'p256.example.com' }])).status, 204);
      }
    });

    it('one domain attached to the same certificate twice at once: both succeed, one binding', async () => {
      const id = await upload();
      for (let round = 0; round < 8; round++) {
        const results = await Promise.all([1, 2].map(() => api.attach(id, [{ domain: 'p256.example.com' }])));
        assert.deepEqual(results.map((r) => r.status), [204, 204], JSON.stringify(results.map((r) => r.body)));
        assert.equal((await api.attached(id)).body.total, 1);
        assert.equal((await api.detach(id, [{ domain: 'p256.example.com' }])).status, 204);
      }
    });
  });
}
