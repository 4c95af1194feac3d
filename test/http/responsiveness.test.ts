import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apigClient, certName } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { makeDeepChain, makeDeepSm2Dual, rsaCertificateOfSize, rsaPrivateKeyOfSize } from '../support/hostile.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/** Polls /healthz back to back until stopped; resolves to the longest wait between two answers, in ms. */
function pollHealth(baseUrl: string): { stop(): Promise<{ longestGapMs: number; answers: number }> } {
  let running = true;
  const loop = (async () => {
    let last = performance.now();
    let longestGapMs = 0;
    let answers = 0;
    while (running) {
      const res = await fetch(`${baseUrl}/healthz`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      answers += 1;
    }
    return { longestGapMs, answers };
  })();
  return {
    stop: async () => {
      running = false;
      return loop;
    },
  };
}

for (const engine of ENGINES) {
  describe(`/healthz during the most expensive uploads on ${engine}`, () => {
    let service: TestService;
    let api: ReturnType<typeof apigClient>;
    before(async () => {
      service = await startService(engine);
      const t = await tenant(service);
      api = apigClient(service, t.projectId, t.token);
    });
    after(() => service.stop());

    it('keeps answering while SM2 chains at and past the limit and oversized RSA material are processed', async () => {
      const dual = makeDeepSm2Dual(10);
      const overLimit = makeDeepChain('sm2', 11);
      const long = makeDeepChain('sm2', 80);
      const rsa = makeChain('rsa');
      const bigCert = rsaCertificateOfSize(16_384, rsa.intermediate) + rsa.intermediate.certPem;
      const uploads = [
        {
          what: 'an SM2 dual certificate, both chains at the limit',
          body: () => ({ algorithm_type: 'SM2', cert_content: dual.encChainPem, private_key: dual.encKey, cert_content_sign: dual.signChainPem, private_key_sign: dual.signKey }),
          expect: [200, undefined],
        },
        { what: 'an SM2 chain one past the limit', body: () => ({ cert_content: overLimit.chainPem, private_key: overLimit.key }), expect: [400, 'APIG.2012'] },
        { what: 'an SM2 chain of 80 links', body: () => ({ cert_content: long.chainPem, private_key: long.key }), expect: [400, 'APIG.2012'] },
        { what: 'a 65536-bit RSA key', body: () => ({ cert_content: rsa.chainPem, private_key: rsaPrivateKeyOfSize(65_536) }), expect: [400, 'APIG.2012'] },
        { what: 'a certificate for a 16384-bit RSA key', body: () => ({ cert_content: bigCert, private_key: rsa.key }), expect: [400, 'APIG.2012'] },
      ] as const;

      const poll = pollHealth(service.baseUrl);
      const started = performance.now();
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(uploads.map((u) => api.create({ name: certName('load'), ...u.body() })));
        results.forEach((res, i) => {
          assert.deepEqual([res.status, res.body.error_code], uploads[i]!.expect, `${uploads[i]!.what}: ${JSON.stringify(res.body)}`);
        });
      }
      const elapsed = performance.now() - started;
      const { longestGapMs, answers } = await poll.stop();
      console.log(`[${engine}] 15 uploads in ${elapsed.toFixed(0)} ms; /healthz answered ${answers} times, longest gap ${longestGapMs.toFixed(1)} ms`);
      assert.ok(answers >= 3, `the probe was answered ${answers} times`);
      assert.ok(longestGapMs < 1000, `/healthz went unanswered for ${longestGapMs.toFixed(0)} ms`);
    });
  });
}
