/**
 * The issuance store on SQLite and PostgreSQL: state moves only from the state read, cleanup in
 * the same transaction (removal jobs once per record, tokens dropped), an ACME account per owner
 * decided by its unique key under a race, a generated key attached once, http-01 tokens served
 * until they expire, and the owner's cancel.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AesGcmSealer } from '../../src/adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from '../../src/adapters/crypto/master-key.js';
import { resealAll } from '../../src/adapters/db/reseal.js';
import { acmeAccountKeyContext } from '../../src/core/issuance/ports.js';
import { insertIssuanceWith } from '../../src/adapters/db/issuance-rows.js';
import { SqlIssuanceStore } from '../../src/adapters/db/issuance-store.js';
import type { AuthorizationProgress } from '../../src/core/issuance/model.js';
import { removeDnsRecordJob } from '../../src/jobs/remove-dns-record.js';
import { randomIds } from '../../src/kernel/ids.js';
import { compose, type App } from '../../src/main.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { testConfig } from '../support/service.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const hex = () => randomBytes(16).toString('hex');

const handle = (value: string) => ({ provider: 'rfc2136', record: { name: '_acme-challenge.example.com', type: 'TXT' as const, value, ttl: 60 }, detail: { zone: 'example.com' } });
const authz = (n: number, extra: Partial<AuthorizationProgress> = {}): AuthorizationProgress => ({
  url: `https://ca.test/authz/${n}`,
  domain: `n${n}.example.com`,
  status: 'pending',
  challengeType: 'dns-01',
  challengeUrl: `https://ca.test/chall/${n}`,
  token: `t${n}`,
  ...extra,
});

for (const engine of ENGINES) {
  describe(`issuance store on ${engine}`, () => {
    let testDb: TestDatabase;
    let app: App;
    let store: SqlIssuanceStore;
    let accountId: string;

    before(async () => {
      testDb = await createTestDatabase(engine);
      app = await compose(testConfig(testDb), { logger: pino({ level: 'silent' }) });
      store = new SqlIssuanceStore(app.database.db, randomIds);
      accountId = (await app.accounts.createAccount('store')).id;
    });
    after(async () => {
      await app?.close();
      await testDb?.drop();
    });

    async function newIssuance(): Promise<string> {
      const id = hex();
      await insertIssuanceWith(app.database.db, { id, accountId, profile: 'lets_encrypt', identifiers: ['example.com'], challengeType: 'dns-01', placement: 'certplane' }, T0, hex());
      return id;
    }
    const jobsFor = (id: string) =>
      app.database.db.selectFrom('jobs').select(['name', 'idempotency_key', 'payload']).where('idempotency_key', 'like', `dns01.remove:${id}:%`).orderBy('idempotency_key').execute();

    it('moves the state only from the state it was read in, storing what the step learnt', async () => {
      const id = await newIssuance();
      assert.equal(await store.advance(id, 'ordered', 'validating', {}, later(1)), false, 'not in ordered');
      assert.equal(await store.advance(id, 'queued', 'ordered', { orderUrl: 'https://ca.test/order/1', authorizations: [authz(1)] }, later(2)), true);
      assert.equal(await store.advance(id, 'queued', 'ordered', { orderUrl: 'https://ca.test/order/2' }, later(3)), false, 'a second run cannot order again');
      const issuance = (await store.find(id))!;
      assert.deepEqual([issuance.state, issuance.orderUrl, issuance.updatedAt], ['ordered', 'https://ca.test/order/1', later(2)]);
      assert.deepEqual(issuance.authorizations, [authz(1)]);
      assert.equal(await store.find('missing'), undefined);
    });

    it('ends an issuance with its cleanup in one transaction: a removal job per record, once, and the tokens dropped', async () => {
      const id = await newIssuance();
      const progress = [authz(1, { dnsHandle: handle('v1') }), authz(2, { dnsHandle: handle('v2') }), authz(3)];
      await store.advance(id, 'queued', 'ordered', { orderUrl: 'https://ca.test/order/9', authorizations: progress }, T0);
      await store.putHttp01Tokens(id, [{ token: `tok-${id}`, keyAuthorization: 'ka', domain: 'example.com', expiresAt: later(60_000) }], T0);
      const cleanup = { jobs: progress.filter((p) => p.dnsHandle).map((p) => removeDnsRecordJob(p.dnsHandle as never, `dns01.remove:${id}:${p.url}`)), dropHttp01Tokens: true };
      // Not in the state named: nothing happens, cleanup included.
      assert.equal(await store.finish(id, ['validating'], { state: 'invalid', errorCode: 'x', errorDetail: 'y' }, later(1), cleanup), false);
      assert.equal((await jobsFor(id)).length, 0);
      assert.equal(await store.keyAuthorization(`tok-${id}`, later(1)), 'ka');
      assert.equal(await store.finish(id, ['ordered'], { state: 'invalid', errorCode: 'unauthorized', errorDetail: 'n1.example.com: wrong' }, later(2), cleanup), true);
      const ended = (await store.find(id))!;
      assert.deepEqual([ended.state, ended.errorCode, ended.errorDetail, ended.finishedAt], ['invalid', 'unauthorized', 'n1.example.com: wrong', later(2)]);
      const jobs = await jobsFor(id);
      assert.deepEqual(jobs.map((j) => [j.name, JSON.parse(j.payload).record.value]), [['dns01.remove-record', 'v1'], ['dns01.remove-record', 'v2']]);
      assert.equal(await store.keyAuthorization(`tok-${id}`, later(3)), undefined, 'the token is no longer served');
      await store.cleanUp(id, cleanup, later(4));
      assert.equal((await jobsFor(id)).length, 2, 'asking again queues nothing new');
    });

    it('stores a valid issuance\'s facts', async () => {
      const id = await newIssuance();
      await store.advance(id, 'queued', 'finalizing', { orderUrl: 'https://ca.test/order/3' }, T0);
      const issued = {
        chainPem: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n',
        commonName: 'example.com',
        san: 'example.com,www.example.com',
        serialNumber: '0a1b',
        fingerprintSha256: 'ab'.repeat(32),
        issuer: 'Test CA',
        issuerCn: 'Test CA R1',
        publicKeyAlgorithm: 'ECDSA',
        signatureAlgorithm: 'ECDSA-SHA384',
        notBefore: later(-1000),
        notAfter: later(90 * 86_400_000),
      };
      assert.equal(await store.finish(id, ['finalizing'], { state: 'valid', issued }, later(5), { jobs: [], dropHttp01Tokens: true }), true);
      const valid = (await store.find(id))!;
      assert.deepEqual([valid.state, valid.issued, valid.errorCode], ['valid', issued, undefined]);
    });

    it('keeps one ACME account per (account, profile, directory): of two racing inserts, both get the winner\'s row', async () => {
      const mine = { accountId, profile: 'lets_encrypt', directoryUrl: `https://ca.test/${hex()}/dir`, accountUrl: undefined };
      const racer = () => {
        const id = hex();
        return store.insertAcmeAccount({ ...mine, id, keySealed: app.sealer.seal(`key of ${id}`, acmeAccountKeyContext(id)) }, T0);
      };
      const [first, second] = await Promise.all([racer(), racer()]);
      assert.deepEqual(first, second);
      assert.equal(await store.findAcmeAccountFor(accountId, 'lets_encrypt', `${mine.directoryUrl}x`), undefined, 'another directory is another account');
      await store.setAcmeAccountUrl(first.id, 'https://ca.test/acct/7', later(1));
      assert.equal((await store.findAcmeAccount(first.id))!.accountUrl, 'https://ca.test/acct/7');
      const count = await app.database.db.selectFrom('acme_accounts').select((eb) => eb.fn.countAll().as('n')).where('directory_url', '=', mine.directoryUrl).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
    });

    it('a master-key rotation reseals ACME account keys: afterwards they open under the new key alone', async () => {
      const id = hex();
      const context = acmeAccountKeyContext(id);
      await store.insertAcmeAccount({ id, accountId, profile: 'rotation', directoryUrl: 'https://ca.test/dir', keySealed: app.sealer.seal('account key pem', context), accountUrl: undefined }, T0);
      const oldKey = readFileSync(join(testDb.dataDir, 'master.key'), 'utf8').trim();
      const newKey = randomBytes(32).toString('base64');
      await resealAll(app.database.db, new AesGcmSealer(loadMasterKeys([newKey, oldKey], testDb.dataDir)), later(1));
      const resealed = (await store.findAcmeAccount(id))!.keySealed;
      assert.equal(new AesGcmSealer(loadMasterKeys([newKey], testDb.dataDir)).open(resealed, context), 'account key pem');
    });

    it('attaches a generated key once: a second run\'s key is not stored and the first one is returned', async () => {
      const id = await newIssuance();
      const [k1, k2] = [hex(), hex()];
      const results = await Promise.all([
        store.attachKey(id, { id: k1, algorithm: 'EC', sealed: 'sealed-k1' }, T0),
        store.attachKey(id, { id: k2, algorithm: 'EC', sealed: 'sealed-k2' }, T0),
      ]);
      assert.equal(results[0], results[1]);
      const winner = results[0];
      assert.equal((await store.find(id))!.keyId, winner);
      const loser = winner === k1 ? k2 : k1;
      assert.equal(await store.sealedKey(loser), undefined, 'the loser\'s key row was rolled back');
      assert.equal(await store.sealedKey(winner), winner === k1 ? 'sealed-k1' : 'sealed-k2');
    });

    it('serves an http-01 token until it expires; a token stored again keeps its first answer', async () => {
      const id = await newIssuance();
      const token = `tok-${hex()}`;
      await store.putHttp01Tokens(id, [{ token, keyAuthorization: `${token}.thumb`, domain: 'example.com', expiresAt: later(1000) }], T0);
      await store.putHttp01Tokens(id, [{ token, keyAuthorization: 'other', domain: 'example.com', expiresAt: later(9000) }], T0);
      assert.equal(await store.keyAuthorization(token, later(999)), `${token}.thumb`);
      assert.equal(await store.keyAuthorization(token, later(1000)), undefined);
      assert.equal(await store.keyAuthorization('unknown', T0), undefined);
    });

    it('cancel: an unfinished issuance ends canceled with its records queued for removal; a finished one stays as it is', async () => {
      const id = await newIssuance();
      await store.advance(id, 'queued', 'ordered', { orderUrl: 'https://ca.test/order/5', authorizations: [authz(1, { dnsHandle: handle('c1') })] }, T0);
      const canceled = (await app.issuances.cancel(id))!;
      assert.equal(canceled.state, 'canceled');
      assert.ok(canceled.finishedAt);
      assert.equal((await jobsFor(id)).length, 1);
      assert.equal((await app.issuances.cancel(id))!.updatedAt.getTime(), canceled.updatedAt.getTime(), 'canceling again changes nothing');
      assert.equal(await app.issuances.cancel('missing'), undefined);
      const done = await newIssuance();
      await store.finish(done, ['queued'], { state: 'invalid', errorCode: 'caa', errorDetail: 'CAA forbids' }, T0, { jobs: [], dropHttp01Tokens: true });
      assert.equal((await app.issuances.cancel(done))!.state, 'invalid');
      assert.equal(await app.issuances.privateKeyPem(done), undefined, 'no key was made');
    });
  });
}
