/**
 * Load generator for `bench/upload.ts`, run as its own process so the load costs no CPU time in the
 * server's process: `node dist/bench/_load.js` reads one JSON `LoadConfig` on stdin, POSTs
 * CreateCertificateV2 uploads from `concurrency` loops over a keep-alive agent, and prints one JSON
 * `LoadResult` line on stdout.
 *
 * Bounded: it stops starting requests when warm-up + duration is over, gives up on a request after
 * `requestTimeoutMs`, and a watchdog exits the process (code 3) if it is somehow still alive long
 * after that. It only talks to 127.0.0.1.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadConfig {
  port: number;
  projectId: string;
  token: string;
  /** Distinct uploads (each a leaf + intermediate chain, PEM, and the leaf's key), sent in turn. */
  uploads: Array<{ chainPem: string; keyPem: string }>;
  /** Part of every certificate name: `b<run>_<worker>_<n>` (letters, digits, '_'). */
  run: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  requestTimeoutMs?: number;
}

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
const NAME = /^[A-Za-z][A-Za-z0-9_]{3,49}$/;

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
  if (!/^[A-Za-z0-9_]{1,20}$/.test(config.run)) throw new Error('run: 1-20 letters, digits or _');
  if (!NAME.test(`b${config.run}_${config.concurrency}_${10_000_000}`)) throw new Error('run: names would be too long');
  if (!/^[\w-]+$/.test(config.projectId)) throw new Error('projectId: bad characters');
  if (typeof config.token !== 'string' || config.token === '') throw new Error('token: required');
  if (!Array.isArray(config.uploads) || config.uploads.length === 0) throw new Error('uploads: at least one');
  for (const u of config.uploads) {
    if (typeof u.chainPem !== 'string' || typeof u.keyPem !== 'string') throw new Error('uploads: chainPem and keyPem');
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const config = JSON.parse(await readStdin()) as LoadConfig;
  check(config);
  const requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
  const total = config.warmupMs + config.durationMs;
  // Watchdog: whatever happens, this process is gone shortly after its run should have ended.
  setTimeout(() => {
    process.stderr.write('load: watchdog fired, exiting\n');
    process.exit(3);
  }, total + requestTimeoutMs + 10_000).unref();

  const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency });
  const path = `/v2/${config.projectId}/apigw/certificates`;
  // Everything after the name is fixed per upload: serialise each once.
  const tails = config.uploads.map((u) => JSON.stringify({ cert_content: u.chainPem, private_key: u.keyPem }).slice(1));
  let nextUpload = 0;

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

  function post(body: string): Promise<{ status: string; text: string }> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: HOST,
          port: config.port,
          method: 'POST',
          path,
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-auth-token': config.token,
          },
        },
        (res) => {
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
        },
      );
      req.setTimeout(requestTimeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'timeout' })));
      req.once('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', text: err.message }));
      req.end(body);
    });
  }

  async function worker(id: number): Promise<void> {
    for (let n = 0; performance.now() < stopAt; n += 1) {
      const tail = tails[nextUpload++ % tails.length]!;
      const body = `{"name":"b${config.run}_${id}_${n}",${tail}`;
      sent += 1;
      const started = performance.now();
      const { status, text } = await post(body);
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
