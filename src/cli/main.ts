import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { AppError } from '../kernel/errors.js';
import { registerAccountCommands } from './commands/account.js';
import { registerCredentialCommands } from './commands/credentials.js';
import { registerIdentityCommands } from './commands/identity.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerMasterKeyCommands } from './commands/master-key.js';
import { registerPackageCommands } from './commands/packages.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerServe } from './commands/serve.js';
import { registerWebhookCommands } from './commands/webhook.js';
import { CliOutput } from './output.js';

/** Runs the CLI and resolves to the process exit code. */
export async function run(argv: string[], out: CliOutput = new CliOutput()): Promise<number> {
  const program = new Command('certplane')
    .description('self-hosted certificate management service')
    .option('-c, --config <file>', 'JSON config file (also CERTPLANE_CONFIG)')
    // Like every command, --version answers with one JSON object.
    .version(JSON.stringify({ version: packageVersion() }), '-V, --version', 'print {"version"} and exit')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.stdout(s), writeErr: (s) => out.stderr(s) });
  registerServe(program, out);
  registerAccountCommands(program, out);
  registerCredentialCommands(program, out);
  registerIdentityCommands(program, out);
  registerMasterKeyCommands(program, out);
  registerPackageCommands(program, out);
  registerDeployCommands(program, out);
  registerWebhookCommands(program, out);
  registerJobCommands(program, out);
  try {
    await program.parseAsync(argv);
    return out.exitCode;
  } catch (err) {
    return reportFailure(err, out);
  }
}

/** The version in package.json (this file runs from dist/src/cli/). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function reportFailure(err: unknown, out: CliOutput): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof ConfigError) {
    out.stderr(`certplane: ${err.message}\n`);
    return 2;
  }
  if (err instanceof AppError && err.code !== 'internal') {
    out.error({ code: err.code, message: err.message });
    return 1;
  }
  out.stderr(`certplane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
