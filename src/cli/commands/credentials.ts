import type { Command } from 'commander';
import type { AccessKey } from '../../core/accounts/model.js';
import { tokenStatus } from '../../core/accounts/model.js';
import { errors } from '../../kernel/errors.js';
import { isoSeconds, parseDuration } from '../../kernel/time.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/**
 * Operator commands for credentials: access keys (both dialects) and tokens (Huawei APIG). Lists never
 * show a secret, a token or a token hash. A change takes effect on the very next request to every
 * server sharing the database, since servers look credentials up on each request.
 */
export function registerCredentialCommands(program: Command, out: CliOutput): void {
  registerKeyCommands(program.command('key').description('manage access keys'), out);
  registerTokenCommands(program.command('token').description('manage X-Auth-Token tokens'), out);
}

function presentKey(key: AccessKey) {
  return { accessKeyId: key.id, accountId: key.accountId, userId: key.userId, status: key.status, createdAt: isoSeconds(key.createdAt) };
}

function registerKeyCommands(key: Command, out: CliOutput): void {
  key
    .command('create')
    .description('create an access key; prints {"accessKeyId","accessKeySecret"} (the secret is shown once)')
    .requiredOption('--account <id>', 'account id')
    .option('--user <id>', 'a user of the account: the key then has only the rights of its policies')
    .action(async (opts: { account: string; user?: string }, command: Command) => {
      const { key: created, secret } = await withApp(command, (app) => app.accounts.createAccessKey(opts.account, opts.user ?? null));
      out.json({ accessKeyId: created.id, accessKeySecret: secret, accountId: created.accountId, userId: created.userId });
    });
  key
    .command('list')
    .description('the access keys of an account, without secrets; prints {"accessKeys":[{"accessKeyId","status",...}]}')
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }, command: Command) => {
      const keys = await withApp(command, (app) => app.accounts.listAccessKeys(opts.account));
      out.json({ accessKeys: keys.map(presentKey) });
    });
  for (const [verb, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    key
      .command(verb)
      .description(`${verb} an access key; prints {"accessKeyId","status":"${status}"}`)
      .requiredOption('--id <accessKeyId>', 'access key id')
      .action(async (opts: { id: string }, command: Command) => {
        await withApp(command, (app) => app.accounts.setAccessKeyStatus(opts.id, status));
        out.json({ accessKeyId: opts.id, status });
      });
  }
  key
    .command('delete')
    .description('delete an access key for good; prints {"accessKeyId","deleted":true}')
    .requiredOption('--id <accessKeyId>', 'access key id')
    .action(async (opts: { id: string }, command: Command) => {
      await withApp(command, (app) => app.accounts.deleteAccessKey(opts.id));
      out.json({ accessKeyId: opts.id, deleted: true });
    });
}

function registerTokenCommands(token: Command, out: CliOutput): void {
  token
    .command('create')
    .description('create a token; prints {"tokenId","token","expiresAt","userId"} (the token is shown once)')
    .requiredOption('--account <id>', 'account id')
    .option('--user <id>', 'a user of the account: the token then has only the rights of its policies')
    .option('--ttl <duration>', 'lifetime such as 30m, 24h or 7d', '24h')
    .action(async (opts: { account: string; user?: string; ttl: string }, command: Command) => {
      const ttlMs = parseDuration(opts.ttl);
      if (ttlMs === undefined) throw errors.invalidParameter('ttl', 'must look like 90s, 30m, 24h or 7d');
      const { token: value, record } = await withApp(command, (app) =>
        app.accounts.createToken(opts.account, ttlMs, opts.user ?? null),
      );
      out.json({ tokenId: record.id, token: value, expiresAt: isoSeconds(record.expiresAt), userId: record.userId });
    });
  token
    .command('list')
    .description('the tokens of an account, without their values; prints {"tokens":[{"tokenId","status",...}]}')
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }, command: Command) => {
      const { tokens, now } = await withApp(command, async (app) => ({
        tokens: await app.accounts.listTokens(opts.account),
        now: app.clock.now(),
      }));
      out.json({
        tokens: tokens.map((t) => ({
          tokenId: t.id,
          accountId: t.accountId,
          userId: t.userId,
          status: tokenStatus(t, now),
          createdAt: isoSeconds(t.createdAt),
          expiresAt: isoSeconds(t.expiresAt),
          revokedAt: t.revokedAt === null ? null : isoSeconds(t.revokedAt),
        })),
      });
    });
  token
    .command('revoke')
    .description('revoke a token; prints {"tokenId","status":"revoked","revokedAt"}')
    .requiredOption('--id <tokenId>', 'token id (from token create or token list)')
    .action(async (opts: { id: string }, command: Command) => {
      const revoked = await withApp(command, (app) => app.accounts.revokeToken(opts.id));
      out.json({ tokenId: revoked.id, status: 'revoked', revokedAt: isoSeconds(revoked.revokedAt ?? new Date()) });
    });
}
