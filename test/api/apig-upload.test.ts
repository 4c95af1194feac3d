import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AesGcmSealer } from '../../src/adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from '../../src/adapters/crypto/master-key.js';
import { apigClient, certName, countRows } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import {
  convertKey,
  encryptKey,
  generateKey,
  inspectCert,
  makeChain,
  makeLeaf,
  makeSm2DualPair,
  toDer,
  type KeyAlg,
} from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/** openssl's signature algorithm names → the Go-style names the APIG dialect returns. */
const GO_SIGNATURE_NAMES: Record<string, string> = {
  sha256WithRSAEncryption: 'SHA256-RSA',
  'ecdsa-with-SHA256': 'ECDSA-SHA256',
  'ecdsa-with-SHA384': 'ECDSA-SHA384',
  ED25519: 'Ed25519',
  'SM2-with-SM3': 'SM2-SM3',
};

/** `O=a,CN=b` (RFC 2253, as openssl prints it) → the values of one attribute, in certificate order. */
function rdnValues(rfc2253: string, attribute: string): string[] {
  return rfc2253
    .split(/(?<!\\),/)
    .map((part) => part.split('='))
    .filter(([key]) => key === attribute)
    .map(([, value]) => value!.replace(/\\(.)/g, '$1'))
    .reverse();
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Every response field against what openssl says of the same certificate. */
function assertMatchesOpenssl(body: Record<string, unknown>, leafPem: string, algorithmType: string): void {
  const view = inspectCert(leafPem);
  assert.equal(body.common_name, rdnValues(view.subject, 'CN')[0] ?? '');
  const sans = view.subjectAltName.map((s) => s.replace(/^DNS:/, '').replace(/^IP Address:/, ''));
  assert.deepEqual(body.san, sans);
  assert.equal(body.not_before, isoSeconds(view.notBefore));
  assert.equal(body.not_after, isoSeconds(view.notAfter));
  assert.equal(body.serial_number, BigInt(`0x${view.serialHex}`).toString(10));
  assert.equal(body.signature_algorithm, GO_SIGNATURE_NAMES[view.signatureAlgorithm] ?? view.signatureAlgorithm);
  assert.equal(body.version, view.version);
  assert.deepEqual(body.organization, rdnValues(view.subject, 'O'));
  assert.deepEqual(body.organizational_unit, rdnValues(view.subject, 'OU'));
  assert.deepEqual(body.locality, rdnValues(view.subject, 'L'));
  assert.deepEqual(body.state, rdnValues(view.subject, 'ST'));
  assert.deepEqual(body.country, rdnValues(view.subject, 'C'));
  const issuerOrg = rdnValues(view.issuer, 'O');
  assert.deepEqual(body.issuer, issuerOrg.length > 0 ? issuerOrg : rdnValues(view.issuer, 'CN'));
  assert.equal(body.algorithm_type, algorithmType);
  assert.match(String(body.create_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(body.create_time, body.update_time);
}

for (const engine of ENGINES) {
  describe(`APIG CreateCertificateV2 on ${engine}`, () => {
    let service: TestService;
    let api: ReturnType<typeof apigClient>;
    let projectId: string;
    before(async () => {
      service = await startService(engine, { config: { bodyLimitBytes: 256 * 1024 } });
      const t = await tenant(service);
      projectId = t.projectId;
      api = apigClient(service, t.projectId, t.token);
    });
    after(() => service.stop());

    const cases: Array<[KeyAlg, string]> = [
      ['rsa', 'RSA'],
      ['p256', 'ECC'],
      ['p384', 'ECC'],
      ['ed25519', 'ECC'],
    ];
    for (const [alg, algorithmType] of cases) {
      it(`uploads a ${alg} chain and reports every field as openssl reads it`, async () => {
        const chain = makeChain(alg);
        const name = certName(alg);
        const res = await api.create({ name, cert_content: chain.chainPem, private_key: chain.key });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assertMatchesOpenssl(res.body, chain.leaf.certPem, algorithmType);
        assert.equal(res.body.name, name);
        assert.equal(res.body.type, 'global');
        assert.equal(res.body.instance_id, 'common');
        assert.equal(res.body.project_id, projectId);
        assert.equal(res.body.is_has_trusted_root_ca, false);
        assert.match(String(res.body.id), /^[0-9a-f]{32}$/);
        assert.ok(!JSON.stringify(res.body).includes('PRIVATE KEY'));
        const shown = await api.show(String(res.body.id));
        assert.deepEqual(shown.body, res.body);
      });
    }

    it('reads a subject with Chinese organisation names and several SAN kinds', async () => {
      const ca = makeChain('rsa').intermediate;
      const leaf = makeLeaf({
        issuer: ca,
        alg: 'p256',
        subject: '/C=CN/ST=浙江/L=杭州/O=测试公司/OU=运维/CN=shop.example.cn',
        sans: ['DNS:shop.example.cn', 'DNS:*.shop.example.cn', 'IP:10.1.2.3'],
      });
      const res = await api.create({
        name: certName('zh'),
        cert_content: leaf.certPem + ca.certPem,
        private_key: leaf.keyPem,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertMatchesOpenssl(res.body, leaf.certPem, 'ECC');
      assert.deepEqual(res.body.organization, ['测试公司']);
      assert.deepEqual(res.body.san, ['shop.example.cn', '*.shop.example.cn', '10.1.2.3']);
    });

    it('accepts a name of Chinese characters and keeps private keys sealed but recoverable', async () => {
      const chain = makeChain('rsa');
      const res = await api.create({ name: '证书测试一', cert_content: chain.chainPem, private_key: chain.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const row = await service.app.database.db
        .selectFrom('certificates')
        .innerJoin('private_keys', 'private_keys.id', 'certificates.key_id')
        .select(['private_keys.id as keyId', 'private_keys.sealed as sealed'])
        .where('certificates.id', '=', String(res.body.id))
        .executeTakeFirstOrThrow();
      assert.ok(!row.sealed.includes('PRIVATE KEY'));
      const sealer = new AesGcmSealer(loadMasterKeys([], service.testDb.dataDir));
      assert.equal(sealer.open(row.sealed, `private_key:${row.keyId}`).trim(), chain.key.trim());
    });

    it('uploads an SM2 dual certificate (encryption pair + signing pair)', async () => {
      const dual = makeSm2DualPair();
      const res = await api.create({
        name: certName('sm2'),
        algorithm_type: 'SM2',
        cert_content: dual.encChainPem,
        private_key: dual.enc.keyPem,
        cert_content_sign: dual.signChainPem,
        private_key_sign: dual.sign.keyPem,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertMatchesOpenssl(res.body, dual.enc.certPem, 'SM2');
    });

    it('uploads for a gateway instance, and shows a trusted root CA', async () => {
      const instance = await service.app.accounts.createInstance(await accountOf(service, projectId), 'gw');
      const chain = makeChain('p256');
      const res = await api.create({
        name: certName('inst'),
        type: 'instance',
        instance_id: instance.id,
        cert_content: chain.chainPem,
        private_key: chain.key,
        trusted_root_ca: chain.root.certPem,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.type, 'instance');
      assert.equal(res.body.instance_id, instance.id);
      assert.equal(res.body.is_has_trusted_root_ca, true);
    });

    describe('rejects bad input with its documented code and stores nothing', () => {
      const rsa = () => makeChain('rsa');
      const bad: Array<[string, () => Record<string, unknown>, number, string]> = [
        ['unparsable PEM', () => ({ cert_content: 'hello, certificate', private_key: rsa().key }), 400, 'APIG.2106'],
        ['DER bytes', () => ({ cert_content: toDer(rsa().leaf.certPem).toString('latin1'), private_key: rsa().key }), 400, 'APIG.2106'],
        ['DER as bare base64', () => ({ cert_content: toDer(rsa().leaf.certPem).toString('base64'), private_key: rsa().key }), 400, 'APIG.2106'],
        ['a certificate without SAN', () => {
          const leaf = makeLeaf({ issuer: rsa().intermediate, alg: 'rsa', cn: 'nosan.example.com', sans: [] });
          return { cert_content: leaf.certPem + rsa().intermediate.certPem, private_key: leaf.keyPem };
        }, 400, 'APIG.2109'],
        ['a key that does not match', () => ({ cert_content: rsa().chainPem, private_key: generateKey('rsa') }), 400, 'APIG.2101'],
        ['a key of another algorithm', () => ({ cert_content: rsa().chainPem, private_key: makeChain('p256').key }), 400, 'APIG.2101'],
        ['an expired certificate', () => {
          const leaf = makeLeaf({ issuer: rsa().intermediate, alg: 'rsa', expired: true });
          return { cert_content: leaf.certPem + rsa().intermediate.certPem, private_key: leaf.keyPem };
        }, 400, 'APIG.2102'],
        ['a chain out of order', () => ({ cert_content: rsa().intermediate.certPem + rsa().leaf.certPem, private_key: rsa().key }), 400, 'APIG.2104'],
        ['a subjectAltName holding NUL (the null-prefix trick)', () => {
          // GeneralNames { dNSName "www.bank.example\0.evil.example" }, as raw DER: openssl's SAN syntax cannot write a NUL.
          const dnsName = Buffer.from('www.bank.example\u0000.evil.example', 'latin1');
          const san = Buffer.concat([Buffer.from([0x30, dnsName.length + 2, 0x82, dnsName.length]), dnsName]).toString('hex');
          const leaf = makeLeaf({ issuer: rsa().intermediate, alg: 'rsa', cn: 'www.bank.example', sans: [], moreExtensions: [`2.5.29.17=DER:${san}`] });
          return { cert_content: leaf.certPem + rsa().intermediate.certPem, private_key: leaf.keyPem };
        }, 400, 'APIG.2106'],
        ['a chain with a foreign intermediate', () => ({ cert_content: rsa().leaf.certPem + makeChain('p256').intermediate.certPem, private_key: rsa().key }), 400, 'APIG.2104'],
        ['an encrypted PKCS#8 key', () => ({ cert_content: rsa().chainPem, private_key: encryptKey(rsa().key, 'pkcs8') }), 400, 'APIG.2105'],
        ['an encrypted legacy PEM key', () => ({ cert_content: rsa().chainPem, private_key: encryptKey(rsa().key, 'legacy') }), 400, 'APIG.2105'],
        ['a garbage key', () => ({ cert_content: rsa().chainPem, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), 400, 'APIG.2106'],
        ['algorithm_type not matching the key', () => ({ cert_content: rsa().chainPem, private_key: rsa().key, algorithm_type: 'ECC' }), 400, 'APIG.2012'],
        ['an unknown algorithm_type', () => ({ cert_content: rsa().chainPem, private_key: rsa().key, algorithm_type: 'DSA' }), 400, 'APIG.2012'],
        ['SM2 without the signing pair', () => {
          const dual = makeSm2DualPair();
          return { algorithm_type: 'SM2', cert_content: dual.encChainPem, private_key: dual.enc.keyPem };
        }, 400, 'APIG.2001'],
        ['SM2 signing pair that does not match', () => {
          const dual = makeSm2DualPair();
          return { algorithm_type: 'SM2', cert_content: dual.encChainPem, private_key: dual.enc.keyPem, cert_content_sign: dual.signChainPem, private_key_sign: dual.enc.keyPem };
        }, 400, 'APIG.2101'],
        ['a signing pair on a non-SM2 certificate', () => ({ cert_content: rsa().chainPem, private_key: rsa().key, cert_content_sign: rsa().chainPem, private_key_sign: rsa().key }), 400, 'APIG.2012'],
        ['a name as a number', () => ({ name: 12345, cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['cert_content as an object', () => ({ cert_content: { pem: 'x' }, private_key: rsa().key }), 400, 'APIG.2012'],
        ['a missing private_key', () => ({ cert_content: rsa().chainPem }), 400, 'APIG.2001'],
        ['a name too short', () => ({ name: 'abc', cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['a name starting with a digit', () => ({ name: '1cert', cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['a name with a hyphen', () => ({ name: 'my-cert', cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['a name of 51 characters', () => ({ name: `a${'b'.repeat(50)}`, cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['type instance without instance_id', () => ({ type: 'instance', cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2001'],
        ['an unknown instance', () => ({ type: 'instance', instance_id: 'f0fa17893b76433ba7879892951c620e', cert_content: rsa().chainPem, private_key: rsa().key }), 404, 'APIG.3030'],
        ['an unknown type', () => ({ type: 'regional', cert_content: rsa().chainPem, private_key: rsa().key }), 400, 'APIG.2012'],
        ['a trusted_root_ca that is not a CA', () => ({ cert_content: rsa().chainPem, private_key: rsa().key, trusted_root_ca: rsa().leaf.certPem }), 400, 'APIG.2012'],
        ['a cert_content_sign over 8092 characters', () => {
          const dual = makeSm2DualPair();
          return { algorithm_type: 'SM2', cert_content: dual.encChainPem, private_key: dual.enc.keyPem, cert_content_sign: dual.signChainPem.padEnd(8093, '\n'), private_key_sign: dual.sign.keyPem };
        }, 400, 'APIG.2012'],
      ];
      for (const [what, body, status, code] of bad) {
        it(what, async () => {
          const before = [await countRows(service, 'certificates'), await countRows(service, 'private_keys')];
          const res = await api.create({ name: certName('bad'), ...body() });
          assert.equal(res.status, status, JSON.stringify(res.body));
          assert.equal(res.body.error_code, code, JSON.stringify(res.body));
          assert.ok(String(res.body.error_msg).length > 0);
          assert.deepEqual([await countRows(service, 'certificates'), await countRows(service, 'private_keys')], before);
        });
      }

      it('a duplicate name', async () => {
        const chain = makeChain('p256');
        const name = certName('dup');
        assert.equal((await api.create({ name, cert_content: chain.chainPem, private_key: chain.key })).status, 200);
        const before = await countRows(service, 'private_keys');
        const res = await api.create({ name, cert_content: chain.chainPem, private_key: chain.key });
        assert.equal(res.status, 409);
        assert.equal(res.body.error_code, 'APIG.3331');
        assert.equal(await countRows(service, 'private_keys'), before);
      });

      it('the same name uploaded five times at once: exactly one wins', async () => {
        const chain = makeChain('rsa');
        const name = certName('race');
        const before = [await countRows(service, 'certificates'), await countRows(service, 'private_keys')];
        const results = await Promise.all(
          Array.from({ length: 5 }, () => api.create({ name, cert_content: chain.chainPem, private_key: chain.key })),
        );
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409, 409, 409]);
        assert.deepEqual([await countRows(service, 'certificates'), await countRows(service, 'private_keys')], [before[0]! + 1, before[1]! + 1]);
      });

      it('a body over the size limit, and a body that is not JSON', async () => {
        const big = await api.create({ name: certName('big'), cert_content: 'x'.repeat(300 * 1024), private_key: 'y' });
        assert.equal(big.status, 413);
        assert.equal(big.body.error_code, 'APIG.2000');
        const broken = await api.createRaw('{"name": "abcd", ');
        assert.equal(broken.status, 400);
        assert.equal(broken.body.error_code, 'APIG.2000');
        const array = await api.createRaw('[1,2]');
        assert.equal(array.status, 400);
        assert.equal(array.body.error_code, 'APIG.2000');
      });

      it('a SM2 key in PKCS#8 and SEC1 both match; a PKCS#1 RSA key matches', async () => {
        const chain = makeChain('rsa');
        const pkcs1 = convertKey(chain.key, 'pkcs1');
        assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
        const res = await api.create({ name: certName('pkcs1'), cert_content: chain.chainPem, private_key: pkcs1 });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const ec = makeChain('p256');
        const sec1 = convertKey(ec.key, 'sec1');
        assert.match(sec1, /BEGIN EC PRIVATE KEY/);
        const res2 = await api.create({ name: certName('sec1'), cert_content: ec.chainPem, private_key: sec1 });
        assert.equal(res2.status, 200, JSON.stringify(res2.body));
      });
    });

    it('stores no private key in clear text anywhere in the database', async () => {
      const haystack = dumpDatabase(service);
      assert.ok(haystack.length > 1000, 'the dump holds the uploaded certificates');
      assert.ok(haystack.includes('BEGIN CERTIFICATE'));
      assert.ok(!haystack.includes('PRIVATE KEY'), 'found PRIVATE KEY in the database');
    });
  });
}

async function accountOf(service: TestService, projectId: string): Promise<string> {
  const row = await service.app.database.db
    .selectFrom('accounts')
    .select('id')
    .where('project_id', '=', projectId)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The whole database as text: the SQLite file with its WAL, or a pg_dump. */
function dumpDatabase(service: TestService): string {
  const db = service.testDb.database;
  if (db.kind === 'sqlite') {
    return [db.file, `${db.file}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
  }
  return execFileSync('pg_dump', ['--no-owner', db.url], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}
