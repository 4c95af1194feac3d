/**
 * A real Prometheus server for tests (Debian's `prometheus` package): scrapes one target every
 * second with the scrape configuration docs/metrics.md shows, in its own temp dir and on a free
 * port; queried through its HTTP API as an operator would.
 */
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, HOST, logText, sleep, Supervised } from './supervised.js';

export const PROMETHEUS = '/usr/bin/prometheus';
const READY_MS = 20_000;

export interface ScrapeTarget {
  /** `host:port` of the certplane server. */
  target: string;
  /** The bearer token, written to the file `credentials_file` names (as docs/metrics.md shows). */
  token?: string;
}

/** One target as `/api/v1/targets` reports it. */
export interface TargetState {
  health: string;
  lastError: string;
  scrapeUrl: string;
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query's result vector (`/api/v1/query`). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The active scrape targets. */
  targets(): Promise<TargetState[]>;
  /** Prometheus' own log so far. */
  log(): string;
  /** Stops Prometheus and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startPrometheus(scrape: ScrapeTarget): Promise<PrometheusServer> {
  try {
    accessSync(PROMETHEUS, constants.X_OK);
  } catch {
    throw new Error(`${PROMETHEUS} not found: apt-get install prometheus`);
  }
  // A free port is only probed, not held: when another process takes it first, Prometheus exits
  // with "address already in use" and the start is retried on another port.
  for (let attempt = 1; ; attempt++) {
    const server = new Prometheus(scrape, await freeTcpPort());
    try {
      await server.waitUntilReady();
      return server;
    } catch (err) {
      await server.stop();
      if (!/address already in use/.test(server.log()) || attempt === 3) throw err;
    }
  }
}

class Prometheus implements PrometheusServer {
  readonly url: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'certplane-prometheus-'));
  private readonly process: Supervised;

  constructor(scrape: ScrapeTarget, port: number) {
    this.url = `http://${HOST}:${port}`;
    let auth = '';
    if (scrape.token !== undefined) {
      writeFileSync(this.file('certplane.token'), scrape.token, { mode: 0o600 });
      auth = `    authorization: { type: Bearer, credentials_file: ${this.file('certplane.token')} }\n`;
    }
    writeFileSync(
      this.file('prometheus.yml'),
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }\n' +
        `scrape_configs:\n  - job_name: certplane\n${auth}    static_configs: [{ targets: ['${scrape.target}'] }]\n`,
    );
    const log = openSync(this.file('prometheus.log'), 'a');
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${this.file('prometheus.yml')}`,
        `--storage.tsdb.path=${this.file('data')}`,
        `--web.listen-address=${HOST}:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.process = new Supervised(child, this.dir, { comm: 'prometheus' });
  }

  async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_MS;
    for (;;) {
      if (this.process.exited) throw new Error(`prometheus exited during start-up:\n${this.log()}`);
      const ready = await fetch(`${this.url}/-/ready`).then((res) => res.ok, () => false);
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within ${READY_MS} ms:\n${this.log()}`);
      await sleep(100);
    }
  }

  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    return (await this.api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result;
  }

  async targets(): Promise<TargetState[]> {
    return (await this.api<{ activeTargets: TargetState[] }>('/api/v1/targets')).activeTargets;
  }

  log(): string {
    return logText(this.file('prometheus.log'));
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  private file(name: string): string {
    return join(this.dir, name);
  }
}
