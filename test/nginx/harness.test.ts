/**
 * The nginx harness (test/support/nginx.ts) against Debian's nginx, with material from the PKI
 * toolkit only: a P-256 client CA and two client certificates (RSA and ECC). In CRL mode, a revoked
 * certificate is refused after a new CRL and a reload, and accepted again after a CRL without it; in
 * OCSP mode the same happens with no reload, as the test's responder flips its answers. This also
 * shows that the toolkit's CRLs and OCSP responses are ones nginx (OpenSSL) accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildCertificate, buildCrl, issuerFromCertificate, newSerial, type RevokedEntry } from '../../src/pki/index.js';
import { startNginx, type ClientCredentials, type ClientOutcome, type NginxServer } from '../support/nginx.js';
import { opensslOk, testCa, testKey, testLeaf, type TestCa } from '../support/pki.js';
import { startOcspResponder, type TestOcspResponder } from './ocsp-responder.js';

const run = promisify(execFile);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Client extends ClientCredentials {
  label: string;
  serial: Buffer;
  path: string;
}

function material(): { ca: TestCa; clients: [Client, Client] } {
  const ca = testCa('p256', 'nginx harness CA');
  const client = (label: string, alg: 'rsa' | 'p256'): Client => {
    const key = testKey(alg);
    const leaf = testLeaf(ca, key, { cn: `${label}.client.example` });
    return { label, certPem: leaf.pem, keyPem: key.pem, serial: leaf.serial, path: leaf.path };
  };
  return { ca, clients: [client('rsa', 'rsa'), client('ecc', 'p256')] };
}

let crlNumber = 0;
/** A fresh CRL from `ca` listing `revoked` (nextUpdate a week out, as the CA will issue them). */
function crl(ca: TestCa, revoked: Client[]): Buffer {
  const now = Date.now();
  const entries: RevokedEntry[] = revoked.map((c) => ({ serial: c.serial, revokedAt: new Date(now - MINUTE), reason: 'keyCompromise' }));
  return buildCrl({ issuer: ca.issuer, thisUpdate: new Date(now - MINUTE), nextUpdate: new Date(now + 7 * DAY), crlNumber: ++crlNumber, revoked: entries }).der;
}

/** nginx accepted this very certificate ($ssl_client_serial is upper-case hex without leading zeros). */
function assertAccepted(result: ClientOutcome, client: Client): void {
  assert.equal(result.outcome, 'ok', `${client.label}: ${JSON.stringify(result)}`);
  if (result.outcome !== 'ok') return;
  assert.equal(BigInt(`0x${result.serial}`), BigInt(`0x${client.serial.toString('hex')}`));
  assert.match(result.subject, new RegExp(`CN=${client.label}\\.client\\.example`));
}

function assertRevoked(result: ClientOutcome, client: Client): void {
  assert.equal(result.outcome, 'certificate-error', `${client.label}: ${JSON.stringify(result)}`);
  if (result.outcome === 'certificate-error') assert.match(result.reason ?? '', /revoked/, `${client.label}: ${result.reason}`);
}

/** After stop(): no nginx process of this server is left and its port takes no connection. */
async function assertGone(nginx: NginxServer, pids: number[]): Promise<void> {
  for (const pid of pids) assert.equal(existsSync(`/proc/${pid}/stat`), false, `process ${pid} is still there`);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(nginx.port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
  assert.ok(refused, `port ${nginx.port} still accepts connections`);
}

describe('nginx harness, CRL mode (ssl_crl + reload)', () => {
  const { ca, clients } = material();
  const [rsa, ecc] = clients;
  let nginx: NginxServer;
  before(async () => {
    nginx = await startNginx({ clientCaPem: ca.cert.pem, revocation: { mode: 'crl', crl: crl(ca, []) } });
  });
  after(() => nginx?.stop());

  it('accepts both certificates under an empty CRL, and asks for one when none is sent', async () => {
    assertAccepted(await nginx.request(rsa), rsa);
    assertAccepted(await nginx.request(ecc), ecc);
    assert.deepEqual(await nginx.request(), { outcome: 'no-certificate', status: 400 });
  });

  it('refuses the certificate a new CRL revokes once reloaded, and only that one', async () => {
    const oldWorkers = nginx.processes().workers;
    await nginx.reload({ crl: crl(ca, [rsa]) });
    assert.equal(nginx.generation, 2);
    // reload() returned only after every worker of the old configuration had gone.
    assert.ok(!nginx.processes().workers.some((pid) => oldWorkers.includes(pid)));
    assertRevoked(await nginx.request(rsa), rsa);
    assertAccepted(await nginx.request(ecc), ecc);
    // What nginx read is the toolkit's CRL, as openssl sees it.
    assert.match(opensslOk(['crl', '-in', nginx.crlPath!, '-noout', '-text']), new RegExp(`Serial Number: ${rsa.serial.toString('hex').toUpperCase()}`));
  });

  it('accepts it again after a CRL without it and a reload', async () => {
    await nginx.reload({ crl: crl(ca, []) });
    assertAccepted(await nginx.request(rsa), rsa);
    assertAccepted(await nginx.request(ecc), ecc);
  });

  it('reload() fails with nginx\'s message on a configuration nginx rejects, and nginx keeps the last good one', async () => {
    await assert.rejects(nginx.reload({ crl: '-----BEGIN X509 CRL-----\nnot a crl\n-----END X509 CRL-----\n' }), /nginx refused configuration 4:[\s\S]*\[emerg\][\s\S]*crl/i);
    assertAccepted(await nginx.request(rsa), rsa);
    await nginx.reload({ crl: crl(ca, [ecc]) });
    assertAccepted(await nginx.request(rsa), rsa);
    assertRevoked(await nginx.request(ecc), ecc);
  });

  it('tells a refused handshake apart from nginx\'s 400s', async () => {
    // The server's key is ECDSA: a TLS 1.2 client offering only RSA-authenticated suites shares no cipher with it.
    const result = await nginx.request(rsa, { curlArgs: ['--tls-max', '1.2', '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256'] });
    assert.equal(result.outcome, 'handshake-failed', JSON.stringify(result));
    if (result.outcome === 'handshake-failed') {
      assert.equal(result.curlExit, 35);
      assert.match(result.message, /handshake failure/);
    }
    assertAccepted(await nginx.request(rsa, { curlArgs: ['--tls-max', '1.2'] }), rsa);
  });

  it('stop() leaves no process and no listener behind', async () => {
    const { master, workers } = nginx.processes();
    assert.ok(workers.length > 0);
    await nginx.stop();
    await assertGone(nginx, [master, ...workers]);
  });
});

describe('nginx harness, OCSP mode (ssl_ocsp, no reload)', () => {
  const { ca, clients } = material();
  const [rsa, ecc] = clients;
  let responder: TestOcspResponder;
  let nginx: NginxServer;
  before(async () => {
    responder = await startOcspResponder(ca.issuer);
    for (const c of clients) responder.setStatus(c.serial, { status: 'good' });
    nginx = await startNginx({ clientCaPem: ca.cert.pem, revocation: { mode: 'ocsp', responderUrl: responder.url } });
  });
  after(async () => {
    await nginx?.stop();
    await responder?.close();
  });

  /** The request's outcome, checking that nginx asked the responder about this very certificate. */
  async function requestAsking(client: Client): Promise<ClientOutcome> {
    const asked = responder.answered.length;
    const result = await nginx.request(client);
    const fresh = responder.answered.slice(asked);
    assert.ok(fresh.some((a) => a.serials.includes(client.serial.toString('hex'))), `${client.label}: nginx asked ${JSON.stringify(fresh)}`);
    return result;
  }

  it('accepts both certificates the responder calls good, asking on every handshake', async () => {
    for (let round = 0; round < 2; round++) {
      assertAccepted(await requestAsking(rsa), rsa);
      assertAccepted(await requestAsking(ecc), ecc);
    }
    assert.ok(responder.answered.every((a) => a.method === 'GET'), 'nginx sends OCSP requests as GET');
  });

  it('refuses a certificate as soon as the responder says revoked, with no reload', async () => {
    responder.setStatus(rsa.serial, { status: 'revoked', revokedAt: new Date(Date.now() - MINUTE), reason: 'keyCompromise' });
    assertRevoked(await requestAsking(rsa), rsa);
    assertAccepted(await requestAsking(ecc), ecc);
    assert.equal(nginx.generation, 1);
  });

  it('accepts it again once the responder says good', async () => {
    responder.setStatus(rsa.serial, { status: 'good' });
    assertAccepted(await requestAsking(rsa), rsa);
    assertAccepted(await requestAsking(ecc), ecc);
  });

  it('refuses a certificate the responder does not know', async () => {
    responder.setStatus(ecc.serial, undefined);
    try {
      const result = await requestAsking(ecc);
      assert.equal(result.outcome, 'certificate-error', JSON.stringify(result));
      if (result.outcome === 'certificate-error') assert.equal(result.reason, 'certificate status unknown');
    } finally {
      responder.setStatus(ecc.serial, { status: 'good' });
    }
  });

  it('takes answers signed by a delegated responder certificate the CA issued', async () => {
    const key = testKey('p256', true);
    const now = Date.now();
    const cert = buildCertificate(ca.issuer, { kind: 'ocspResponder' }, {
      subject: { organization: 'certplane', commonName: 'nginx harness OCSP responder' },
      subjectSpki: key.spki,
      serial: newSerial(),
      notBefore: new Date(now - MINUTE),
      notAfter: new Date(now + DAY),
    });
    responder.setSigner({ issuer: issuerFromCertificate(cert.der, key.privateKey), certificates: [cert.der] });
    try {
      assertAccepted(await requestAsking(ecc), ecc);
      responder.setStatus(ecc.serial, { status: 'revoked', revokedAt: new Date(now - MINUTE) });
      assertRevoked(await requestAsking(ecc), ecc);
    } finally {
      responder.setStatus(ecc.serial, { status: 'good' });
      responder.setSigner({ issuer: ca.issuer });
    }
  });

  it('the responder also answers POST, as openssl ocsp sends it', async () => {
    responder.setStatus(rsa.serial, { status: 'revoked', revokedAt: new Date(Date.now() - MINUTE) });
    // Asynchronously: the responder answers from this process's event loop.
    const { stdout } = await run('openssl', ['ocsp', '-issuer', ca.certPath, '-cert', rsa.path, '-url', responder.url, '-CAfile', ca.certPath, '-no_nonce']);
    assert.equal(stdout.split('\n').find((line) => line.startsWith(`${rsa.path}: `)), `${rsa.path}: revoked`);
    assert.equal(responder.answered.at(-1)?.method, 'POST');
    responder.setStatus(rsa.serial, { status: 'good' });
  });

  it('stop() leaves no process and no listener behind', async () => {
    const { master, workers } = nginx.processes();
    await nginx.stop();
    await assertGone(nginx, [master, ...workers]);
  });
});
