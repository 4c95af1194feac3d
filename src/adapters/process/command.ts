/**
 * Runs an operator's command (a deploy target's reload command) without a shell: argv[0] is the
 * program, looked up on PATH, the rest its arguments as given. No shell means no globbing, no
 * variables, no pipes or redirections, and nothing in a certificate's data can become a command.
 * A command that runs past its timeout is killed (SIGTERM, then SIGKILL a second later).
 */
import { execFile } from 'node:child_process';
import type { CommandRunner, CommandResult } from '../../core/deploy/ports.js';

/** Output kept from each stream, for the failure message. */
const MAX_OUTPUT = 64 * 1024;

export const execFileRunner: CommandRunner = {
  run(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
    const [program, ...args] = argv;
    if (program === undefined) return Promise.resolve({ ok: false, reason: 'the command is empty', stdout: '', stderr: '' });
    return new Promise((resolve) => {
      const child = execFile(
        program,
        args,
        { shell: false, timeout: timeoutMs, killSignal: 'SIGTERM', maxBuffer: MAX_OUTPUT, windowsHide: true },
        (err, stdout, stderr) => {
          clearTimeout(force);
          const out = { stdout: String(stdout).slice(-MAX_OUTPUT), stderr: String(stderr).slice(-MAX_OUTPUT) };
          if (!err) return resolve({ ok: true, ...out });
          const failure = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string };
          const reason = failure.killed
            ? `timed out after ${timeoutMs / 1000} s and was killed`
            : typeof failure.code === 'number'
              ? `exited with status ${failure.code}`
              : failure.code === 'ENOENT'
                ? `${program} not found`
                : failure.signal
                  ? `was killed by ${failure.signal}`
                  : failure.message;
          resolve({ ok: false, reason, ...out });
        },
      );
      // Node sends killSignal at the timeout; one that ignores it is killed for good a second later.
      const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 1000);
      force.unref();
    });
  },
};
