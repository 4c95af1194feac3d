import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/config/config.js';
import { rpcErrorResponse } from '../../src/http/aliyun-rpc/errors.js';
import { limitExceeded } from '../../src/kernel/limits.js';
import { apigClient, certName, countRows } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { makeDeepChain, rsaCertificateOfSize, rsaPrivateKeyOfSize } from '../support/hostile.js';
import { makeChain, makeLeaf, openssl } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

const rsa1024 = () => openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);

for (const engine of ENGINES) {
  describe(`input limits on ${engine}`, () => {
    let service: TestService;
    let api: ReturnType<typeof apigClient>;
    before(async () => {
      service = await startService(engine);
      const t = await tenant(service);
      api = apigClient(service, t.projectId, t.token);
    });
    after(() => service.stop());

    /** Refused with APIG.2012, naming the field and the setting, and nothing stored. */
    async function assertRefused(body: Record<string, unknown>, field: string, setting: string): Promise<void> {
      const before = [await countRows(service, 'certificates'), await countRows(service, 'private_keys')];
      const res = await api.create({ name: certName('limit'), ...body });
      assert.deepEqual([res.status, res.body.error_code], [400, 'APIG.2012'], JSON.stringify(res.body));
      assert.match(String(res.body.error_msg), new RegExp(`parameterName:${field}\\b`));
      assert.ok(String(res.body.error_msg).includes(`(limits.${setting})`), String(res.body.error_msg));
      assert.deepEqual([await countRows(service, 'certificates'), await countRows(service, 'private_keys')], before);
    }

    it('certificates in a chain: 10 accepted, 11 refused, in the chain and in trusted_root_ca', async () => {
      assert.equal(DEFAULT_LIMITS.chainCertificates, 10);
      const atLimit = makeDeepChain('p256', 10);
      const ok = await api.create({ name: certName('ten'), cert_content: atLimit.chainPem, private_key: atLimit.key });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const over = makeDeepChain('p256', 11);
      await assertRefused({ cert_content: over.chainPem, private_key: over.key }, 'cert_content', 'chainCertificates');
      const p256 = makeChain('p256');
      const roots = p256.root.certPem.repeat(11);
      await assertRefused({ cert_content: p256.chainPem, private_key: p256.key, trusted_root_ca: roots }, 'trusted_root_ca', 'chainCertificates');
    });

    it('RSA key size: 2048 to 8192 bits, for certificates and keys', async () => {
      const rsa = makeChain('rsa');
      const smallKey = rsa1024();
      const smallLeaf = makeLeaf({ issuer: rsa.intermediate, alg: 'rsa', keyPem: smallKey });
      await assertRefused({ cert_content: smallLeaf.certPem + rsa.intermediate.certPem, private_key: smallKey }, 'cert_content', 'rsaMinBits');
      await assertRefused({ cert_content: rsa.chainPem, private_key: smallKey }, 'private_key', 'rsaMinBits');
      const bigCert = rsaCertificateOfSize(8192 + 64, rsa.intermediate);
      await assertRefused({ cert_content: bigCert + rsa.intermediate.certPem, private_key: rsa.key }, 'cert_content', 'rsaMaxBits');
      await assertRefused({ cert_content: rsa.chainPem, private_key: rsaPrivateKeyOfSize(65_536) }, 'private_key', 'rsaMaxBits');
    });

    it('characters per PEM field: at the limit accepted, one more refused', async () => {
      const chain = makeChain('p256');
      const limit = DEFAULT_LIMITS.pemCharacters;
      const atLimit = await api.create({ name: certName('pem'), cert_content: chain.chainPem.padEnd(limit, '\n'), private_key: chain.key });
      assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body));
      await assertRefused({ cert_content: chain.chainPem.padEnd(limit + 1, '\n'), private_key: chain.key }, 'cert_content', 'pemCharacters');
      await assertRefused({ cert_content: chain.chainPem, private_key: chain.key.padEnd(limit + 1, '\n') }, 'private_key', 'pemCharacters');
    });

    it('Domains entries: the limit is not what refuses 100, 101 are refused on attach and detach', async () => {
      const chain = makeChain('p256');
      const cert = await api.create({ name: certName('domains'), cert_content: chain.chainPem, private_key: chain.key });
      const id = String(cert.body.id);
      const domains = (n: number) => Array.from({ length: n }, (_, i) => ({ domain: `d${i}.example.com` }));
      const hundred = await api.attach(id, domains(100));
      assert.deepEqual([hundred.status, hundred.body.error_code], [400, 'APIG.2103'], 'refused for what the certificate covers, not for the count');
      for (const res of [await api.attach(id, domains(101)), await api.detach(id, domains(101))]) {
        assert.deepEqual([res.status, res.body.error_code], [400, 'APIG.2012'], JSON.stringify(res.body));
        assert.match(String(res.body.error_msg), /parameterName:domains\b.*\(limits\.domains\)/);
      }
      assert.equal(await countRows(service, 'certificate_domains'), 0);
    });
  });
}

describe('input limits set in the configuration', () => {
  let service: TestService;
  let api: ReturnType<typeof apigClient>;
  before(async () => {
    const limits = { ...DEFAULT_LIMITS, chainCertificates: 1, rsaMaxBits: 2048, pemCharacters: 4096, domains: 1 };
    service = await startService('sqlite', { config: { limits } });
    const t = await tenant(service);
    api = apigClient(service, t.projectId, t.token);
  });
  after(() => service.stop());

  it('applies the operator’s values and names them', async () => {
    const p256 = makeChain('p256');
    const two = await api.create({ name: certName('cfg'), cert_content: p256.chainPem, private_key: p256.key });
    assert.match(String(two.body.error_msg), /holds 2 certificates, more than the 1 accepted \(limits\.chainCertificates\)/);
    const one = await api.create({ name: certName('cfg'), cert_content: p256.leaf.certPem, private_key: p256.key });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    const big = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']);
    const leaf = makeLeaf({ issuer: makeChain('rsa').intermediate, alg: 'rsa', keyPem: big });
    const rsa = await api.create({ name: certName('cfg'), cert_content: leaf.certPem, private_key: big });
    assert.match(String(rsa.body.error_msg), /3072-bit RSA key, larger than the 2048 bits accepted \(limits\.rsaMaxBits\)/);
    const padded = await api.create({ name: certName('cfg'), cert_content: p256.leaf.certPem.padEnd(4097, '\n'), private_key: p256.key });
    assert.match(String(padded.body.error_msg), /4097 characters long, more than the 4096 accepted \(limits\.pemCharacters\)/);
    const id = String(one.body.id);
    const attach = await api.attach(id, [{ domain: 'p256.example.com' }, { domain: 'www.p256.example.com' }]);
    assert.match(String(attach.body.error_msg), /holds 2 entries, more than the 1 accepted \(limits\.domains\)/);
    assert.equal((await api.attach(id, [{ domain: 'p256.example.com' }])).status, 204);
  });

  it('reads in the RPC dialect as InvalidParameter.<Parameter>, naming the setting', () => {
    const rpc = rpcErrorResponse(limitExceeded('domains', 'holds 2 entries, more than the 1 accepted', 'domains'), 'req-1');
    assert.deepEqual([rpc.status, rpc.body.Code], [400, 'InvalidParameter.Domains']);
    assert.match(String(rpc.body.Message), /\(limits\.domains\)/);
  });
});
