/**
 * The ACME adapter against a small ACME server in this test whose directory offers `renewalInfo`
 * (Debian's pebble 2.4 has none): the adapter finds the resource, asks for the certificate by its
 * RFC 9773 id, reads the window, the explanation and Retry-After, the renewal decision honours
 * them, and newOrder carries `replaces`. A directory without `renewalInfo` is asked nothing.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CachedAcmeClients } from '../../src/adapters/acme/clients.js';
import { decideWhenDue, firstLook } from '../../src/core/renewal/planning.js';
import { ariCertId } from '../../src/pki/index.js';
import { pino } from 'pino';
import { makeCa, makeLeaf } from '../support/openssl.js';

interface Seen {
  renewalInfo: string[];
  orders: Array<Record<string, unknown>>;
}

/** A minimal RFC 8555 server: nonces, accounts, orders (recorded), and RFC 9773's renewalInfo when `ari`. */
function acmeServer(ari: boolean, window: { start: string; end: string }, retryAfter: string): { server: Server; seen: Seen } {
  const seen: Seen = { renewalInfo: [], orders: [] };
  let nonce = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.setHeader('replay-nonce', `nonce-${++nonce}`);
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const payload = () => JSON.parse(Buffer.from((JSON.parse(Buffer.concat(chunks).toString()) as { payload: string }).payload, 'base64url').toString() || 'null') as Record<string, unknown>;
      const path = req.url ?? '/';
      if (path === '/dir') {
        return json(200, { newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order`, ...(ari ? { renewalInfo: `${base}/renewal-info/` } : {}) });
      }
      if (path === '/nonce') return res.writeHead(200).end();
      if (path === '/account') return json(201, { status: 'valid' }, { location: `${base}/acct/1` });
      if (path === '/order') {
        seen.orders.push(payload());
        return json(201, { status: 'pending', identifiers: seen.orders.at(-1)!['identifiers'], authorizations: [`${base}/authz/1`], finalize: `${base}/finalize/1` }, { location: `${base}/order/1` });
      }
      if (ari && path.startsWith('/renewal-info/') && req.method === 'GET') {
        seen.renewalInfo.push(path.slice('/renewal-info/'.length));
        return json(200, { suggestedWindow: window, explanationURL: 'https://acme.example.com/docs/ari' }, { 'retry-after': retryAfter });
      }
      json(404, { type: 'urn:ietf:params:acme:error:malformed', detail: `no ${req.method} ${path}` });
    });
  });
  return { server, seen };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
}

describe('ARI through the ACME adapter, against a local renewalInfo endpoint', () => {
  const ca = makeCa({ alg: 'p256' });
  const leaf = makeLeaf({ issuer: ca, alg: 'p256', cn: 'ari.example.test', serialHex: '87654321' });
  const chainPem = leaf.certPem + ca.certPem;
  const now = new Date();
  const window = { start: new Date(now.getTime() + 2 * 86_400_000).toISOString(), end: new Date(now.getTime() + 3 * 86_400_000).toISOString() };
  let clients: CachedAcmeClients;
  const withAri = acmeServer(true, window, '21600');
  const withoutAri = acmeServer(false, window, '0');
  let ariDirectory: string;
  let plainDirectory: string;

  before(async () => {
    clients = new CachedAcmeClients();
    ariDirectory = await listen(withAri.server);
    plainDirectory = await listen(withoutAri.server);
  });
  after(async () => {
    clients?.close();
    await new Promise((resolve) => withAri.server.close(resolve));
    await new Promise((resolve) => withoutAri.server.close(resolve));
  });

  it('asks for the certificate by its ARI id and reads the window, the explanation URL and Retry-After', async () => {
    const { client } = await clients.ensureAccount({ directory: { url: ariDirectory }, termsOfServiceAgreed: true });
    assert.equal(await client.offersRenewalInfo(), true);
    const info = await client.renewalInfo(chainPem);
    assert.deepEqual(withAri.seen.renewalInfo, [ariCertId(leaf.certPem)]);
    assert.match(withAri.seen.renewalInfo[0]!, /^[A-Za-z0-9_-]+\.AIdlQyE$/, 'serial 0x87654321 is DER 00 87 65 43 21');
    assert.deepEqual(info, { suggestedWindow: { start: new Date(window.start), end: new Date(window.end) }, explanationUrl: 'https://acme.example.com/docs/ari', retryAfterMs: 21_600_000 });
  });

  it('the renewal decision honours the window and Retry-After: look again in 6 h, not at two thirds of the lifetime', async () => {
    const { client } = await clients.ensureAccount({ directory: { url: ariDirectory }, termsOfServiceAgreed: true });
    const facts = { notBefore: new Date(now.getTime() - 80 * 86_400_000), notAfter: new Date(now.getTime() + 10 * 86_400_000) };
    // Two thirds of this certificate's lifetime are long past, yet the CA's window is two days out.
    const decision = await decideWhenDue(client, { chainPem, ...facts }, now, () => 0);
    const sixHours = new Date(now.getTime() + 21_600_000);
    assert.deepEqual(decision, { renewNow: false, nextLookAt: sixHours, nextCheckAt: sixHours, explanationUrl: 'https://acme.example.com/docs/ari' });
    const later = new Date(new Date(window.start).getTime() + 3_600_000);
    assert.equal((await decideWhenDue(client, { chainPem, ...facts }, later, () => 0)).renewNow, true, 'inside the window, at the chosen time');
    const issued = { ...facts, chainPem, commonName: '', san: '', serialNumber: '', fingerprintSha256: '', issuer: '', issuerCn: '', publicKeyAlgorithm: '', signatureAlgorithm: '' };
    assert.deepEqual(await firstLook(client, issued, now, () => 0.5, pino({ level: 'silent' })), { renewAt: sixHours, ariCheckAt: sixHours });
    // A time chosen in the window that comes before the next check is kept: renewed then, the CA not asked.
    const asked = withAri.seen.renewalInfo.length;
    assert.deepEqual(await decideWhenDue(client, { chainPem, ...facts, ariCheckAt: new Date(later.getTime() + 3_600_000) }, later, () => 0.99), { renewNow: true });
    assert.equal(withAri.seen.renewalInfo.length, asked, 'Retry-After honoured: no request before it');
  });

  it('newOrder carries replaces', async () => {
    const { client } = await clients.ensureAccount({ directory: { url: ariDirectory }, termsOfServiceAgreed: true });
    await client.newOrder({ identifiers: [{ type: 'dns', value: 'ari.example.test' }], replaces: ariCertId(chainPem) });
    assert.equal(withAri.seen.orders.at(-1)!['replaces'], ariCertId(chainPem));
    await client.newOrder({ identifiers: [{ type: 'dns', value: 'ari.example.test' }] });
    assert.equal('replaces' in withAri.seen.orders.at(-1)!, false, 'a first order names nothing it replaces');
  });

  it('a directory without renewalInfo: nothing is asked, the policy falls back to two thirds of the lifetime', async () => {
    const { client } = await clients.ensureAccount({ directory: { url: plainDirectory }, termsOfServiceAgreed: true });
    assert.equal(await client.offersRenewalInfo(), false);
    assert.equal(await client.renewalInfo(chainPem), undefined);
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const issued = { notBefore, notAfter: new Date(notBefore.getTime() + 90 * 86_400_000), chainPem, commonName: '', san: '', serialNumber: '', fingerprintSha256: '', issuer: '', issuerCn: '', publicKeyAlgorithm: '', signatureAlgorithm: '' };
    assert.deepEqual(await firstLook(client, issued, now, () => 0.5, pino({ level: 'silent' })), { renewAt: new Date('2030-03-02T00:00:00.000Z') });
    assert.deepEqual(withoutAri.seen.renewalInfo, []);
  });
});
