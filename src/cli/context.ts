import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { compose, type App } from '../main.js';

/** Builds the app for one operator command (logs to stderr, so stdout stays one JSON object) and closes it. */
export async function withApp<T>(command: Command, work: (app: App) => Promise<T>): Promise<T> {
  const globals = command.optsWithGlobals<{ config?: string }>();
  const config = loadConfig({ env: process.env, configFile: globals.config });
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const app = await compose(config, { logger });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
