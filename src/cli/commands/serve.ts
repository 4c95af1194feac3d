import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { buildServer } from '../../http/server.js';
import { compose } from '../../main.js';
import type { CliOutput } from '../output.js';

/** `certplane serve`: the API role. SIGTERM/SIGINT let in-flight requests finish, then close the database. */
export function registerServe(program: Command, _out: CliOutput): void {
  program
    .command('serve')
    .description('run the API server')
    .action(async (_opts: unknown, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const config = loadConfig({ env: process.env, configFile: globals.config });
      const app = await compose(config);
      const server = buildServer(app);
      await server.listen({ port: config.port, host: config.host });
      await new Promise<void>((resolve) => {
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
    });
}
