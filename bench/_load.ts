/**
 * Load generator for the benches, run as its own process so the load costs no CPU time in the
 * server's process: `node dist/bench/_load.js` reads one JSON `LoadConfig` on stdin, sends requests
 * of the kind it names (bench/_requests.ts: `upload`, `getsite`, `healthz`, `cfssl-sign`) from
 * `concurrency` loops over a keep-alive agent, and prints one JSON `LoadResult` line on stdout.
 *
 * Bounded: it stops starting requests when warm-up + duration is over, gives up on a request after
 * `requestTimeoutMs`, and a watchdog exits the process (code 3) if it is somehow still alive long
 * after that. It only talks to 127.0.0.1.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { requestMaker, type LoadKind, type OutgoingRequest } from './_requests.js';

export type LoadConfig = LoadKind & {
  port: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs?: number;
};

export interface LoadResult {
  /** 200 responses completed inside the measured window. */
  ok: number;
  /** Non-200 responses and failed requests over the whole run, warm-up included. */
  errors: number;
  /** Every outcome over the whole run: HTTP status, or 'timeout' / the socket error code. */
  outcomes: Record<string, number>;
  /** The first few failures, with the response body. */
  errorSamples: string[];
  /** Requests sent over the whole run (warm-up and measured window). */
  sent: number;
  /** Length of the measured window, seconds. */
  seconds: number;
  /** ok / seconds. */
  perSecond: number;
  /** Latency of the measured 200s, milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU this process used during the measured window, as a share of one core. */
  clientCpu: number;
}

const HOST = '127.0.0.1';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

function check(config: LoadConfig): void {
  const int = (value: unknown, min: number, max: number): boolean =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
  if (!int(config.port, 1, 65535)) throw new Error('port: 1..65535');
  if (!int(config.concurrency, 1, 1024)) throw new Error('concurrency: 1..1024');
  if (!int(config.warmupMs, 0, 600_000)) throw new Error('warmupMs: 0..600000');
  if (!int(config.durationMs, 100, 3_600_000)) throw new Error('durationMs: 100..3600000');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const config = JSON.parse(await readStdin()) as LoadConfig;
  check(config);
  const make = requestMaker(config, config.port, config.concurrency);
  const requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
  const total = config.warmupMs + config.durationMs;
  // Watchdog: whatever happens, this process is gone shortly after its run should have ended.
  setTimeout(() => {
    process.stderr.write('load: watchdog fired, exiting\n');
    process.exit(3);
  }, total + requestTimeoutMs + 10_000).unref();

  const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency });

  const t0 = performance.now();
  const measureFrom = t0 + config.warmupMs;
  const stopAt = measureFrom + config.durationMs;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  const startTimer = setTimeout(() => (cpuAtStart = process.cpuUsage()), config.warmupMs);
  const endTimer = setTimeout(() => (cpuAtEnd = process.cpuUsage()), total);

  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const errorSamples: string[] = [];
  let ok = 0;
  let errors = 0;
  let sent = 0;

  const fail = (outcome: string, detail: string): void => {
    errors += 1;
    if (errorSamples.length < 5) errorSamples.push(`${outcome}: ${detail.slice(0, 300)}`);
  };

  function send(out: OutgoingRequest): Promise<{ status: string; text: string }> {
    return new Promise((resolve) => {
      const { method, path, headers } = out;
      const req = request({ host: HOST, port: config.port, method, path, agent, headers }, (res) => {
        const status = String(res.statusCode ?? 0);
        // The body of a 200 is not needed; drain it without decoding.
        if (status === '200') {
          res.resume();
          res.once('end', () => resolve({ status, text: '' }));
        } else {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.once('end', () => resolve({ status, text }));
        }
        res.once('error', (err) => resolve({ status: 'response_error', text: err.message }));
      });
      req.setTimeout(requestTimeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'timeout' })));
      req.once('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', text: err.message }));
      req.end(out.body);
    });
  }

  async function worker(id: number): Promise<void> {
    for (let n = 0; performance.now() < stopAt; n += 1) {
      const out = make(id, n);
      sent += 1;
      const started = performance.now();
      const { status, text } = await send(out);
      const finished = performance.now();
      outcomes[status] = (outcomes[status] ?? 0) + 1;
      if (status !== '200') fail(status, text);
      else if (finished >= measureFrom && finished <= stopAt) {
        ok += 1;
        latencies.push(finished - started);
      }
    }
  }

  await Promise.all(Array.from({ length: config.concurrency }, (_, i) => worker(i)));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  // The last workers can finish a hair before the end timer fires (a fast server, the timer made
  // after t0): the window has ended either way, so sample now rather than report no CPU at all.
  cpuAtEnd ??= process.cpuUsage();
  agent.destroy();

  const cpu = cpuAtStart && cpuAtEnd ? cpuAtEnd.user + cpuAtEnd.system - cpuAtStart.user - cpuAtStart.system : Number.NaN;
  latencies.sort((a, b) => a - b);
  const seconds = config.durationMs / 1000;
  const result: LoadResult = {
    ok,
    errors,
    outcomes,
    errorSamples,
    sent,
    seconds,
    perSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
    clientCpu: cpu / 1000 / config.durationMs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
