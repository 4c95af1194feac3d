/**
 * `certplane serve --workers N`: this process (the primary) migrates the database and voids
 * abandoned issuances once, then runs N copies of `serve` as node:cluster workers. They share the
 * listening socket (the primary hands each new connection to the next worker) and the database:
 * PostgreSQL as any set of clients, SQLite in WAL mode (writers take turns on its write lock; see
 * GroupCommit). Every guarantee of one process holds across them, because none of them rests on
 * memory: nonces, key status, records and audit rows are in the database.
 *
 * The primary says `serving` once every worker listens; a worker that fails before that stops the
 * whole start (its own error is on stderr); one that dies later is replaced. A scrape of /metrics
 * that reaches any worker shows the counters of all of them (the primary gathers them). SIGTERM/SIGINT reach
 * every worker, which stops as a single `serve` does, and the primary exits when the last is gone.
 */
import cluster, { type Worker } from 'node:cluster';
import { databaseLabel } from '../../adapters/db/database.js';
import { ConfigError, type Config } from '../../config/config.js';
import { compose } from '../../main.js';
import { recordServing } from '../serving-record.js';
import { answerClusterScrapes } from '../../adapters/metrics/cluster-metrics.js';

/** A worker that dies is replaced after this pause; more than RESTART_BURST deaths within RESTART_WINDOW_MS stop the server. */
const RESTART_DELAY_MS = 1000;
const RESTART_BURST = 5;
const RESTART_WINDOW_MS = 60_000;
/** After the grace period, workers still running get this long before they are killed. */
const KILL_AFTER_GRACE_MS = 10_000;

export async function runCluster(config: Config, workers: number): Promise<void> {
  const app = await compose(config);
  const logger = app.logger.child({ role: 'primary' });
  try {
    // Before any worker serves: issuances a crash cut short (recorded, never completed) are void.
    await app.privateCa.certificates.voidAbandoned();
  } finally {
    await app.close();
  }

  // A worker's scrape shows the counters of every worker (the primary gathers them).
  answerClusterScrapes(logger);
  const live = new Map<number, Worker>();
  const listening = new Set<number>();
  const deaths: number[] = [];
  let ready = false;
  let stopping = false;
  let forget: (() => void) | undefined;

  await new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    const stopAll = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      for (const worker of live.values()) worker.process.kill(signal);
      const kill = setTimeout(() => {
        for (const worker of live.values()) worker.process.kill('SIGKILL');
      }, config.shutdownGraceMs + KILL_AFTER_GRACE_MS);
      kill.unref();
    };
    const fork = () => {
      const worker = cluster.fork();
      live.set(worker.id, worker);
      worker.on('listening', (address) => {
        listening.add(worker.id);
        if (ready || stopping || listening.size < workers) return;
        ready = true;
        const listen = `${address.address ?? config.host}:${address.port}`;
        forget = recordServing(config, listen, (err) => logger.warn({ err }, 'cannot record the database served in the data directory'));
        const pids = [...live.values()].map((w) => w.process.pid);
        logger.info({ database: databaseLabel(config.database), dataDir: config.dataDir, listen, workers, pids }, 'serving');
      });
      worker.on('exit', (code, signal) => {
        live.delete(worker.id);
        listening.delete(worker.id);
        if (stopping) {
          if (live.size === 0) {
            forget?.();
            if (failure) reject(failure);
            else resolve();
          }
          return;
        }
        if (!ready) {
          // Its own error (a port in use, a bad setting) is on stderr already.
          failure = new ConfigError([`--workers: a serving process (pid ${worker.process.pid}) exited with ${code ?? signal} before listening; its error is above`], 'cannot start');
          stopAll('SIGTERM');
          if (live.size === 0) reject(failure);
          return;
        }
        const now = Date.now();
        deaths.push(now);
        while (deaths.length > 0 && deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
        if (deaths.length > RESTART_BURST) {
          logger.error({ pid: worker.process.pid, code, signal, deaths: deaths.length }, 'serving processes keep dying; stopping');
          failure = new Error(`${deaths.length} serving processes died within ${RESTART_WINDOW_MS / 1000} s`);
          stopAll('SIGTERM');
          return;
        }
        logger.error({ pid: worker.process.pid, code, signal }, 'a serving process died; starting another');
        setTimeout(() => {
          if (!stopping) fork();
        }, RESTART_DELAY_MS);
      });
    };
    process.once('SIGTERM', () => {
      logger.info({ signal: 'SIGTERM' }, 'shutting down');
      stopAll('SIGTERM');
    });
    process.once('SIGINT', () => {
      logger.info({ signal: 'SIGINT' }, 'shutting down');
      stopAll('SIGTERM');
    });
    for (let i = 0; i < workers; i++) fork();
  });
}
