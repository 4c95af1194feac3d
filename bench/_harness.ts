/**
 * What every bench shares: its command line, the database and environment of a `certplane serve`
 * child, reference servers (peers such as cfssl) run beside it, the load generator (bench/_load.ts)
 * run as a third process with the server's and the machine's CPU sampled over its measured window,
 * clean-up on exit and on SIGINT/SIGTERM, and the number formats of the printed tables.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, serve, type ServeProcess } from '../test/support/cli.js';
import { createTestDatabase, type Engine, type TestDatabase } from '../test/support/databases.js';
import type { LoadConfig, LoadResult } from './_load.js';

export const LOG_LEVEL = 'warn';
export const WARMUP_MS = 2_000;
const LOAD_JS = fileURLToPath(new URL('./_load.js', import.meta.url));
const CPUPROF_JS = fileURLToPath(new URL('./_cpuprof.js', import.meta.url));

// ---------------------------------------------------------------- options

export interface Options {
  durationS: number;
  concurrency: number;
  engine: Engine;
  cpuProfDir: string | undefined;
  /** `certplane serve --workers`: HTTP processes, a number or `auto` (one per core). */
  workers: string;
}

function usage(bench: string, message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- ${bench} [--duration SECONDS] [--concurrency N] [--postgres] [--workers N|auto] [--cpu-prof DIR]\n`);
  process.exit(2);
}

/** `defaults.workers`: what the bench runs `certplane serve --workers` with unless told. */
export function parseOptions(bench: string, argv: string[], defaults: { workers?: string } = {}): Options {
  const options: Options = { durationS: 10, concurrency: 16, engine: 'sqlite', cpuProfDir: undefined, workers: defaults.workers ?? '1' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? usage(bench, `${arg} needs a value`);
    // `npm run bench -- NAME -- --postgres` passes the second `--` through: read it as end-of-options noise.
    if (arg === '--') continue;
    if (arg === '--duration') {
      options.durationS = Number(value());
      if (!(options.durationS >= 1 && options.durationS <= 600)) usage(bench, '--duration: 1..600 seconds');
    } else if (arg === '--concurrency') {
      options.concurrency = Number(value());
      if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 256) usage(bench, '--concurrency: 1..256');
    } else if (arg === '--postgres') options.engine = 'postgres';
    else if (arg === '--cpu-prof') options.cpuProfDir = resolve(value());
    else if (arg === '--workers') {
      options.workers = value();
      if (options.workers !== 'auto' && !/^([1-9]|[1-5]\d|6[0-4])$/.test(options.workers)) usage(bench, '--workers: 1..64 or auto');
    }
    else usage(bench, `unknown argument ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------- server and database

let server: ServeProcess | undefined;
let database: TestDatabase | undefined;
const loads = new Set<ChildProcess>();
const peers = new Set<ChildProcess>();

export interface BenchEnv {
  /** For CLI commands: the database, data directory and quiet logs. */
  env: Record<string, string>;
  /** For `certplane serve`: `env`, plus the profiler preload under --cpu-prof. */
  serveEnv: Record<string, string>;
  /** "SQLite" or "PostgreSQL at host:port", for the heading. */
  engineLabel: string;
}

/** Creates the bench's database (dropped by cleanup()) and the environments that point at it. */
export async function setUpDatabase(options: Options): Promise<BenchEnv> {
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
  const engineLabel = options.engine === 'sqlite' ? 'SQLite' : `PostgreSQL at ${postgresWhere(database.url)}`;
  return { env, serveEnv, engineLabel };
}

/** Where a postgres:// URL points (host:port or the ?host= socket directory), without credentials. */
function postgresWhere(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.searchParams.get('host') ?? parsed.host;
  } catch {
    return '?';
  }
}

/** Runs a CLI command and returns the named string fields of its JSON answer; throws with its stderr otherwise. */
export function cliFields<K extends string>(args: string[], env: Record<string, string>, ...fields: K[]): Record<K, string> {
  const result = cli(args, env);
  const values = {} as Record<K, string>;
  for (const field of fields) {
    const value = result.json?.[field];
    if (typeof value !== 'string') throw new Error(`${args.slice(0, 2).join(' ')} failed: ${result.stderr}`);
    values[field] = value;
  }
  return values;
}

/**
 * Starts `certplane serve [--workers N]` (stopped by stopServer() or cleanup()) and returns it with its
 * port, once every process serves (with several, the primary says `serving` when all of them listen).
 */
export async function startServer(serveEnv: Record<string, string>, workers = '1'): Promise<{ server: ServeProcess; port: number }> {
  if (workers === '1') {
    server = await serve(serveEnv);
  } else {
    server = await serve(serveEnv, ['--workers', workers]);
    // /healthz answers once the first worker listens; the others are forked at the same moment. The
    // `serving` line that says all of them listen is at info level, which would also log every request.
    const wanted = workers === 'auto' ? availableParallelism() : Number(workers);
    await until(() => {
      const pid = serverPid();
      return pid !== undefined && childrenOf(pid).length >= wanted;
    }, `certplane serve --workers ${workers} did not start ${wanted} processes`);
  }
  return { server, port: Number(new URL(server.baseUrl).port) };
}

export async function stopServer(): Promise<void> {
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

// ---------------------------------------------------------------- peers

/**
 * Starts a reference server the bench compares certplane with (e.g. `cfssl serve`), its output
 * appended to `logFile`; stopped by stopPeer() or cleanup(), killed if the bench exits without them.
 */
export function spawnPeer(file: string, args: string[], logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  child.once('error', () => undefined); // seen by the caller's readiness check as an exited peer
  peers.add(child);
  child.once('exit', () => peers.delete(child));
  return child;
}

export async function stopPeer(child: ChildProcess): Promise<void> {
  peers.delete(child);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(force);
}

export async function cleanup(): Promise<void> {
  for (const child of loads) child.kill('SIGKILL');
  await Promise.all([...peers].map(stopPeer));
  await stopServer();
  const db = database;
  database = undefined;
  await db?.drop();
}

/**
 * Runs a bench's main() and exits with its code; on SIGINT/SIGTERM, or when main() throws, stops the
 * server and the load and drops the database first.
 */
export function runBench(name: string, main: () => Promise<number>): void {
  /** Set on a signal: its handler cleans up and exits; main()'s own failure is then noise. */
  let interrupted = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping the servers and the load\n`);
      cleanup().finally(() => process.exit(code));
    });
  }
  process.on('exit', () => {
    // Last resort if something above threw past cleanup().
    for (const child of loads) child.kill('SIGKILL');
    for (const child of peers) child.kill('SIGKILL');
    server?.kill('SIGKILL');
  });
  main().then(
    (code) => process.exit(code),
    async (err: unknown) => {
      if (interrupted) return; // the signal handler is cleaning up and will exit
      process.stderr.write(`bench ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      await cleanup().catch(() => undefined);
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------- CPU

async function until(done: () => boolean, why: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(why);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pid of the `certplane serve` child (its primary with --workers; CPU is counted over its process tree), from /proc; undefined elsewhere. */
export function serverPid(): number | undefined {
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const children = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const pid of children) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        // `certplane serve`, not a peer such as `cfssl serve`.
        if (argv.includes('serve') && argv.some((arg) => arg.endsWith('certplane.js'))) return Number(pid);
      }
    }
  } catch {
    // no /proc: no server CPU column
  }
  return undefined;
}

let clockTicks: number | undefined;
/**
 * CPU seconds a process and its descendants (the workers of `serve --workers`) have used so far
 * (user + system, every thread), from /proc/PID/stat; children already gone count through the
 * parent's cutime/cstime.
 */
function cpuSeconds(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const child of childrenOf(pid)) {
    try {
      ticks += cpuSeconds(child) * clockTicks;
    } catch {
      // exited meanwhile: its time is in our cutime/cstime from now on
    }
  }
  return ticks / clockTicks;
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return children;
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

// ---------------------------------------------------------------- load

/** A load result with the server's CPU (share of one core) and the machine's (share of all cores) over its window. */
export type Measured = LoadResult & { serverCpu: number; machineCpu: number };

export function runLoad(config: LoadConfig, pid: number | undefined): Promise<Measured> {
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

/** The failed requests of a load, with the server's last log lines, for the bench's failure section. */
export function describeFailures(label: string, r: Measured, logs: string[]): string[] {
  if (r.errors === 0) return [];
  const lines = [`${label}: ${r.errors} failed request(s), outcomes ${JSON.stringify(r.outcomes)}`];
  for (const sample of r.errorSamples) lines.push(`  ${sample}`);
  if (logs.length > 0) lines.push('  last server log lines:', ...logs.slice(-5).map((l) => `    ${l}`));
  return lines;
}

// ---------------------------------------------------------------- formats

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : '-');
