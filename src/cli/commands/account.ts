import type { Command } from 'commander';
import { errors } from '../../kernel/errors.js';
import { isoSeconds, parseDuration } from '../../kernel/time.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/** Operator commands for tenancy: accounts, access keys, tokens and gateway instances. */
export function registerAccountCommands(program: Command, out: CliOutput): void {
  program
    .command('account')
    .description('manage accounts')
    .command('create')
    .description('create an account; prints {"accountId","projectId"}')
    .requiredOption('--name <name>', 'account name')
    .action(async (opts: { name: string }, command: Command) => {
      const account = await withApp(command, (app) => app.accounts.createAccount(opts.name));
      out.json({ accountId: account.id, projectId: account.projectId, name: account.name });
    });

  program
    .command('key')
    .description('manage access keys')
    .command('create')
    .description('create an access key; prints {"accessKeyId","accessKeySecret"} (the secret is shown once)')
    .requiredOption('--account <id>', 'account id')
    .option('--user <id>', 'a user of the account: the key then has only the rights of its policies')
    .action(async (opts: { account: string; user?: string }, command: Command) => {
      const { key, secret } = await withApp(command, (app) => app.accounts.createAccessKey(opts.account, opts.user ?? null));
      out.json({ accessKeyId: key.id, accessKeySecret: secret, accountId: key.accountId, userId: key.userId });
    });

  program
    .command('token')
    .description('manage X-Auth-Token tokens')
    .command('create')
    .description('create a token; prints {"token","expiresAt"}')
    .requiredOption('--account <id>', 'account id')
    .option('--ttl <duration>', 'lifetime such as 30m, 24h or 7d', '24h')
    .action(async (opts: { account: string; ttl: string }, command: Command) => {
      const ttlMs = parseDuration(opts.ttl);
      if (ttlMs === undefined) throw errors.invalidParameter('ttl', 'must look like 90s, 30m, 24h or 7d');
      const { token, expiresAt } = await withApp(command, (app) => app.accounts.createToken(opts.account, ttlMs));
      out.json({ token, expiresAt: isoSeconds(expiresAt) });
    });

  program
    .command('instance')
    .description('manage gateway instances (for certificates of type instance)')
    .command('create')
    .description('create an instance; prints {"instanceId"}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'instance name')
    .action(async (opts: { account: string; name: string }, command: Command) => {
      const instance = await withApp(command, (app) => app.accounts.createInstance(opts.account, opts.name));
      out.json({ instanceId: instance.id, name: instance.name });
    });
}
