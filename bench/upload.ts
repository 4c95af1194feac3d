/**
 * `npm run bench -- upload [--duration S] [--concurrency N] [--postgres] [--cpu-prof DIR]`
 *
 * CreateCertificateV2 uploads per second (RSA-2048 and ECDSA P-256 chains, leaf + intermediate, with
 * the leaf's key) against `certplane serve` running as its own process, with the load coming from a
 * third process (bench/_load.ts), next to the ceiling measured in this same run: how many times per
 * second node:crypto's X509Certificate parses the same chain in one process. Target: uploads at
 * ≥ 25 % of that ceiling (parsing, key match, chain check, encryption and storage all included).
 *
 * Every upload carries a different leaf (a pool of LEAVES distinct leaves under one intermediate,
 * sent in turn), as a fleet's certificates do; the intermediate is shared, as it is in practice.
 * The server runs twice: with its issuer cache off (every certificate of every chain parsed), then
 * as configured by default (parsed intermediates reused); the second run is the one judged.
 *
 * Exits 0 when both chains meet the target with no failed request, 1 otherwise.
 * `--cpu-prof DIR` profiles the server (V8 sampling profiler, via bench/_cpuprof.ts) and leaves its
 * .cpuprofile in DIR (open it in Chrome DevTools or speedscope).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cli, serve, type ServeProcess } from '../test/support/cli.js';
import { createTestDatabase, type Engine, type TestDatabase } from '../test/support/databases.js';
import { generateKey, makeChain, makeLeaf, type Chain, type KeyAlg } from '../test/support/openssl.js';
import type { LoadConfig, LoadResult } from './_load.js';

const TARGET = 0.25;
const LOG_LEVEL = 'warn';
const CEILING_SLICES = 3;
const CEILING_SLICE_MS = 1_000;
const WARMUP_MS = 2_000;
/** Distinct leaves per key type; keys are shared between leaves in groups (RSA key generation is slow). */
const LEAVES = 160;
const KEYS = 8;
const LOAD_JS = fileURLToPath(new URL('./_load.js', import.meta.url));
const CPUPROF_JS = fileURLToPath(new URL('./_cpuprof.js', import.meta.url));

interface Options {
  durationS: number;
  concurrency: number;
  engine: Engine;
  cpuProfDir: string | undefined;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- upload [--duration SECONDS] [--concurrency N] [--postgres] [--cpu-prof DIR]\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const options: Options = { durationS: 10, concurrency: 16, engine: 'sqlite', cpuProfDir: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--duration') {
      options.durationS = Number(value());
      if (!(options.durationS >= 1 && options.durationS <= 600)) usage('--duration: 1..600 seconds');
    } else if (arg === '--concurrency') {
      options.concurrency = Number(value());
      if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 256) usage('--concurrency: 1..256');
    } else if (arg === '--postgres') options.engine = 'postgres';
    else if (arg === '--cpu-prof') options.cpuProfDir = resolve(value());
    else usage(`unknown argument ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------- ceiling

const CERT_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\r?\n?/g;

/** Parses the chain once: split into certificates, one X509Certificate each. */
function parseChainOnce(chainPem: string): number {
  let n = 0;
  for (const pem of chainPem.match(CERT_PEM) ?? []) {
    if (new X509Certificate(pem).serialNumber) n += 1;
  }
  return n;
}

/**
 * Chains per second node:crypto's X509Certificate parses in this process: the best of `slices`
 * slices of `ms` each, so a burst from another process on this small machine lowers no ceiling
 * (the best slice is the strictest yardstick for the target).
 */
function ceiling(chainPem: string, slices: number, ms: number): number {
  if (parseChainOnce(chainPem) < 2) throw new Error('expected a chain of at least two certificates');
  for (let i = 0; i < 500; i += 1) parseChainOnce(chainPem); // warm-up
  let best = 0;
  for (let slice = 0; slice < slices; slice += 1) {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < 50; i += 1) parseChainOnce(chainPem);
      count += 50;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, count / (elapsed / 1000));
  }
  return best;
}

// ---------------------------------------------------------------- processes

let server: ServeProcess | undefined;
let database: TestDatabase | undefined;
const loads = new Set<ChildProcess>();

/** The pid of the `certplane serve` child (for its CPU time), from /proc; undefined elsewhere. */
function serverPid(): number | undefined {
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const children = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const pid of children) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv.includes('serve')) return Number(pid);
      }
    }
  } catch {
    // no /proc: no server CPU column
  }
  return undefined;
}

let clockTicks: number | undefined;
/** CPU seconds a process has used so far (user + system), from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

type Measured = LoadResult & { serverCpu: number; machineCpu: number };

function runLoad(config: LoadConfig, pid: number | undefined): Promise<Measured> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--enable-source-maps', LOAD_JS], { stdio: ['pipe', 'pipe', 'inherit'] });
    loads.add(child);
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // Server CPU over the measured window, sampled on this side of the pipe (child start-up ≈ tens of ms off).
    let cpuFrom: number | undefined;
    let cpuTo: number | undefined;
    let machineFrom: ReturnType<typeof machineTicks>;
    let machineTo: ReturnType<typeof machineTicks>;
    const sample = (): number | undefined => {
      try {
        return pid === undefined ? undefined : cpuSeconds(pid);
      } catch {
        return undefined;
      }
    };
    const t1 = setTimeout(() => {
      cpuFrom = sample();
      machineFrom = machineTicks();
    }, config.warmupMs);
    const t2 = setTimeout(() => {
      cpuTo = sample();
      machineTo = machineTicks();
    }, config.warmupMs + config.durationMs);
    // Belt and braces: the child has its own watchdog, this one kills it from outside.
    const guard = setTimeout(() => child.kill('SIGKILL'), config.warmupMs + config.durationMs + 60_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      loads.delete(child);
      clearTimeout(t1);
      clearTimeout(t2);
      clearTimeout(guard);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`load process exited with ${code ?? signal}: ${stdout}`));
      try {
        const result = JSON.parse(line) as LoadResult;
        const serverCpu = cpuFrom !== undefined && cpuTo !== undefined ? (cpuTo - cpuFrom) / (config.durationMs / 1000) : Number.NaN;
        const machineCpu =
          machineFrom && machineTo ? (machineTo.busy - machineFrom.busy) / (machineTo.total - machineFrom.total) : Number.NaN;
        resolvePromise({ ...result, serverCpu, machineCpu });
      } catch {
        reject(new Error(`load process printed no result: ${stdout}`));
      }
    });
    child.stdin!.end(JSON.stringify(config));
  });
}

async function stopServer(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s) return;
  s.kill('SIGTERM');
  const done = await Promise.race([s.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  if (!done) {
    s.kill('SIGKILL');
    await s.exited;
  }
}

async function cleanup(): Promise<void> {
  for (const child of loads) child.kill('SIGKILL');
  await stopServer();
  const db = database;
  database = undefined;
  await db?.drop();
}

/** Set on SIGINT/SIGTERM: the signal handler cleans up and exits; main()'s own failure is then noise. */
let interrupted = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the server and the load\n`);
    cleanup().finally(() => process.exit(code));
  });
}
process.on('exit', () => {
  // Last resort if something above threw past cleanup().
  for (const child of loads) child.kill('SIGKILL');
  server?.kill('SIGKILL');
});

// ---------------------------------------------------------------- main

/** Where a postgres:// URL points (host:port or the ?host= socket directory), without credentials. */
function postgresWhere(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.searchParams.get('host') ?? parsed.host;
  } catch {
    return '?';
  }
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : '-');

/** `count` distinct leaves under the chain's intermediate, each with the chain's intermediate appended. */
function leafPool(alg: KeyAlg, chain: Chain, count: number): Array<{ chainPem: string; keyPem: string }> {
  const keys = Array.from({ length: KEYS }, (_, i) => (i === 0 ? chain.key : generateKey(alg)));
  return Array.from({ length: count }, (_, i) => {
    const leaf = makeLeaf({ issuer: chain.intermediate, alg, cn: `leaf${i}.bench.example`, keyPem: keys[i % KEYS]! });
    return { chainPem: leaf.certPem + chain.intermediate.certPem, keyPem: leaf.keyPem };
  });
}

interface Round {
  label: string;
  /** Server environment beyond the common one. */
  env: Record<string, string>;
  judged: boolean;
}

const ROUNDS: Round[] = [
  { label: 'issuer cache off', env: { CERTPLANE_ISSUER_CACHE_SIZE: '0' }, judged: false },
  { label: 'default', env: {}, judged: true },
];

/** Starts the server, makes an account and token, runs every chain's load, stops the server. */
async function runRound(
  round: Round,
  env: Record<string, string>,
  serveEnv: Record<string, string>,
  pools: Array<{ tag: string; uploads: Array<{ chainPem: string; keyPem: string }> }>,
  options: Options,
): Promise<{ results: Measured[]; logs: string[] }> {
  server = await serve({ ...serveEnv, ...round.env });
  const port = Number(new URL(server.baseUrl).port);
  const account = cli(['account', 'create', '--name', 'bench'], env);
  const accountId = account.json?.accountId;
  const projectId = account.json?.projectId;
  if (typeof accountId !== 'string' || typeof projectId !== 'string') throw new Error(`account create failed: ${account.stderr}`);
  const tokenResult = cli(['token', 'create', '--account', accountId, '--ttl', '24h'], env);
  const token = tokenResult.json?.token;
  if (typeof token !== 'string') throw new Error(`token create failed: ${tokenResult.stderr}`);
  const pid = serverPid();
  const stamp = Date.now().toString(36);
  const results: Measured[] = [];
  for (const { tag, uploads } of pools) {
    const config: LoadConfig = {
      port,
      projectId,
      token,
      uploads,
      run: `${stamp}_${tag}`,
      concurrency: options.concurrency,
      warmupMs: WARMUP_MS,
      durationMs: options.durationS * 1000,
    };
    results.push(await runLoad(config, pid));
  }
  const logs = server.logs();
  await stopServer();
  return { results, logs };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const chains = [
    { label: 'RSA-2048', tag: 'rsa', alg: 'rsa' as const, chain: makeChain('rsa') },
    { label: 'ECC P-256', tag: 'ecc', alg: 'p256' as const, chain: makeChain('p256') },
  ];

  // The ceiling first, before the server and the load start competing for the cores.
  const ceilings = chains.map(({ chain }) => ceiling(chain.chainPem, CEILING_SLICES, CEILING_SLICE_MS));
  const pools = chains.map(({ tag, alg, chain }) => ({ tag, uploads: leafPool(alg, chain, LEAVES) }));

  database = await createTestDatabase(options.engine);
  const env: Record<string, string> = {
    CERTPLANE_DATA_DIR: database.dataDir,
    DATABASE_URL: database.url,
    CERTPLANE_LOG_LEVEL: LOG_LEVEL,
    CERTPLANE_HOST: '127.0.0.1',
    CERTPLANE_CONFIG: '',
    CERTPLANE_MASTER_KEY: '',
  };
  const serveEnv = { ...env };
  if (options.cpuProfDir) {
    // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the profiler through node:inspector instead.
    mkdirSync(options.cpuProfDir, { recursive: true });
    serveEnv.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${CPUPROF_JS}`.trim();
    serveEnv.CERTPLANE_BENCH_CPUPROF_DIR = options.cpuProfDir;
  }
  const rounds: Array<{ round: Round; results: Measured[]; logs: string[] }> = [];
  for (const round of ROUNDS) rounds.push({ round, ...(await runRound(round, env, serveEnv, pools, options)) });
  const databaseUrl = database.url;
  await cleanup();

  const engine = options.engine === 'sqlite' ? 'SQLite' : `PostgreSQL at ${postgresWhere(databaseUrl)}`;
  const lines = [
    `upload (CreateCertificateV2), concurrency ${options.concurrency}, ${engine}, ${options.durationS} s each after ${WARMUP_MS / 1000} s warm-up, server log level ${LOG_LEVEL}${options.cpuProfDir ? ', server being profiled' : ''}`,
    `uploads: ${LEAVES} distinct leaves per key type under one shared intermediate, sent in turn; every upload is parsed, key-matched, chain-checked, sealed and stored`,
    `ceiling: node:crypto X509Certificate parses of the same chain (leaf + intermediate) in one process, best of ${CEILING_SLICES} × ${CEILING_SLICE_MS / 1000} s`,
    '',
    ['chain'.padEnd(11), 'server'.padEnd(16), 'uploads/s'.padStart(9), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'errors'.padStart(6), 'server CPU'.padStart(10), 'load CPU'.padStart(8), 'machine'.padStart(7), 'ceiling chains/s'.padStart(16), 'ratio'.padStart(6), `  target ≥ ${TARGET * 100}%`].join('  '),
  ];
  let pass = true;
  const failures: string[] = [];
  for (const { round, results, logs } of rounds) {
    chains.forEach(({ label }, i) => {
      const r = results[i]!;
      const ratio = r.perSecond / ceilings[i]!;
      const ok = ratio >= TARGET && r.errors === 0;
      if (round.judged) pass &&= ok;
      if (r.errors > 0) pass = false;
      lines.push(
        [
          label.padEnd(11),
          round.label.padEnd(16),
          fmt(r.perSecond).padStart(9),
          fmt(r.p50Ms, 1).padStart(7),
          fmt(r.p99Ms, 1).padStart(7),
          String(r.errors).padStart(6),
          pct(r.serverCpu).padStart(10),
          pct(r.clientCpu).padStart(8),
          pct(r.machineCpu).padStart(7),
          fmt(ceilings[i]!).padStart(16),
          pct(ratio).padStart(6),
          `  ${round.judged ? (ok ? 'PASS' : 'FAIL') : 'reference'}`,
        ].join('  '),
      );
      if (r.errors > 0) {
        failures.push(`${label} (${round.label}): ${r.errors} failed request(s), outcomes ${JSON.stringify(r.outcomes)}`);
        for (const sample of r.errorSamples) failures.push(`  ${sample}`);
        if (logs.length > 0) failures.push('  last server log lines:', ...logs.slice(-5).map((l) => `    ${l}`));
      }
    });
  }
  lines.push('', `CPU over the measured window: server (the certplane serve process) and load (the load generator) as a share of one core; machine = all ${cpus().length} cores busy, other processes included.`);
  if (failures.length > 0) lines.push('', 'FAILED REQUESTS (any non-200 fails the bench):', ...failures);
  if (options.cpuProfDir) lines.push('', `server CPU profiles written to ${options.cpuProfDir}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    if (interrupted) return; // the signal handler is cleaning up and will exit
    process.stderr.write(`bench upload: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanup().catch(() => undefined);
    process.exit(1);
  },
);
