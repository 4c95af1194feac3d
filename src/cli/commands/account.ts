import type { Command } from 'commander';
import { isoSeconds } from '../../kernel/time.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/** Operator commands for tenancy: accounts and gateway instances. */
export function registerAccountCommands(program: Command, out: CliOutput): void {
  const account = program.command('account').description('manage accounts');
  account
    .command('create')
    .description('create an account; prints {"accountId","projectId"}')
    .requiredOption('--name <name>', 'account name')
    .action(async (opts: { name: string }, command: Command) => {
      const created = await withApp(command, (app) => app.accounts.createAccount(opts.name));
      out.json({ accountId: created.id, projectId: created.projectId, name: created.name });
    });
  account
    .command('list')
    .description('every account, oldest first; prints {"accounts":[{"accountId","projectId","name","createdAt"}]}')
    .action(async (_opts: unknown, command: Command) => {
      const accounts = await withApp(command, (app) => app.accounts.listAccounts());
      out.json({
        accounts: accounts.map((a) => ({ accountId: a.id, projectId: a.projectId, name: a.name, createdAt: isoSeconds(a.createdAt) })),
      });
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
