import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { databaseLabel } from '../../adapters/db/database.js';
import { ConfigError, type Config } from '../../config/config.js';
import { buildServer } from '../../http/server.js';
import { startHttp01Responder } from '../../http/acme-challenge.js';
import type { JobWorker } from '../../jobs/worker.js';
import { scheduleExpiryScan } from '../../jobs/expiry-scan.js';
import { compose, createWorker, type App } from '../../main.js';
import { configOf } from '../context.js';
import type { CliOutput } from '../output.js';
import { recordServing } from '../serving-record.js';
import { runCluster } from './cluster.js';
import { clusterCounts } from '../../adapters/metrics/cluster-metrics.js';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** Most HTTP processes `--workers` starts. */
const MAX_WORKERS = 64;

/** `--workers N|auto`: a whole number from 1, or one process per core the machine offers. */
function parseWorkers(value: string): number {
  if (value === 'auto') return availableParallelism();
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new InvalidArgumentError(`a whole number from 1 to ${MAX_WORKERS}, or auto (one per core)`);
  }
  return Number(value);
}

/**
 * `certplane serve [--role all|api|worker] [--workers N|auto]`: the API server, the job workers, or
 * both (the default). SIGTERM/SIGINT let in-flight requests and running jobs finish within
 * shutdownGraceMs (jobs still running then are handed back to the queue), then close the database.
 * With `--workers N` above 1, this process migrates the database and voids abandoned issuances, then
 * runs N processes of the role (node:cluster), all sharing the port and the database (see cluster.ts).
 */
export function registerServe(program: Command, _out: CliOutput): void {
  program
    .command('serve')
    .description('run the API server and the job workers')
    .addOption(new Option('--role <role>', 'what this process runs: all, api (HTTP only) or worker (jobs only)').choices(ROLES).default('all'))
    .addOption(new Option('--workers <n>', 'HTTP processes sharing the port and the database: a number, or auto (one per core)').argParser(parseWorkers).default(1))
    .action(async (opts: { role: Role; workers: number }, command: Command) => {
      const config = configOf(command);
      if (opts.workers > 1 && opts.role === 'worker') {
        throw new ConfigError(['--workers: runs several API processes; the worker role serves no HTTP (start several `serve --role worker` instead)'], 'cannot start');
      }
      if (opts.workers > 1 && cluster.isPrimary) {
        await runCluster(config, opts.workers);
        return;
      }
      try {
        await serveOne(config, opts.role);
      } finally {
        // In a worker, the channel to the primary would keep this process alive after it stopped or failed.
        if (cluster.isWorker) cluster.worker?.disconnect();
      }
    });
}

/** One `serve` process: the whole server, or one worker of `--workers`. */
async function serveOne(config: Config, role: Role): Promise<void> {
  const app = await compose(config);
  // One of `--workers N`: a scrape shows what all N counted.
  if (cluster.isWorker) app.metrics.countAcross(clusterCounts(app.metrics.counted));
  let server: FastifyInstance | undefined;
  let http01: FastifyInstance | undefined;
  let listen = 'none (worker role)';
  let http01Listen = 'off';
  if (role !== 'worker') {
    // Issuances a crash cut short (recorded, never completed) are voided before serving
    // (by the primary, once, when several processes serve).
    if (cluster.isPrimary) await app.privateCa.certificates.voidAbandoned();
    server = buildServer(app);
    listen = await startListening(server, app, config);
    const responder = await startHttp01Responder(config.http01Listen, app.http01Tokens, app.clock, app.logger);
    http01 = responder?.server;
    http01Listen = responder?.address ?? (config.http01Listen ? 'not started' : 'off');
  }
  const worker = role === 'api' ? undefined : createWorker(app);
  worker?.start();
  // The expiry scan of the current period exists once a worker runs (each scan enqueues the next).
  if (worker) await scheduleExpiryScan(app.expiryScans, app.clock.now());
  if (cluster.isWorker) {
    // The primary records the data directory and says `serving` once every process listens.
    app.logger.info({ listen, http01Listen, role, worker: cluster.worker?.id }, 'worker listening');
    await untilStopped(app, { server, http01, worker }, config);
    return;
  }
  const forget = recordServing(config, listen, (err) => app.logger.warn({ err }, 'cannot record the database served in the data directory'));
  app.logger.info({ database: databaseLabel(config.database), dataDir: config.dataDir, listen, http01Listen, role }, 'serving');
  await untilStopped(app, { server, http01, worker }, config);
  forget();
}

async function startListening(server: FastifyInstance, app: App, config: Config): Promise<string> {
  try {
    await server.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close();
    throw listenProblem(err, config);
  }
  const address = server.server.address();
  return address && typeof address === 'object' ? `${address.address}:${address.port}` : `${config.host}:${config.port}`;
}

/** A port or address the server cannot have is the operator's to change: one line naming the setting. */
function listenProblem(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const at = `${config.host}:${config.port}`;
  const problem =
    code === 'EADDRINUSE'
      ? `CERTPLANE_PORT: ${at} is already in use by another process; choose another port or stop that process`
      : code === 'EACCES'
        ? `CERTPLANE_PORT: ${at} needs privileges this process does not have; choose a port above 1023`
        : code === 'EADDRNOTAVAIL'
          ? `CERTPLANE_HOST: ${config.host} is not an address of this machine`
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME'
            ? `CERTPLANE_HOST: ${config.host} is not a known host name`
            : undefined;
  return problem ? new ConfigError([problem], 'cannot start') : err;
}

function untilStopped(
  app: App,
  roles: { server: FastifyInstance | undefined; http01: FastifyInstance | undefined; worker: JobWorker | undefined },
  config: Config,
): Promise<void> {
  const { server, http01, worker } = roles;
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // SIGINT from a terminal reaches every process of the group, and a primary passes SIGTERM on too.
      if (stopping) return;
      stopping = true;
      app.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        app.logger.warn({ graceMs: config.shutdownGraceMs }, 'grace period over, closing connections');
        server?.server.closeAllConnections();
        http01?.server.closeAllConnections();
      }, config.shutdownGraceMs);
      force.unref();
      Promise.all([server?.close(), http01?.close(), worker?.stop(config.shutdownGraceMs)])
        .then(() => app.close())
        .then(resolve, (err: unknown) => {
          app.logger.error({ err }, 'shutdown failed');
          resolve();
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
