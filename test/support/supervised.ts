/**
 * What the tests' real servers (BIND, pebble, nginx, Prometheus) share: free ports, and a process
 * that cannot outlive the test process. Each server's process gets a watchdog that holds a pipe from
 * the test process: if the test process dies in any way (SIGTERM from the runner, SIGKILL, where no
 * exit hook runs) the pipe closes and the watchdog kills the server and removes its directory. The
 * watchdog first checks the pid's name, so it never kills a stranger that reused the pid of a server
 * long gone. Servers a test left running are killed by an exit hook as well.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';

export const HOST = '127.0.0.1';

/** $1 pid, $2 directory, $3 the pid's expected name, $4 '-' to kill its whole process group. */
const WATCHDOG = `read cmd; [ "$cmd" = stop ] && exit 0
[ "$(cat /proc/$1/comm 2>/dev/null)" = "$3" ] && kill -KILL "$4$1"
rm -rf "$2"`;

export interface SupervisedOptions {
  /** The process's name as /proc/PID/comm shows it (at most 15 characters). */
  comm: string;
  /** The process was spawned detached and leads a group (nginx's master and its workers): kill the group. */
  group?: boolean;
}

/** Servers not stopped yet; killed when the test process exits without stopping them. */
const live = new Set<Supervised>();
let exitHookInstalled = false;

export class Supervised {
  private readonly watchdog: ChildProcess;
  private stopping: Promise<void> | undefined;

  /** Takes charge of `child` and of `dir`, which goes when the process does. */
  constructor(
    readonly child: ChildProcess,
    private readonly dir: string,
    private readonly options: SupervisedOptions,
  ) {
    child.on('error', () => undefined); // a failed spawn shows as exited; the server's start reports it
    this.watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'sh', String(child.pid), dir, options.comm, options.group ? '-' : ''], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // Unreferenced, so a test file that forgets stop() still exits (and the exit hook cleans up).
    child.unref();
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as net.Socket).unref();
    live.add(this);
    installExitHook();
  }

  /** The process has exited (or never started). */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined;
  }

  /**
   * SIGTERM, then SIGKILL if the process has not exited after 3 s (with its group: anything left of
   * it), then the watchdog is told to stand down and the directory is removed. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      live.delete(this);
      await ended(this.child, () => this.child.kill('SIGTERM'));
      if (this.options.group) killGroup(this.child.pid, 'SIGKILL');
      await ended(this.watchdog, () => (this.watchdog.stdin as NodeJS.WritableStream).end('stop\n'));
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** Synchronous, for the process exit hook. */
  killNow(): void {
    if (this.options.group) killGroup(this.child.pid, 'SIGKILL');
    else this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // no such group: everything in it has exited
  }
}

/** A TCP port free on 127.0.0.1 right now (only probed, not held: a start must retry when it is taken). */
export async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `count` distinct TCP ports free right now. */
export async function freeTcpPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeTcpPort());
  return [...ports];
}

/** A server's log file as it is now; empty while it does not exist (or once its directory is gone). */
export function logText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `stop` and waits for the process to exit; SIGKILL if it has not after 3 s. */
async function ended(child: ChildProcess, stop: () => void): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.ref();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  stop();
  const force = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(force);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of live) server.killNow();
  });
}
