import { Option, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { databaseLabel } from '../../adapters/db/database.js';
import { ConfigError, type Config } from '../../config/config.js';
import { buildServer } from '../../http/server.js';
import { startHttp01Responder } from '../../http/acme-challenge.js';
import type { JobWorker } from '../../jobs/worker.js';
import { compose, createWorker, type App } from '../../main.js';
import { configOf } from '../context.js';
import type { CliOutput } from '../output.js';
import { recordServing } from '../serving-record.js';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/**
 * `certplane serve [--role all|api|worker]`: the API server, the job workers, or both (the default).
 * SIGTERM/SIGINT let in-flight requests and running jobs finish within shutdownGraceMs (jobs still
 * running then are handed back to the queue), then close the database.
 */
export function registerServe(program: Command, _out: CliOutput): void {
  program
    .command('serve')
    .description('run the API server and the job workers')
    .addOption(new Option('--role <role>', 'what this process runs: all, api (HTTP only) or worker (jobs only)').choices(ROLES).default('all'))
    .action(async (opts: { role: Role }, command: Command) => {
      const config = configOf(command);
      const app = await compose(config);
      let server: FastifyInstance | undefined;
      let http01: FastifyInstance | undefined;
      let listen = 'none (worker role)';
      let http01Listen = 'off';
      if (opts.role !== 'worker') {
        // Issuances a crash cut short (recorded, never completed) are voided before serving.
        await app.privateCa.certificates.voidAbandoned();
        server = buildServer(app);
        listen = await startListening(server, app, config);
        const responder = await startHttp01Responder(config.http01Listen, app.http01Tokens, app.clock, app.logger);
        http01 = responder?.server;
        http01Listen = responder?.address ?? (config.http01Listen ? 'not started' : 'off');
      }
      const worker = opts.role === 'api' ? undefined : createWorker(app);
      worker?.start();
      const forget = recordServing(config, listen, (err) => app.logger.warn({ err }, 'cannot record the database served in the data directory'));
      app.logger.info({ database: databaseLabel(config.database), dataDir: config.dataDir, listen, http01Listen, role: opts.role }, 'serving');
      await untilStopped(app, { server, http01, worker }, config);
      forget();
    });
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
    const stop = (signal: string) => {
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
