import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from './supervised.js';

/** The real entry point, as `npx certplane` runs it. */
export const BIN = fileURLToPath(new URL('../../../bin/certplane.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** Runs one CLI command to completion; stdout is parsed when it is one JSON object. */
export function cli(args: string[], env: Record<string, string>): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: cliEnv(env), encoding: 'utf8', timeout: 60_000 });
  return cliResult(result.status, result.stdout, result.stderr);
}

/** `cli`, without blocking the test process: several commands may run at once. */
export function cliAsync(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (status) => resolve(cliResult(status, stdout, stderr)));
  });
}

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, CERTPLANE_HTTP01_LISTEN: 'off', ...env };
}

function cliResult(status: number | null, stdout: string, stderr: string): CliResult {
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, stdout, stderr, json };
}

/** Polls `done` every 25 ms until it holds; throws `why` (given or made then) after `ms`. */
export async function until(done: () => boolean | Promise<boolean>, why: string | (() => string), ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(typeof why === 'string' ? why : why());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = freeTcpPort;

export interface ServeProcess {
  baseUrl: string;
  /** The server's process id (in `jobs.lease_owner` as `host:pid:…`). */
  pid: number;
  logs(): string[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** A `certplane serve` process, as spawnServe started it. */
export interface ServeChild {
  readonly port: number;
  readonly baseUrl: string;
  readonly pid: number;
  /** What it printed on stdout so far, line by line. */
  readonly lines: string[];
  /** Those lines that are JSON objects: its log records. */
  readonly records: Array<Record<string, unknown>>;
  stderr(): string;
  readonly exited: Promise<number | null>;
  exitCode(): number | null;
  kill(signal: NodeJS.Signals): void;
}

/** Every serve process spawned here and still running. */
const children = new Set<ChildProcess>();

/**
 * Spawns `certplane serve [args]` on `port` and returns at once. The http-01 responder stays off
 * unless `env` sets it: port 80 is no test's to take.
 */
export function spawnServe(args: string[], env: Record<string, string>, port: number): ServeChild {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, CERTPLANE_PORT: String(port), CERTPLANE_HTTP01_LISTEN: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) {
      lines.push(line);
      try {
        const record: unknown = JSON.parse(line);
        if (record !== null && typeof record === 'object' && !Array.isArray(record)) records.push(record as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    lines,
    records,
    stderr: () => stderr,
    exited,
    exitCode: () => child.exitCode,
    kill: (signal) => child.kill(signal),
  };
}

/** SIGKILLs every serve process spawned here that still runs: for a test file's `after`, so a failed test leaves none behind. */
export function killServes(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Starts `certplane serve [args]` as its own process and waits until /healthz answers. */
export async function serve(env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  const child = spawnServe(args, env, await freePort());
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode() !== null) throw new Error(`certplane serve exited early: ${child.stderr()}`);
    try {
      if ((await fetch(`${child.baseUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`certplane serve did not start: ${child.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl: child.baseUrl, pid: child.pid, logs: () => child.lines, exited: child.exited, kill: child.kill };
}
