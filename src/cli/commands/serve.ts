import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { databaseLabel } from '../../adapters/db/database.js';
import { ConfigError, type Config } from '../../config/config.js';
import { buildServer } from '../../http/server.js';
import { compose, type App } from '../../main.js';
import { configOf } from '../context.js';
import type { CliOutput } from '../output.js';
import { recordServing } from '../serving-record.js';

/** `certplane serve`: the API role. SIGTERM/SIGINT let in-flight requests finish, then close the database. */
export function registerServe(program: Command, _out: CliOutput): void {
  program
    .command('serve')
    .description('run the API server')
    .action(async (_opts: unknown, command: Command) => {
      const config = configOf(command);
      const app = await compose(config);
      // Issuances a crash cut short (recorded, never completed) are voided before serving.
      await app.privateCa.certificates.voidAbandoned();
      const server = buildServer(app);
      try {
        await server.listen({ port: config.port, host: config.host });
      } catch (err) {
        await app.close();
        throw listenProblem(err, config);
      }
      const address = server.server.address();
      const listen = address && typeof address === 'object' ? `${address.address}:${address.port}` : `${config.host}:${config.port}`;
      const forget = recordServing(config, listen, (err) => app.logger.warn({ err }, 'cannot record the database served in the data directory'));
      app.logger.info({ database: databaseLabel(config.database), dataDir: config.dataDir, listen }, 'serving');
      await untilStopped(app, server, config);
      forget();
    });
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

function untilStopped(app: App, server: FastifyInstance, config: Config): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        app.logger.warn({ graceMs: config.shutdownGraceMs }, 'grace period over, closing connections');
        server.server.closeAllConnections();
      }, config.shutdownGraceMs);
      force.unref();
      server
        .close()
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
