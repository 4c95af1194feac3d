import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apigClient, certName, countRows } from '../support/apig.js';
import { auditOfRequest, refuseAuditOf } from '../support/audit.js';
import { ENGINES } from '../support/databases.js';
import { makeChain } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/** A fetch against the APIG routes that also returns the request id the server answered with. */
async function apig(service: TestService, projectId: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${service.baseUrl}/v2/${projectId}/apigw/certificates${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    requestId: res.headers.get('x-request-id') ?? '',
    body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
  };
}

for (const engine of ENGINES) {
  describe(`APIG writes in the audit log on ${engine}`, () => {
    let service: TestService;
    let alice: Awaited<ReturnType<typeof tenant>>;
    const chain = makeChain('p256');
    const form = (name: string) => ({ name, cert_content: chain.chainPem, private_key: chain.key });
    const call = (method: string, path: string, body?: unknown) => apig(service, alice.projectId, alice.token, method, path, body);

    before(async () => {
      service = await startService(engine);
      alice = await tenant(service, 'auditor');
    });
    after(() => service.stop());

    it('records each write with its action, the certificate it touched, who did it and the request id', async () => {
      const created = await call('POST', '', form(certName('audited')));
      assert.equal(created.status, 200);
      const id = String(created.body.id);
      const resource = `apig:cn-hangzhou:${alice.projectId}:certificate:${id}`;
      const steps = [
        { res: created, action: 'apig:certificate:create' },
        { res: await call('PUT', `/${id}`, form(certName('renamed'))), action: 'apig:certificate:update' },
        { res: await call('POST', `/${id}/domains/attach`, { domains: [{ domain: 'p256.example.com' }] }), action: 'apig:certificate:attach' },
        { res: await call('POST', `/${id}/domains/detach`, { domains: [{ domain: 'p256.example.com' }] }), action: 'apig:certificate:detach' },
        { res: await call('DELETE', `/${id}`), action: 'apig:certificate:delete' },
      ];
      for (const { res, action } of steps) {
        assert.ok(res.status < 300, `${action} answered ${res.status}`);
        const events = await auditOfRequest(service, alice.accountId, res.requestId);
        assert.equal(events.length, 1, `${action}: one event for the request`);
        assert.deepEqual(
          { action: events[0]!.action, resource: events[0]!.resource, outcome: events[0]!.outcome, actor: events[0]!.actor },
          { action, resource, outcome: 'success', actor: `token:${alice.tokenId}` },
        );
      }
    });

    it('records a refused write with its error code, and no read at all', async () => {
      const missing = await call('DELETE', '/0123456789abcdef0123456789abcdef');
      assert.equal(missing.status, 404);
      const [event] = await auditOfRequest(service, alice.accountId, missing.requestId);
      assert.equal(event?.outcome, 'certificate.not_found');
      assert.equal(event?.resource, `apig:cn-hangzhou:${alice.projectId}:certificate:0123456789abcdef0123456789abcdef`);

      const mismatch = await call('POST', '', { ...form(certName('mismatch')), private_key: makeChain('rsa').key });
      assert.equal(mismatch.status, 400);
      assert.equal((await auditOfRequest(service, alice.accountId, mismatch.requestId))[0]?.outcome, 'certificate.key_mismatch');

      const listed = await call('GET', '?limit=5');
      assert.equal(listed.status, 200);
      assert.deepEqual(await auditOfRequest(service, alice.accountId, listed.requestId), []);
    });

    it('makes no change when its audit row cannot be written', async () => {
      const kept = await call('POST', '', form(certName('kept')));
      const id = String(kept.body.id);
      assert.equal((await call('POST', `/${id}/domains/attach`, { domains: [{ domain: 'p256.example.com' }] })).status, 204);
      const before = { certificates: await countRows(service, 'certificates'), keys: await countRows(service, 'private_keys') };

      const attempts: Array<[string, () => ReturnType<typeof call>]> = [
        ['apig:certificate:create', () => call('POST', '', form(certName('never')))],
        ['apig:certificate:update', () => call('PUT', `/${id}`, form(certName('never_renamed')))],
        ['apig:certificate:detach', () => call('POST', `/${id}/domains/detach`, { domains: [{ domain: 'p256.example.com' }] })],
      ];
      for (const [action, attempt] of attempts) {
        const lift = await refuseAuditOf(service, action);
        try {
          const res = await attempt();
          assert.equal(res.status, 500, `${action} fails when its audit row is refused`);
        } finally {
          await lift();
        }
      }
      assert.deepEqual(
        { certificates: await countRows(service, 'certificates'), keys: await countRows(service, 'private_keys') },
        before,
        'no certificate or key was added or replaced',
      );
      const still = await call('GET', `/${id}`);
      assert.equal(still.body.name, kept.body.name, 'the update did not happen');
      const bound = await call('GET', `/${id}/attached-domains`);
      assert.equal(bound.body.total, 1, 'the detach did not happen');

      // Attach and delete: unbind first (audited normally), then refuse the next writes.
      assert.equal((await call('POST', `/${id}/domains/detach`, { domains: [{ domain: 'p256.example.com' }] })).status, 204);
      for (const [action, attempt] of [
        ['apig:certificate:attach', () => call('POST', `/${id}/domains/attach`, { domains: [{ domain: 'p256.example.com' }] })],
        ['apig:certificate:delete', () => call('DELETE', `/${id}`)],
      ] as const) {
        const lift = await refuseAuditOf(service, action);
        try {
          assert.equal((await attempt()).status, 500, `${action} fails when its audit row is refused`);
        } finally {
          await lift();
        }
      }
      assert.equal((await call('GET', `/${id}/attached-domains`)).body.total, 0, 'the attach did not happen');
      assert.equal((await call('GET', `/${id}`)).status, 200, 'the delete did not happen');
    });

    it('detaches all of a list or none of it', async () => {
      const cert = await call('POST', '', form(certName('partial')));
      const id = String(cert.body.id);
      const api = apigClient(service, alice.projectId, alice.token);
      assert.equal((await api.attach(id, [{ domain: 'p256.example.com' }])).status, 204);
      const res = await api.detach(id, [{ domain: 'p256.example.com' }, { domain: 'other.example.com' }]);
      assert.equal(res.status, 404);
      assert.equal(res.body.error_code, 'APIG.3097');
      assert.equal((await api.attached(id)).body.total, 1, 'the bound domain is still bound');
    });
  });
}
