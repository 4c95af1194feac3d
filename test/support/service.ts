import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import { buildServer } from '../../src/http/server.js';
import type { DnsResolver } from '../../src/core/sites/ports.js';
import type { Clock } from '../../src/kernel/clock.js';
import type { WorkerOptions } from '../../src/jobs/worker.js';
import { compose, createWorker, type App, type ComposeOptions } from '../../src/main.js';
import { createTestDatabase, type Engine, type TestDatabase } from './databases.js';

/** A running certplane on 127.0.0.1 with its own fresh database. */
export interface TestService {
  engine: Engine;
  app: App;
  server: FastifyInstance;
  baseUrl: string;
  testDb: TestDatabase;
  /** Every log line the service wrote, when started with `logLevel`; [] otherwise. */
  logs(): string[];
  stop(): Promise<void>;
}

export function testConfig(testDb: TestDatabase, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ env: { CERTPLANE_DATA_DIR: testDb.dataDir } }),
    database: testDb.database,
    port: 0,
    logLevel: 'silent',
    shutdownGraceMs: 2000,
    ...overrides,
  };
}

export interface ServiceOptions {
  clock?: Clock;
  config?: Partial<Config>;
  dns?: DnsResolver;
  /** Run on this database instead of a fresh one (a second server sharing the first one's data). */
  testDb?: TestDatabase;
  /** Keep every log line at this level and above (e.g. 'trace'); the default logs nothing. */
  logLevel?: 'trace' | 'debug' | 'info';
  /** More of the composition root's options (the ACME engine's timing, where placements are checked). */
  compose?: Pick<ComposeOptions, 'issuanceTiming' | 'placementHttpPort'>;
  /** Run the job workers in this process too, as `certplane serve` does (stopped with the service). */
  worker?: Partial<WorkerOptions>;
}

export async function startService(engine: Engine, options: ServiceOptions = {}): Promise<TestService> {
  const testDb = options.testDb ?? (await createTestDatabase(engine));
  const ownsDb = options.testDb === undefined;
  const config = testConfig(testDb, options.config);
  const lines: string[] = [];
  const logger = options.logLevel ? pino({ level: options.logLevel }, { write: (line: string) => lines.push(line) }) : pino({ level: 'silent' });
  const app = await compose(config, {
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.dns ? { dns: options.dns } : {}),
    ...options.compose,
  });
  const worker = options.worker && createWorker(app, options.worker);
  worker?.start();
  const server = buildServer(app);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    engine,
    app,
    server,
    baseUrl: `http://127.0.0.1:${address.port}`,
    testDb,
    logs: () => lines,
    stop: async () => {
      await server.close();
      await worker?.stop(2000);
      await app.close();
      if (ownsDb) await testDb.drop();
    },
  };
}

/** An account with a token, made through the same services the CLI uses. */
export async function tenant(service: TestService, name = 'tenant'): Promise<{
  accountId: string;
  projectId: string;
  token: string;
  tokenId: string;
}> {
  const account = await service.app.accounts.createAccount(name);
  const { token, record } = await service.app.accounts.createToken(account.id, 3_600_000);
  return { accountId: account.id, projectId: account.projectId, token, tokenId: record.id };
}
