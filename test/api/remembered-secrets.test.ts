/**
 * A server remembers the access-key secrets it opened and checks a signature with the remembered
 * secret and does not read the key apart (the nonce is stored only if the key still holds). What the
 * key is now must still decide: a key whose stored secret changed, or that was disabled, is judged
 * by its row, and every refusal reads as it did before the secret was remembered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { secretContext } from '../../src/core/accounts/service.js';
import { ESA_VERSION } from '../../src/http/aliyun-rpc/action.js';
import { signAcs3 } from '../support/acs3.js';
import { send } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

for (const engine of ENGINES) {
  describe(`remembered access-key secrets on ${engine}`, () => {
    let service: TestService;
    let accountId: string;
    before(async () => {
      service = await startService(engine);
      accountId = (await service.app.accounts.createAccount('remembered')).id;
    });
    after(() => service.stop());

    const newKey = async () => {
      const { key, secret } = await service.app.accounts.createAccessKey(accountId);
      return { accessKeyId: key.id, accessKeySecret: secret };
    };
    const signed = (credentials: { accessKeyId: string; accessKeySecret: string }) =>
      signAcs3({ host: service.baseUrl.replace('http://', ''), version: ESA_VERSION, method: 'GET', action: 'ListSites' }, credentials);
    const listSites = async (credentials: { accessKeyId: string; accessKeySecret: string }) => {
      const res = await send(service.baseUrl, signed(credentials));
      return [res.status, res.json.Code, res.json.Message];
    };
    const storeSecret = async (accessKeyId: string, secret: string) => {
      await service.app.database.db
        .updateTable('access_keys')
        .set({ secret_sealed: service.app.sealer.seal(secret, secretContext(accessKeyId)) })
        .where('id', '=', accessKeyId)
        .execute();
    };
    const storedNonce = async (accessKeyId: string, nonce: string) =>
      (await service.app.database.db.selectFrom('signature_nonces').select('nonce').where('access_key_id', '=', accessKeyId).where('nonce', '=', nonce).execute()).length;

    it('stores the nonce of a request signed with a remembered secret, and refuses its replay', async () => {
      const credentials = await newKey();
      assert.equal((await listSites(credentials))[0], 200);
      const request = signed(credentials);
      assert.equal((await send(service.baseUrl, request)).status, 200);
      assert.equal(await storedNonce(credentials.accessKeyId, request.headers['x-acs-signature-nonce']!), 1);
      const replay = await send(service.baseUrl, request);
      assert.deepEqual([replay.status, replay.json.Code], [400, 'SignatureNonceUsed']);
    });

    it('answers a wrong secret for a remembered key exactly as for a key it never saw', async () => {
      const seen = await newKey();
      const unseen = await newKey();
      assert.equal((await listSites(seen))[0], 200);
      const wrongSeen = await listSites({ ...seen, accessKeySecret: `${seen.accessKeySecret}x` });
      const wrongUnseen = await listSites({ ...unseen, accessKeySecret: `${unseen.accessKeySecret}x` });
      assert.equal(wrongSeen[0], 403);
      assert.deepEqual(wrongSeen, wrongUnseen);
    });

    it('takes the secret the key holds now: the old one is refused once it changed, the new one served', async () => {
      const credentials = await newKey();
      assert.equal((await listSites(credentials))[0], 200);
      const refusedBefore = await listSites({ ...credentials, accessKeySecret: 'another-secret-of-32-characters!' });
      await storeSecret(credentials.accessKeyId, 'another-secret-of-32-characters!');
      const old = signed(credentials);
      const refused = await send(service.baseUrl, old);
      assert.deepEqual([refused.status, refused.json.Code, refused.json.Message], refusedBefore, 'the remembered secret no longer counts');
      assert.equal(await storedNonce(credentials.accessKeyId, old.headers['x-acs-signature-nonce']!), 0, 'a refused request leaves no nonce');
      assert.equal((await listSites({ ...credentials, accessKeySecret: 'another-secret-of-32-characters!' }))[0], 200);
    });

    it('keeps serving a key whose secret was sealed anew (a master key rotation), and refuses a disabled one at once', async () => {
      const credentials = await newKey();
      assert.equal((await listSites(credentials))[0], 200);
      await storeSecret(credentials.accessKeyId, credentials.accessKeySecret);
      assert.equal((await listSites(credentials))[0], 200);
      assert.equal((await listSites(credentials))[0], 200);

      await service.app.accounts.setAccessKeyStatus(credentials.accessKeyId, 'disabled');
      const disabled = await listSites(credentials);
      assert.deepEqual(disabled.slice(0, 2), [403, 'Unauthorized.InvalidToken']);
      await service.app.accounts.setAccessKeyStatus(credentials.accessKeyId, 'active');
      assert.equal((await listSites(credentials))[0], 200);
    });
  });
}
