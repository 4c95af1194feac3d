import type { Command } from 'commander';
import { errors } from '../../kernel/errors.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/** Operator commands for CAS certificate resource packages. */
export function registerPackageCommands(program: Command, out: CliOutput): void {
  program
    .command('package')
    .description('manage CAS certificate resource packages')
    .command('grant')
    .description('give an account N more certificates of a configured product; prints {"accountId","productCode","granted","totalCount","usedCount","issuedCount"}')
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--product-code <code>', 'ProductCode from the configuration (products), e.g. digicert-free-1-free')
    .requiredOption('--count <n>', 'how many certificates to add (1 to 1000000)')
    .action(async (opts: { account: string; productCode: string; count: string }, command: Command) => {
      if (!/^\d{1,7}$/.test(opts.count)) throw errors.invalidParameter('count', 'must be a whole number from 1 to 1000000');
      const count = Number(opts.count);
      const state = await withApp(command, (app) => app.orders.grant(opts.account, opts.productCode, count));
      out.json({
        accountId: opts.account,
        productCode: state.productCode,
        granted: count,
        totalCount: state.total,
        usedCount: state.used,
        issuedCount: state.issued,
      });
    });
}
