import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SqlAccountStore } from '../../src/adapters/db/account-store.js';
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

    it('forgets a great many expired nonces a batch at a time, also when thousands expire in the same second', async () => {
      const store = new SqlAccountStore(service.app.database);
      const now = clock.now().getTime() + 2 * 60 * MINUTE;
      const second = (offsetS: number) => new Date(now + offsetS * 1000).toISOString();
      // 12,000 from one busy second, 8,000 over the seconds before it, 10 not yet expired.
      const rows = [
        ...Array.from({ length: 12_000 }, (_, i) => ({ nonce: `busy-${i}`, expires_at: second(-100) })),
        ...Array.from({ length: 8_000 }, (_, i) => ({ nonce: `spread-${i}`, expires_at: second(-101 - (i % 300)) })),
        ...Array.from({ length: 10 }, (_, i) => ({ nonce: `live-${i}`, expires_at: second(60) })),
      ];
      for (let i = 0; i < rows.length; i += 2000) {
        await service.app.database.db
          .insertInto('signature_nonces')
          .values(rows.slice(i, i + 2000).map((r) => ({ ...r, access_key_id: credentials.accessKeyId })))
          .execute();
      }
      const expired = async () =>
        Number((await service.app.database.db.selectFrom('signature_nonces').select((eb) => eb.fn.countAll<number>().as('n')).where('expires_at', '<', new Date(now).toISOString()).executeTakeFirstOrThrow()).n);
      const before = await expired();
      assert.ok(before >= 20_000);
      const batches: number[] = [];
      for (;;) {
        const { deleted, more } = await store.purgeNonces(new Date(now), 5000);
        batches.push(deleted);
        assert.ok(batches.length < 10, `no end to the purge: ${batches.join(', ')}`);
        if (!more) break;
      }
      // The first batch stops at the limit's second (≈ 27 nonces a second); one takes the whole busy second.
      assert.ok(batches[0]! > 5000 && batches[0]! <= 5000 + 27, `first batch: ${batches[0]}`);
      assert.ok(batches.some((n) => n >= 12_000), `batches: ${batches.join(', ')}`);
      assert.equal(batches.reduce((a, b) => a + b, 0), before);
      assert.equal(await expired(), 0);
      assert.equal((await nonceRows()).filter((n) => n.startsWith('live-')).length, 10, 'the nonces not yet expired stay');
    });
  });
}
