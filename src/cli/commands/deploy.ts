import type { Command } from 'commander';
import type { DeployTarget } from '../../core/deploy/model.js';
import { errors } from '../../kernel/errors.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/**
 * Operator commands for deploy targets: a directory that always holds the current certificate of
 * an ESA site certificate (or of each free certificate of a site) as fullchain.pem and privkey.pem,
 * or a managed client CA's certificate and current CRL as ca.pem and crl.pem, and the command that
 * reloads the server reading them (run without a shell).
 */
export function registerDeployCommands(program: Command, out: CliOutput): void {
  const deploy = program.command('deploy').description('write certificates (or a client CA and its CRL) into directories and reload the servers reading them');
  deploy
    .command('add')
    .description('add a deploy target; prints {"target":{…},"deploymentsQueued"}')
    .requiredOption('--account <id>', 'account id')
    .option('--site <id>', 'ESA SiteId: every free certificate of the site')
    .option('--certificate <id>', 'ESA certificate Id (a free certificate of a site)')
    .option('--client-ca <id>', "CACertificateId of a site's managed client CA: its ca.pem and crl.pem, rewritten whenever the CRL changes")
    .requiredOption('--directory <dir>', 'absolute path of an existing directory certplane may write to')
    .option('--reload-command <cmd>', 'run after each write, split into words like a shell would but run without one (no pipes, variables or globs)')
    .option('--reload-timeout <seconds>', 'seconds the reload command may take before it is killed (1 to 600, default 30)')
    .action(async (opts: { account: string; site?: string; certificate?: string; clientCa?: string; directory: string; reloadCommand?: string; reloadTimeout?: string }, command: Command) => {
      if (opts.reloadTimeout !== undefined && !/^\d{1,4}$/.test(opts.reloadTimeout)) throw errors.invalidParameter('reload-timeout', 'must be a whole number of seconds from 1 to 600');
      const added = await withApp(command, (app) =>
        app.deploys.add({
          accountId: opts.account,
          siteId: opts.site,
          siteCertificateId: opts.certificate,
          clientCaId: opts.clientCa,
          directory: opts.directory,
          reloadCommand: opts.reloadCommand,
          reloadTimeoutSeconds: opts.reloadTimeout === undefined ? undefined : Number(opts.reloadTimeout),
        }),
      );
      out.json({ target: present(added.target), deploymentsQueued: added.jobs });
    });
  deploy
    .command('list')
    .description('list the deploy targets of an account; prints {"targets":[…]}')
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }, command: Command) => {
      const targets = await withApp(command, (app) => app.deploys.list(opts.account));
      out.json({ targets: targets.map(present) });
    });
  deploy
    .command('remove')
    .description('remove a deploy target (the files written stay); prints {"removed":{…}}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--id <id>', 'deploy target id')
    .action(async (opts: { account: string; id: string }, command: Command) => {
      const removed = await withApp(command, (app) => app.deploys.remove(opts.account, opts.id));
      out.json({ removed: present(removed) });
    });
}

function present(target: DeployTarget) {
  return {
    id: target.id,
    accountId: target.accountId,
    siteId: target.siteId ?? null,
    certificateId: target.siteCertificateId ?? null,
    clientCaId: target.clientCaId ?? null,
    directory: target.directory,
    reloadCommand: target.reloadCommand ?? null,
    reloadTimeoutSeconds: target.reloadTimeoutSeconds,
    createdAt: target.createdAt.toISOString(),
  };
}
