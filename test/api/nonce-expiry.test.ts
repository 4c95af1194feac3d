import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ESA_VERSION } from '../../src/http/aliyun-rpc/action.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { signAcs3 } from '../support/acs3.js';
import { send } from '../support/alibaba.js';
import { ENGINES } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const MINUTE = 60_000;

for (const engine of ENGINES) {
  describe(`signature nonces expire on ${engine}`, () => {
    const clock = fixedClock(new Date());
    let service: TestService;
    let credentials: { accessKeyId: string; accessKeySecret: string };
    before(async () => {
      service = await startService(engine, { clock });
      const account = await service.app.accounts.createAccount('nonces');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      credentials = { accessKeyId: key.id, accessKeySecret: secret };
    });
    after(() => service.stop());

    /** A ListSites signed at the injected clock's time. */
    const signedNow = () =>
      signAcs3(
        { host: service.baseUrl.replace('http://', ''), version: ESA_VERSION, method: 'GET', action: 'ListSites', date: clock.now() },
        credentials,
      );
    const nonceRows = async () =>
      (await service.app.database.db.selectFrom('signature_nonces').select('nonce').where('access_key_id', '=', credentials.accessKeyId).execute()).map(
        (r) => r.nonce,
      );

    it('refuses a replay inside the window, refuses it as stale after, and forgets the expired nonce', async () => {
      const start = clock.now().getTime();
      const original = signedNow();
      const nonce = original.headers['x-acs-signature-nonce']!;
      assert.equal((await send(service.baseUrl, original)).status, 200);
      const replay = await send(service.baseUrl, original);
      assert.deepEqual([replay.status, replay.json.Code], [400, 'SignatureNonceUsed']);

      // Near the end of the 15-minute window: purges run, but the nonce is still remembered.
      clock.set(new Date(start + 14 * MINUTE));
      assert.equal((await send(service.baseUrl, signedNow())).status, 200);
      const late = await send(service.baseUrl, original);
      assert.deepEqual([late.status, late.json.Code], [400, 'SignatureNonceUsed']);
      assert.ok((await nonceRows()).includes(nonce));

      // Past the window the request's date gives it away, so its nonce need not be kept.
      clock.set(new Date(start + 16 * MINUTE));
      const stale = await send(service.baseUrl, original);
      assert.deepEqual([stale.status, stale.json.Code], [403, 'Unauthorized.InvalidTime']);
      const fresh = signedNow();
      assert.equal((await send(service.baseUrl, fresh)).status, 200);
      const left = await nonceRows();
      assert.ok(!left.includes(nonce), 'the expired nonce was purged');
      assert.ok(left.includes(fresh.headers['x-acs-signature-nonce']!));

      // Long after, every nonce of those requests is gone: the table does not grow without end.
      clock.set(new Date(start + 60 * MINUTE));
      const last = signedNow();
      assert.equal((await send(service.baseUrl, last)).status, 200);
      assert.deepEqual(await nonceRows(), [last.headers['x-acs-signature-nonce']]);
    });
  });
}
