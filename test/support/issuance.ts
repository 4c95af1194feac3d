/**
 * Everything an ACME issuance test runs against: a BIND 9 serving `example.test` (its own NS, and
 * the hosts below at 127.0.0.1) that accepts TSIG-signed RFC 2136 updates, Debian's pebble
 * resolving through it and connecting for http-01 to certplane's own responder, and a certplane
 * composed on a fresh database with `issuers.lets_encrypt` pointed at pebble and `dns01` at BIND.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { insertIssuanceWith } from '../../src/adapters/db/issuance-rows.js';
import type { AcmeClients } from '../../src/core/acme/ports.js';
import { FINISHED_STATES, type Issuance, type NewIssuance } from '../../src/core/issuance/model.js';
import type { EngineTiming } from '../../src/core/issuance/engine.js';
import type { Http01Tokens } from '../../src/core/issuance/ports.js';
import { startHttp01Responder } from '../../src/http/acme-challenge.js';
import type { JobWorker } from '../../src/jobs/worker.js';
import { compose, createWorker, type App } from '../../src/main.js';
import { startBind, type BindRecord, type BindServer } from './bind.js';
import { createTestDatabase, type Engine, type TestDatabase } from './databases.js';
import { startPebble, type PebbleServer } from './pebble.js';
import { testConfig } from './service.js';
import { freePort } from './cli.js';

export const ZONE = 'example.test';
const HOSTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'www', 'shop', 'wrong'];
export const ZONE_RECORDS: BindRecord[] = [
  { name: '@', type: 'NS', value: `ns.${ZONE}` },
  { name: 'ns', type: 'A', value: '127.0.0.1' },
  ...HOSTS.map((name): BindRecord => ({ name, type: 'A', value: '127.0.0.1' })),
];

export interface HarnessOptions {
  engine?: Engine;
  /** ACME clients to use instead of the app's own (counting wrappers). */
  acme?: AcmeClients;
  /** Start the worker at once (default true). */
  worker?: boolean;
  timing?: Partial<EngineTiming>;
  /** Wraps what the responder serves (to serve a wrong file). */
  tokens?: (tokens: Http01Tokens) => Http01Tokens;
}

export interface IssuanceHarness {
  bind: BindServer;
  pebble: PebbleServer;
  app: App;
  testDb: TestDatabase;
  accountId: string;
  /** Starts a worker (the app's handlers), unless one runs already. */
  startWorker(): JobWorker;
  /** Stops the running worker, as SIGTERM does. */
  stopWorker(): Promise<void>;
  /** Creates an issuance with its job, as an owner does. */
  issue(identifiers: string[], options?: Partial<NewIssuance>): Promise<string>;
  /** Resolves with the issuance once finished (valid, invalid or canceled). */
  finished(id: string, timeoutMs?: number): Promise<Issuance>;
  stop(): Promise<void>;
}

export async function startIssuanceHarness(options: HarnessOptions = {}): Promise<IssuanceHarness> {
  const bind = await startBind();
  let pebble: PebbleServer | undefined;
  let app: App | undefined;
  let responder: FastifyInstance | undefined;
  let worker: JobWorker | undefined;
  const testDb = await createTestDatabase(options.engine ?? 'sqlite');
  const stop = async () => {
    await worker?.stop(2000);
    await responder?.close();
    await app?.close();
    await pebble?.stop();
    await bind.stop();
    await testDb.drop();
  };
  try {
    await bind.addZone(ZONE, ZONE_RECORDS);
    const httpPort = await freePort();
    pebble = await startPebble({ dnsServer: bind.address, httpPort });
    const base = testConfig(testDb);
    const config = {
      ...base,
      issuers: { ...base.issuers, lets_encrypt: { ...base.issuers.lets_encrypt!, directoryUrl: pebble.directoryUrl, caBundlePem: pebble.caBundlePem } },
      dns01: { provider: 'rfc2136' as const, server: bind.address, tsigKeyName: bind.tsig.name, tsigAlgorithm: bind.tsig.algorithm, tsigSecret: bind.tsig.secret, zone: undefined },
      dnsResolver: bind.address,
      dns01Propagation: { timeoutSeconds: 20, intervalMs: 50, nameServerPort: bind.port },
      http01Listen: { host: '127.0.0.1', port: httpPort },
    };
    app = await compose(config, {
      logger: pino({ level: 'silent' }),
      ...(options.acme ? { acme: options.acme } : {}),
      issuanceTiming: { recheckMs: 100, userCheckMs: 200, ...options.timing },
    });
    const tokens = options.tokens ? options.tokens(app.http01Tokens) : app.http01Tokens;
    const started = await startHttp01Responder(config.http01Listen, tokens, app.clock, app.logger);
    if (!started) throw new Error(`the http-01 responder could not listen on 127.0.0.1:${httpPort}`);
    responder = started.server;
    const account = await app.accounts.createAccount('issuance-test');
    const ready = app;
    const startWorker = () => {
      worker ??= createWorker(ready, { idlePollMs: { min: 10, max: 100 } });
      worker.start();
      return worker;
    };
    const stopWorker = async () => {
      const running = worker;
      worker = undefined;
      await running?.stop(2000);
    };
    if (options.worker !== false) startWorker();
    return {
      bind,
      pebble,
      app,
      testDb,
      accountId: account.id,
      startWorker,
      stopWorker,
      issue: async (identifiers, extra = {}) => {
        const id = randomBytes(16).toString('hex');
        const now = ready.clock.now();
        await insertIssuanceWith(
          ready.database.db,
          { id, accountId: account.id, profile: 'lets_encrypt', identifiers, challengeType: 'http-01', placement: 'certplane', ...extra },
          now,
          randomBytes(16).toString('hex'),
        );
        worker?.wake();
        return id;
      },
      finished: async (id, timeoutMs = 90_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const issuance = await ready.issuances.get(id);
          if (issuance && FINISHED_STATES.includes(issuance.state)) return issuance;
          if (Date.now() > deadline) throw new Error(`issuance ${id} not finished within ${timeoutMs} ms: ${JSON.stringify(issuance)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resolves once `check` holds, asking every 50 ms; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
