/**
 * The http-01 responder: a stored, unexpired token answers its key authorization as text/plain, on
 * its own listener and on the API port; anything else is a 404. `off` starts nothing; an address
 * that cannot be had is logged once, naming the setting, and `certplane serve` runs on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { insertIssuanceWith } from '../../src/adapters/db/issuance-rows.js';
import { SqlIssuanceStore } from '../../src/adapters/db/issuance-store.js';
import { NetworkPlacementChecks } from '../../src/adapters/validation/placement-checks.js';
import { RecordNotVisible } from '../../src/core/validation/ports.js';
import { startHttp01Responder } from '../../src/http/acme-challenge.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';
import { freePort, serve } from '../support/cli.js';
import { createTestDatabase } from '../support/databases.js';
import { startService, type TestService } from '../support/service.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');

describe('http-01 responder', () => {
  let service: TestService;
  let responder: Awaited<ReturnType<typeof startHttp01Responder>>;
  const clock = fixedClock(T0);
  const token = randomBytes(32).toString('base64url');
  const expiring = randomBytes(32).toString('base64url');

  before(async () => {
    service = await startService('sqlite', { clock });
    const account = await service.app.accounts.createAccount('http01');
    const id = randomBytes(16).toString('hex');
    const db = service.app.database.db;
    await insertIssuanceWith(db, { id, accountId: account.id, profile: 'lets_encrypt', identifiers: ['example.com'], challengeType: 'http-01', placement: 'certplane' }, T0, randomBytes(16).toString('hex'));
    await new SqlIssuanceStore(db, randomIds).putHttp01Tokens(
      id,
      [
        { token, keyAuthorization: `${token}.thumbprint`, domain: 'example.com', expiresAt: new Date(T0.getTime() + 3_600_000) },
        { token: expiring, keyAuthorization: `${expiring}.thumbprint`, domain: 'example.com', expiresAt: new Date(T0.getTime() + 1000) },
      ],
      T0,
    );
    responder = await startHttp01Responder({ host: '127.0.0.1', port: 0 }, service.app.http01Tokens, clock, pino({ level: 'silent' }));
  });
  after(async () => {
    await responder?.server.close();
    await service?.stop();
  });

  const base = () => `http://${responder!.address}`;

  it('answers a stored token with its key authorization as text/plain, on its own port and on the API port', async () => {
    for (const url of [base(), service.baseUrl]) {
      const response = await fetch(`${url}/.well-known/acme-challenge/${token}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await response.text(), `${token}.thumbprint`);
    }
  });

  it('answers 404 for an unknown token, a malformed one, an expired one, and any other path', async () => {
    clock.set(new Date(T0.getTime() + 1000));
    try {
      for (const path of [`/.well-known/acme-challenge/${randomBytes(8).toString('hex')}`, '/.well-known/acme-challenge/not.a.token', `/.well-known/acme-challenge/${expiring}`, '/', '/healthz']) {
        const response = await fetch(`${base()}${path}`);
        assert.equal(response.status, 404, path);
        assert.doesNotMatch(await response.text(), /thumbprint/);
      }
      assert.equal((await fetch(`${service.baseUrl}/.well-known/acme-challenge/${expiring}`)).status, 404);
      assert.equal((await fetch(`${base()}/.well-known/acme-challenge/${token}`)).status, 200, 'the other token is still served');
    } finally {
      clock.set(T0);
    }
  });

  it('a user\'s placement is seen as the CA sees it: the file over HTTP, the TXT record at the authoritative servers', async () => {
    const port = Number(responder!.address.split(':').pop());
    const checks = (visible: boolean) =>
      new NetworkPlacementChecks({
        clock,
        httpPort: port,
        visibility: {
          waitFor: async (name, value, deadline) => {
            assert.equal(deadline.getTime(), clock.now().getTime(), 'one round, no waiting');
            if (!visible) throw new RecordNotVisible(name, value, [{ server: 'ns1 (192.0.2.53)', answer: 'no TXT record', visible: false }]);
          },
        },
      });
    assert.equal(await checks(true).httpServes('127.0.0.1', token, `${token}.thumbprint`), true);
    assert.equal(await checks(true).httpServes('127.0.0.1', token, `${token}.other`), false, 'another file');
    assert.equal(await checks(true).httpServes('127.0.0.1', 'unknown', 'x'), false, '404');
    const nobody = new NetworkPlacementChecks({ clock, httpPort: await freePort(), visibility: { waitFor: async () => undefined } });
    assert.equal(await nobody.httpServes('127.0.0.1', token, `${token}.thumbprint`), false, 'nothing listening');
    // The name found through the configured resolver (here: a table), as the CA finds it through its own.
    const resolved = new NetworkPlacementChecks({ clock, httpPort: port, visibility: { waitFor: async () => undefined }, addresses: async (host) => (host === 'site.example.test' ? ['127.0.0.1'] : []) });
    assert.equal(await resolved.httpServes('site.example.test', token, `${token}.thumbprint`), true, 'resolved through the resolver given');
    assert.equal(await resolved.httpServes('elsewhere.example.test', token, `${token}.thumbprint`), false, 'a name without an address');
    // A redirect is followed, as CAs follow it.
    const redirecting = http.createServer((req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}${req.url}` }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const via = new NetworkPlacementChecks({ clock, httpPort: (redirecting.address() as net.AddressInfo).port, visibility: { waitFor: async () => undefined } });
      assert.equal(await via.httpServes('127.0.0.1', token, `${token}.thumbprint`), true, 'redirected');
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
    }
    assert.equal(await checks(true).txtVisible('_acme-challenge.example.com', 'v'), true);
    assert.equal(await checks(false).txtVisible('_acme-challenge.example.com', 'v'), false);
  });

  it('off starts nothing', async () => {
    assert.equal(await startHttp01Responder(undefined, service.app.http01Tokens, clock, pino({ level: 'silent' })), undefined);
  });

  it('an address in use is logged once, naming the setting, and nothing is started', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    try {
      assert.equal(await startHttp01Responder({ host: '127.0.0.1', port }, service.app.http01Tokens, clock, logger), undefined);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
    const errors = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 50);
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0]!.msg,
      `http-01 responder not started: 127.0.0.1:${port} is already in use by another process; set CERTPLANE_HTTP01_LISTEN (http01Listen) to another HOST:PORT, or off. The service runs on without it.`,
    );
  });

  it('certplane serve runs on when its http-01 address cannot be had, and serves tokens when it can', async () => {
    const db = await createTestDatabase('sqlite');
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const env = { CERTPLANE_DATA_DIR: db.dataDir, CERTPLANE_LOG_LEVEL: 'info' };
      const blocked = await serve({ ...env, CERTPLANE_HTTP01_LISTEN: `127.0.0.1:${port}` });
      try {
        assert.equal((await fetch(`${blocked.baseUrl}/healthz`)).status, 200);
        assert.equal((await fetch(`${blocked.baseUrl}/.well-known/acme-challenge/${token}`)).status, 404);
        const refusals = blocked.logs().filter((line) => line.includes('http-01 responder not started'));
        assert.equal(refusals.length, 1);
        assert.match(refusals[0]!, /already in use.*CERTPLANE_HTTP01_LISTEN/);
        assert.match(blocked.logs().find((line) => line.includes('"serving"'))!, /"http01Listen":"not started"/);
      } finally {
        blocked.kill('SIGTERM');
        await blocked.exited;
      }
      const free = await freePort();
      const serving = await serve({ ...env, CERTPLANE_HTTP01_LISTEN: `127.0.0.1:${free}` });
      try {
        const response = await fetch(`http://127.0.0.1:${free}/.well-known/acme-challenge/${token}`);
        assert.equal(response.status, 404, 'its own database holds no such token');
        assert.match(serving.logs().find((line) => line.includes('"serving"'))!, new RegExp(`"http01Listen":"127\\.0\\.0\\.1:${free}"`));
      } finally {
        serving.kill('SIGTERM');
        await serving.exited;
      }
    } finally {
      await new Promise((resolve) => busy.close(resolve));
      await db.drop();
    }
  });
});
