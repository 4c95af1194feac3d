/**
 * Renewal end to end, in process: Debian's pebble validating http-01 for real, a BIND 9 that
 * pebble resolves names through and that serves each test site's zone (site verification asks it
 * too), and certplane with its job workers on a clock that follows real time and can be moved on
 * (days, months), which is what makes a certificate's renewal time come. Pebble fetches
 * `/.well-known/acme-challenge/<token>` from one port; the world answers it from whichever
 * certplane is current, through that certplane's own token store.
 */
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../src/config/config.js';
import { Esa, esaClient } from './alibaba.js';
import { startBind, type BindRecord, type BindServer } from './bind.js';
import { movableClock, type MovableClock } from './cas-pebble.js';
import { freePort } from './cli.js';
import type { Engine } from './databases.js';
import { startPebble, type PebbleServer } from './pebble.js';
import { startService, type TestService } from './service.js';

export { Esa };
export type EsaClient = ReturnType<typeof esaClient>;
export const DAY = 86_400_000;

export interface RenewalWorld {
  bind: BindServer;
  pebble: PebbleServer;
  /** The certplane whose http-01 tokens pebble is answered with. */
  serve(service: TestService | undefined): void;
  /** Orders pebble created so far (its log). */
  orders(): string[];
  stop(): Promise<void>;
}

export async function startRenewalWorld(): Promise<RenewalWorld> {
  const bind = await startBind();
  let pebble: PebbleServer | undefined;
  let responder: Server | undefined;
  let current: TestService | undefined;
  const stop = async () => {
    await pebble?.stop();
    if (responder) await new Promise((resolve) => responder!.close(resolve));
    await bind.stop();
  };
  try {
    const httpPort = await freePort();
    responder = createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
      const app = current?.app;
      if (!token || !app) return res.writeHead(404).end();
      app.http01Tokens.keyAuthorization(token, app.clock.now()).then(
        (answer) => (answer === undefined ? res.writeHead(404).end() : res.writeHead(200, { 'content-type': 'text/plain' }).end(answer)),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => responder!.listen(httpPort, '127.0.0.1', resolve));
    pebble = await startPebble({ dnsServer: bind.address, httpPort });
    const ready = pebble;
    return {
      bind,
      pebble,
      serve: (service) => void (current = service),
      orders: () => [...ready.log().matchAll(/Added order "([^"]+)" to the db/g)].map((m) => m[1]!),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RenewalService {
  service: TestService;
  clock: MovableClock;
  accountId: string;
  esa: EsaClient;
  instanceId: string;
}

/** certplane on `engine` with its workers, every issuer profile pointed at the world's pebble. */
export async function startRenewalService(engine: Engine, world: RenewalWorld): Promise<RenewalService> {
  const clock = movableClock();
  const service = await startService(engine, {
    clock,
    config: {
      issuers: loadConfig({ env: { CERTPLANE_ACME_DIRECTORY: world.pebble.directoryUrl, CERTPLANE_ACME_CA_BUNDLE: world.pebble.caBundlePath } }).issuers,
      dnsResolver: world.bind.address,
      http01Listen: undefined,
      // The clock moves months on; the SDK dates its signatures in real time.
      signatureMaxSkewMs: 20 * 365 * DAY,
      renewalScanMinutes: 10,
      // The tests read finished jobs back after moving the clock months on: keep them.
      jobRetentionDays: 3650,
    },
    compose: { issuanceTiming: { recheckMs: 100, pollInRunMs: 5000 } },
    worker: { idlePollMs: { min: 10, max: 100 } },
  });
  world.serve(service);
  const account = await service.app.accounts.createAccount(`renewal-${engine}`);
  const { key, secret } = await service.app.accounts.createAccessKey(account.id);
  const instance = await service.app.plans.grant(account.id, 'enterprise');
  const esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
  return { service, clock, accountId: account.id, esa, instanceId: instance.id };
}

/** A CNAME-mode site whose zone BIND serves with `records` (every name at 127.0.0.1 unless said), verified. */
export async function renewalSite(world: RenewalWorld, served: RenewalService, siteName: string, records: BindRecord[]): Promise<{ siteId: number; setRecords(records: BindRecord[]): Promise<void> }> {
  const created = (await served.esa.createSite(new Esa.CreateSiteRequest({ siteName, accessType: 'CNAME', coverage: 'global', instanceId: served.instanceId }))).body!;
  const verify: BindRecord = { name: '_esaauth', type: 'TXT', value: created.verifyCode! };
  await world.bind.addZone(siteName, [...records, verify]);
  const verified = (await served.esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId! }))).body!;
  if (verified.passed !== true) throw new Error(`site ${siteName} did not verify`);
  return { siteId: created.siteId!, setRecords: (next) => world.bind.setRecords(siteName, [...next, verify]) };
}

export type CertificateView = NonNullable<Awaited<ReturnType<EsaClient['getCertificate']>>['body']>;

/** GetCertificate until `until` holds (every 100 ms); fails with the last answer. */
export async function awaitCertificate(esa: EsaClient, siteId: number, id: string, until: (view: CertificateView) => boolean, what: string, timeoutMs = 60_000): Promise<CertificateView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = (await esa.getCertificate(new Esa.GetCertificateRequest({ siteId, id }))).body!;
    if (until(got)) return got;
    if (Date.now() > deadline) throw new Error(`certificate ${id} not ${what} within ${timeoutMs} ms: ${JSON.stringify({ status: got.status, result: got.result })}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls `check` every 100 ms until it returns a value; fails naming `what`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
