import { spawn, spawnSync } from 'node:child_process';
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

/** Starts `certplane serve [args]` as its own process and waits until /healthz answers. */
export async function serve(env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    // The http-01 responder stays off unless a test asks for it: port 80 is no test's to take.
    env: { ...process.env, CERTPLANE_PORT: String(port), CERTPLANE_HTTP01_LISTEN: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`certplane serve exited early: ${stderr}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`certplane serve did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, pid: child.pid!, logs: () => lines, exited, kill: (signal) => child.kill(signal) };
}
