import type { Command } from 'commander';
import { resealAll } from '../../adapters/db/reseal.js';
import { withApp } from '../context.js';
import type { CliOutput } from '../output.js';

/**
 * Master-key rotation: put the new key first in CERTPLANE_MASTER_KEY (`NEW,OLD`), run
 * `certplane master-key reseal`, then drop the old key.
 */
export function registerMasterKeyCommands(program: Command, out: CliOutput): void {
  program
    .command('master-key')
    .description('manage the master key that seals private keys and secrets')
    .command('reseal')
    .description('re-encrypt every sealed value under the current (first) master key; prints {"keyId","resealed","total"}')
    .action(async (_opts: unknown, command: Command) => {
      const result = await withApp(command, async (app) => ({
        keyId: app.sealer.currentKeyId,
        ...(await resealAll(app.database.db, app.sealer, app.clock.now())),
      }));
      out.json(result);
    });
}
