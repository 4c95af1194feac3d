/**
 * The `hook` DNS provider: runs an operator's command to publish and to withdraw a record, with the
 * contract of lego's `exec` provider, so scripts written for it work unchanged:
 *
 *   COMMAND… present NAME. VALUE      (then, after validation)   COMMAND… cleanup NAME. VALUE
 *
 * NAME is the fully qualified record name with its trailing dot, VALUE the TXT value. The same comes
 * in the environment: CERTPLANE_DNS_ACTION (present | cleanup), CERTPLANE_DNS_NAME, CERTPLANE_DNS_VALUE,
 * CERTPLANE_DNS_TTL. Exit 0 means done; any other exit is an error carrying the command's stderr.
 * The command runs in its own process group, killed when it outlives its timeout or the job is given up.
 */
import { spawn } from 'node:child_process';
import {
  DnsProviderError,
  type DnsProvider,
  type DnsProviderCallOptions,
  type DnsRecordHandle,
  type TxtRecord,
} from '../../core/validation/ports.js';

export interface HookSettings {
  /** The program and its first arguments; the action, name and value are appended. */
  command: string[];
  /** How long one run may take (default 60 s). */
  timeoutSeconds?: number | undefined;
}

/** Time a killed command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;
/** The tail of stderr kept for the error message. */
const STDERR_BYTES = 4096;

export class HookProvider implements DnsProvider {
  readonly type = 'hook';
  private readonly timeoutMs: number;

  constructor(private readonly settings: HookSettings) {
    if (settings.command.length === 0 || settings.command[0] === '') throw new RangeError('the hook command is empty');
    this.timeoutMs = (settings.timeoutSeconds ?? 60) * 1000;
  }

  async create(record: TxtRecord, options: DnsProviderCallOptions = {}): Promise<DnsRecordHandle> {
    const name = record.name.replace(/\.$/, '').toLowerCase();
    await this.run('present', { ...record, name }, options.signal);
    return { provider: this.type, record: { ...record, name }, detail: {} };
  }

  async remove(handle: DnsRecordHandle, options: DnsProviderCallOptions = {}): Promise<void> {
    if (handle.provider !== this.type) {
      throw new DnsProviderError(`the record was made by the ${handle.provider} provider, not hook: remove it there`, false);
    }
    await this.run('cleanup', handle.record, options.signal);
  }

  private run(action: 'present' | 'cleanup', record: TxtRecord, signal: AbortSignal | undefined): Promise<void> {
    const [program, ...args] = this.settings.command as [string, ...string[]];
    const fqdn = `${record.name}.`;
    const env = {
      ...hookEnvironment(process.env),
      CERTPLANE_DNS_ACTION: action,
      CERTPLANE_DNS_NAME: fqdn,
      CERTPLANE_DNS_VALUE: record.value,
      CERTPLANE_DNS_TTL: String(record.ttl),
    };
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const child = spawn(program, [...args, action, fqdn, record.value], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      let stderr = '';
      let stopped: string | undefined;
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_BYTES);
      });
      let force: NodeJS.Timeout | undefined;
      const kill = (why: string) => {
        stopped ??= why;
        killGroup(child.pid, 'SIGTERM');
        force ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      const timer = setTimeout(() => kill('timeout'), this.timeoutMs);
      const onAbort = () => kill('aborted');
      signal?.addEventListener('abort', onAbort);
      const described = `dns01 hook ${action} ${fqdn}`;
      child.once('error', (err) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(new DnsProviderError(`${described}: cannot run ${program}: ${err.message}`, false, { cause: err }));
      });
      child.once('close', (code, killedBy) => {
        clearTimeout(timer);
        clearTimeout(force);
        signal?.removeEventListener('abort', onAbort);
        const output = stderr.trim();
        if (stopped === 'aborted') return reject(abortReason(signal));
        if (stopped === 'timeout') {
          return reject(new DnsProviderError(`${described} did not finish within ${this.timeoutMs / 1000} s${output ? `: ${output}` : ''}`, true));
        }
        if (code === 0) return resolve();
        const status = code === null ? `was killed by ${killedBy}` : `exited with ${code}`;
        reject(new DnsProviderError(`${described} ${status}${output ? `: ${output}` : ' (nothing on stderr)'}`, true));
      });
    });
  }
}

/**
 * The command's environment: certplane's own, minus its secrets (the master key, the database URL
 * with its password) and its other settings, which are no business of a DNS script.
 */
function hookEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || name === 'DATABASE_URL' || name.startsWith('CERTPLANE_')) continue;
    kept[name] = value;
  }
  return kept;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
