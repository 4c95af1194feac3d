import type { Command } from 'commander';
import type { Webhook } from '../../core/webhooks/model.js';
import { isoSeconds } from '../../kernel/time.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/**
 * `certplane webhook add|list|remove`: an account's webhooks. The secret deliveries are signed
 * with is printed once, by `add` (generated unless `--secret` is given); lists never show it.
 */
export function registerWebhookCommands(program: Command, out: CliOutput): void {
  const webhook = program.command('webhook').description("manage an account's webhooks (certificate events, signed deliveries)");
  webhook
    .command('add')
    .description('add a webhook; prints {"webhookId","url","events","secret",...} (the secret is shown once)')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--url <url>', 'http:// or https:// URL the events are POSTed to')
    .option('--events <types>', 'comma-separated event types (certificate.issued,certificate.expiring,...); default: all')
    .option('--secret <secret>', 'signing secret, 16 to 256 characters (default: 32 random bytes, hex)')
    .action(async (opts: { account: string; url: string; events?: string; secret?: string }, command: Command) => {
      const events = opts.events === undefined ? [] : opts.events.split(',').map((e) => e.trim()).filter((e) => e !== '');
      const { webhook: added, secret } = await withApp(command, (app) => app.webhooks.add(opts.account, { url: opts.url, events, secret: opts.secret }));
      out.json({ ...present(added), secret });
    });
  webhook
    .command('list')
    .description('the webhooks of an account, without secrets; prints {"webhooks":[{"webhookId","url","events",...}]}')
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }, command: Command) => {
      const webhooks = await withApp(command, (app) => app.webhooks.list(opts.account));
      out.json({ webhooks: webhooks.map(present) });
    });
  webhook
    .command('remove')
    .description('remove a webhook (deliveries not yet made are dropped); prints {"webhookId","removed":true}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--id <webhookId>', 'webhook id (from webhook add or webhook list)')
    .action(async (opts: { account: string; id: string }, command: Command) => {
      await withApp(command, (app) => app.webhooks.remove(opts.account, opts.id));
      out.json({ webhookId: opts.id, removed: true });
    });
}

function present(w: Webhook) {
  return { webhookId: w.id, accountId: w.accountId, url: w.url, events: w.events.length === 0 ? ['*'] : w.events, createdAt: isoSeconds(w.createdAt) };
}
