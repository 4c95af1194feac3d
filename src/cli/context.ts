import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config/config.js';
import { compose, type App } from '../main.js';
import { refuseIfServerDisagrees } from './serving-record.js';

/** The settings of this invocation: `--config` when given, the environment otherwise. */
export function configOf(command: Command): Config {
  const globals = command.optsWithGlobals<{ config?: string }>();
  return loadConfig({ env: process.env, configFile: globals.config });
}

/**
 * Builds the app for one operator command (logs to stderr, so stdout stays one JSON object) and
 * closes it. Before touching any database it checks that a server running on the same data
 * directory uses the same one, and it says so on stderr when it is about to create a new SQLite
 * database: both are how a command run in the wrong shell would otherwise go unseen.
 */
export async function withApp<T>(command: Command, work: (app: App) => Promise<T>): Promise<T> {
  const config = configOf(command);
  refuseIfServerDisagrees(config);
  if (config.database.kind === 'sqlite' && !existsSync(config.database.file)) {
    process.stderr.write(`certplane: creating a new SQLite database at ${config.database.file} (DATABASE_URL selects another)\n`);
  }
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const app = await compose(config, { logger });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
