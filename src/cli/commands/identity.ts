import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { errors } from '../../kernel/errors.js';
import { isoSeconds } from '../../kernel/time.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/** Operator commands for who may do what: users, policies, plans, and the audit log. */
export function registerIdentityCommands(program: Command, out: CliOutput): void {
  const user = program.command('user').description('manage users of an account');
  user
    .command('create')
    .description('create a user; prints {"userId"}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'user name')
    .action(async (opts: { account: string; name: string }, command: Command) => {
      const created = await withApp(command, (app) => app.identity.createUser(opts.account, opts.name));
      out.json({ userId: created.id, name: created.name, accountId: created.accountId });
    });
  user
    .command('list')
    .description('the users of an account; prints {"users":[{"userId","name","accountId","createdAt"}]}')
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }, command: Command) => {
      const users = await withApp(command, (app) => app.identity.listUsers(opts.account));
      out.json({ users: users.map((u) => ({ userId: u.id, name: u.name, accountId: u.accountId, createdAt: isoSeconds(u.createdAt) })) });
    });

  const policy = program.command('policy').description('manage IAM-style policies');
  policy
    .command('create')
    .description('create a policy from a JSON document; prints {"policyId"}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'policy name')
    .option('--document <json>', 'the policy document')
    .option('--file <path>', 'read the policy document from a file')
    .action(async (opts: { account: string; name: string; document?: string; file?: string }, command: Command) => {
      const text = opts.document ?? (opts.file !== undefined ? readFileSync(opts.file, 'utf8') : undefined);
      if (text === undefined) throw errors.missingParameter('document');
      const created = await withApp(command, (app) => app.identity.createPolicy(opts.account, opts.name, text));
      out.json({ policyId: created.id, name: created.name, accountId: created.accountId });
    });
  for (const verb of ['attach', 'detach'] as const) {
    policy
      .command(verb)
      .description(`${verb} a policy ${verb === 'attach' ? 'to' : 'from'} a user; prints {"userId","policyId"}`)
      .requiredOption('--account <id>', 'account id')
      .requiredOption('--user <id>', 'user id')
      .requiredOption('--policy <id>', 'policy id')
      .action(async (opts: { account: string; user: string; policy: string }, command: Command) => {
        await withApp(command, (app) =>
          verb === 'attach'
            ? app.identity.attachPolicy(opts.account, opts.user, opts.policy)
            : app.identity.detachPolicy(opts.account, opts.user, opts.policy),
        );
        out.json({ userId: opts.user, policyId: opts.policy, [verb === 'attach' ? 'attached' : 'detached']: true });
      });
  }

  program
    .command('plan')
    .description('manage plans')
    .command('grant')
    .description('give an account an instance of a configured plan; prints {"instanceId"} (the InstanceId of CreateSite)')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--plan <name>', 'plan name from the configuration (e.g. free, enterprise)')
    .action(async (opts: { account: string; plan: string }, command: Command) => {
      const instance = await withApp(command, (app) => app.plans.grant(opts.account, opts.plan));
      out.json({ instanceId: instance.id, plan: instance.plan, accountId: instance.accountId });
    });

  program
    .command('audit')
    .description('read the audit log')
    .command('list')
    .description('the newest audit events of an account; prints {"events":[...]}')
    .requiredOption('--account <id>', 'account id')
    .option('--limit <n>', 'how many events', '50')
    .action(async (opts: { account: string; limit: string }, command: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw errors.invalidParameter('limit', 'must be 1 to 1000');
      const events = await withApp(command, async (app) => {
        await app.accounts.requireAccount(opts.account);
        return app.audit.list(opts.account, limit);
      });
      out.json({ events: events.map((e) => ({ ...e, at: isoSeconds(e.at) })) });
    });
}
