import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixedClock } from '../../src/kernel/clock.js';
import { apigClient, certName, countRows } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { makeChain, makeLeaf } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`APIG certificate management on ${engine}`, () => {
    const clock = fixedClock(new Date());
    let service: TestService;
    let alice: Awaited<ReturnType<typeof tenant>>;
    let bob: Awaited<ReturnType<typeof tenant>>;
    let api: ReturnType<typeof apigClient>;
    before(async () => {
      service = await startService(engine, { clock });
      alice = await tenant(service, 'alice');
      bob = await tenant(service, 'bob');
      api = apigClient(service, alice.projectId, alice.token);
    });
    after(() => service.stop());

    async function upload(alg: 'rsa' | 'p256', extra: Record<string, unknown> = {}) {
      const chain = makeChain(alg);
      const res = await api.create({ name: certName(alg), cert_content: chain.chainPem, private_key: chain.key, ...extra });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    }

    describe('authentication and tenancy', () => {
      it('answers a missing token with APIG.1000 and a wrong one with APIG.1002', async () => {
        const none = await apigClient(service, alice.projectId, undefined).list();
        assert.deepEqual([none.status, none.body.error_code], [401, 'APIG.1000']);
        const wrong = await apigClient(service, alice.projectId, 'cpt_not-a-token').list();
        assert.deepEqual([wrong.status, wrong.body.error_code], [401, 'APIG.1002']);
      });

      it('answers an expired token with APIG.1002', async () => {
        const { token } = await service.app.accounts.createToken(alice.accountId, 60_000);
        assert.equal((await apigClient(service, alice.projectId, token).list()).status, 200);
        clock.set(new Date(clock.now().getTime() + 61_000));
        const expired = await apigClient(service, alice.projectId, token).list();
        clock.set(new Date());
        assert.deepEqual([expired.status, expired.body.error_code], [401, 'APIG.1002']);
      });

      it("answers a token used on another account's project with APIG.1005", async () => {
        const res = await apigClient(service, alice.projectId, bob.token).list();
        assert.deepEqual([res.status, res.body.error_code], [403, 'APIG.1005']);
      });

      it("never shows one account another's certificate", async () => {
        const cert = await upload('p256');
        const bobApi = apigClient(service, bob.projectId, bob.token);
        for (const res of [
          await bobApi.show(String(cert.id)),
          await bobApi.update(String(cert.id), { name: 'stolen_name', cert_content: 'x', private_key: 'y' }),
          await bobApi.remove(String(cert.id)),
          await bobApi.attach(String(cert.id), [{ domain: 'a.example.com' }]),
        ]) {
          assert.deepEqual([res.status, res.body.error_code], [404, 'APIG.3021']);
        }
        const list = await bobApi.list();
        assert.equal(list.body.total, 0);
        assert.equal((await api.show(String(cert.id))).status, 200, 'still there for its owner');
      });

      it('does not let one account upload into another account\'s instance', async () => {
        const bobInstance = await service.app.accounts.createInstance(bob.accountId, 'bob-gw');
        const chain = makeChain('p256');
        const res = await api.create({
          name: certName('inst'),
          type: 'instance',
          instance_id: bobInstance.id,
          cert_content: chain.chainPem,
          private_key: chain.key,
        });
        assert.deepEqual([res.status, res.body.error_code], [404, 'APIG.3030']);
      });

      it('answers an unknown route with a JSON error', async () => {
        const res = await fetch(`${service.baseUrl}/v2/${alice.projectId}/apigw/nothing`, {
          headers: { 'x-auth-token': alice.token },
        });
        assert.equal(res.status, 404);
        assert.equal(((await res.json()) as { error_code: string }).error_code, 'APIG.0101');
      });
    });

    describe('list, show, update, delete', () => {
      let listApi: ReturnType<typeof apigClient>;
      const ids: string[] = [];
      before(async () => {
        const carol = await tenant(service, 'carol');
        listApi = apigClient(service, carol.projectId, carol.token);
        const instance = await service.app.accounts.createInstance(carol.accountId, 'carol-gw');
        for (let i = 0; i < 5; i++) {
          const chain = makeChain(i % 2 === 0 ? 'rsa' : 'p256');
          const extra = i === 4 ? { type: 'instance', instance_id: instance.id } : {};
          const res = await listApi.create({ name: `list_cert_${i}`, cert_content: chain.chainPem, private_key: chain.key, ...extra });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          ids.push(String(res.body.id));
          clock.set(new Date(clock.now().getTime() + 1000));
        }
        clock.set(new Date());
      });

      it('pages with offset and limit, newest first, and normalises limits', async () => {
        const page = await listApi.list('offset=1&limit=2');
        assert.equal(page.status, 200);
        assert.equal(page.body.total, 5);
        assert.equal(page.body.size, 2);
        const certs = page.body.certs as Array<Record<string, unknown>>;
        assert.deepEqual(certs.map((c) => c.id), [ids[3], ids[2]]);
        assert.deepEqual(Object.keys(certs[0]!).sort(), [
          'algorithm_type', 'common_name', 'create_time', 'expiry_status', 'id', 'instance_id', 'is_has_trusted_root_ca', 'name',
          'not_after', 'project_id', 'san', 'signature_algorithm', 'type', 'update_time',
        ]);
        assert.equal((await listApi.list('limit=0')).body.size, 5, 'limit 0 means the default 20');
        assert.equal((await listApi.list('offset=-3&limit=1')).body.size, 1);
        assert.equal((await listApi.list('limit=9999')).body.size, 5);
        const bad = await listApi.list('limit=ten');
        assert.deepEqual([bad.status, bad.body.error_code], [400, 'APIG.2012']);
      });

      it('filters by name, common name, type, instance, algorithm and signature algorithm', async () => {
        const count = async (q: string) => Number((await listApi.list(q)).body.total);
        assert.equal(await count('name=list_cert_3'), 1);
        assert.equal(await count('name=LIST_CERT'), 5, 'name matches as a case-insensitive substring');
        assert.equal(await count('name=%25'), 0, 'a % is taken literally');
        assert.equal(await count('algorithm_type=RSA'), 3);
        assert.equal(await count('algorithm_type=ECC'), 2);
        assert.equal(await count('signature_algorithm=SHA256-RSA'), 3);
        assert.equal(await count('type=instance'), 1);
        assert.equal(await count('type=global'), 4);
        assert.equal(await count('common_name=example.com'), 5);
        const bad = await listApi.list('type=regional');
        assert.deepEqual([bad.status, bad.body.error_code], [400, 'APIG.2012']);
      });

      it('matches a common name beyond ASCII case-insensitively, by its own text too', async () => {
        const dave = await tenant(service, 'dave');
        const daveApi = apigClient(service, dave.projectId, dave.token);
        const chain = makeChain('p256');
        const leaf = makeLeaf({ issuer: chain.intermediate, alg: 'p256', subject: '/O=Ärztekammer/CN=ÄRZTE Übersicht Ωmega', sans: ['DNS:aerzte.example.com'] });
        const res = await daveApi.create({ name: 'unicode_cert', cert_content: leaf.certPem + chain.intermediate.certPem, private_key: leaf.keyPem });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const count = async (cn: string) => Number((await daveApi.list(`common_name=${encodeURIComponent(cn)}`)).body.total);
        for (const text of ['ÄRZTE Übersicht Ωmega', 'ÄRZTE', 'ärzte', 'ÜBERSICHT', 'übersicht', 'ωMEGA', 'Ärzte ü']) {
          assert.equal(await count(text), 1, `common_name=${text}`);
        }
        assert.equal(await count('Ärztin'), 0);
        assert.equal(await count('ÄRZTE_'), 0, 'an _ is taken literally beyond ASCII too');
      });

      it('updates content and name, keeps the scope, and rejects a scope change', async () => {
        const cert = await upload('rsa');
        clock.set(new Date(clock.now().getTime() + 5000));
        const next = makeChain('p256');
        const updated = await api.update(String(cert.id), { name: certName('renamed'), cert_content: next.chainPem, private_key: next.key });
        clock.set(new Date());
        assert.equal(updated.status, 200, JSON.stringify(updated.body));
        assert.equal(updated.body.id, cert.id);
        assert.equal(updated.body.algorithm_type, 'ECC');
        assert.equal(updated.body.create_time, cert.create_time);
        assert.notEqual(updated.body.update_time, cert.update_time);
        assert.notEqual(updated.body.serial_number, cert.serial_number);
        const keys = await countRows(service, 'private_keys');
        const scope = await api.update(String(cert.id), { name: certName('x'), type: 'instance', cert_content: next.chainPem, private_key: next.key });
        assert.deepEqual([scope.status, scope.body.error_code], [400, 'APIG.2012']);
        const mismatch = await api.update(String(cert.id), { name: certName('x'), cert_content: next.chainPem, private_key: makeChain('rsa').key });
        assert.deepEqual([mismatch.status, mismatch.body.error_code], [400, 'APIG.2101']);
        assert.equal(await countRows(service, 'private_keys'), keys, 'an update replaces keys, a failed one adds none');
        const missing = await api.update('0'.repeat(32), { name: certName('x'), cert_content: next.chainPem, private_key: next.key });
        assert.deepEqual([missing.status, missing.body.error_code], [404, 'APIG.3021']);
      });

      it('deletes with 204, then the certificate is gone', async () => {
        const cert = await upload('p256');
        const keys = await countRows(service, 'private_keys');
        const res = await api.remove(String(cert.id));
        assert.equal(res.status, 204);
        assert.equal(await countRows(service, 'private_keys'), keys - 1, 'its key is deleted with it');
        const gone = await api.show(String(cert.id));
        assert.deepEqual([gone.status, gone.body.error_code], [404, 'APIG.3021']);
        const again = await api.remove(String(cert.id));
        assert.deepEqual([again.status, again.body.error_code], [404, 'APIG.3021']);
      });
    });

    describe('domains', () => {
      it('attaches covered domains, lists them, refuses deletion while bound, detaches', async () => {
        const chain = makeChain('rsa');
        const leaf = makeLeaf({ issuer: chain.intermediate, alg: 'p256', cn: 'api.example.org', sans: ['DNS:api.example.org', 'DNS:*.apps.example.org'] });
        const created = await api.create({ name: certName('dom'), cert_content: leaf.certPem + chain.intermediate.certPem, private_key: leaf.keyPem, trusted_root_ca: chain.root.certPem });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const id = String(created.body.id);

        const attach = await api.attach(id, [{ domain: 'API.example.org' }, { domain: 'shop.apps.example.org', verified_client_certificate_enabled: false }]);
        assert.equal(attach.status, 204, JSON.stringify(attach.body));
        const listed = await api.attached(id);
        assert.equal(listed.body.total, 2);
        const domains = listed.body.bound_domains as Array<Record<string, unknown>>;
        assert.deepEqual(domains.map((d) => [d.url_domain, d.verified_client_certificate_enabled]), [
          ['api.example.org', true],
          ['shop.apps.example.org', false],
        ]);
        assert.equal((await api.attached(id, 'url_domain=shop')).body.total, 1);

        const uncovered = await api.attach(id, [{ domain: 'deep.shop.apps.example.org' }]);
        assert.deepEqual([uncovered.status, uncovered.body.error_code], [400, 'APIG.2103']);
        const invalid = await api.attach(id, [{ domain: 'bad_domain!' }]);
        assert.deepEqual([invalid.status, invalid.body.error_code], [400, 'APIG.2012']);

        const other = makeLeaf({ issuer: chain.intermediate, alg: 'p256', cn: 'api.example.org' });
        const second = await api.create({ name: certName('dom2'), cert_content: other.certPem + chain.intermediate.certPem, private_key: other.keyPem });
        const clash = await api.attach(String(second.body.id), [{ domain: 'api.example.org' }]);
        assert.deepEqual([clash.status, clash.body.error_code], [400, 'APIG.2051']);

        const refused = await api.remove(id);
        assert.deepEqual([refused.status, refused.body.error_code], [409, 'APIG.3332']);
        assert.equal((await api.show(id)).status, 200);

        const notBound = await api.detach(id, [{ domain: 'www.example.org' }]);
        assert.deepEqual([notBound.status, notBound.body.error_code], [404, 'APIG.3097']);
        assert.equal((await api.detach(id, [{ domain: 'api.example.org' }, { domain: 'shop.apps.example.org' }])).status, 204);
        assert.equal((await api.attached(id)).body.total, 0);
        assert.equal((await api.remove(id)).status, 204);
      });
    });
  });
}
