import { secretContext } from '../../core/accounts/service.js';
import { privateKeyContext } from '../../core/certificates/service.js';
import { clientKeyContext } from '../../core/private-ca/model.js';
import { acmeAccountKeyContext } from '../../core/issuance/ports.js';
import { webhookSecretContext } from '../../core/webhooks/model.js';
import { caKeyContext } from '../ca/node-signer.js';
import type { Sealer } from '../../kernel/sealer.js';
import type { Db } from './database.js';
import { writeCanary } from './master-key-check.js';

/**
 * Re-encrypts every sealed value that is not under the current master key, so an old key can
 * leave the keyring afterwards. Row by row, each in its own update: an interrupted run loses
 * nothing and a second run finishes the job. The start-up canary follows the current key too (it is
 * not counted: it holds no secret of anyone's).
 */
export async function resealAll(db: Db, sealer: Sealer, now: Date): Promise<{ resealed: number; total: number }> {
  const current = `v1.${sealer.currentKeyId}.`;
  let resealed = 0;
  let total = 0;
  const keys = await db.selectFrom('private_keys').select(['id', 'sealed']).execute();
  for (const row of keys) {
    total += 1;
    if (row.sealed.startsWith(current)) continue;
    const context = privateKeyContext(row.id);
    const sealed = sealer.seal(sealer.open(row.sealed, context), context);
    await db.updateTable('private_keys').set({ sealed }).where('id', '=', row.id).where('sealed', '=', row.sealed).execute();
    resealed += 1;
  }
  const secrets = await db.selectFrom('access_keys').select(['id', 'secret_sealed']).execute();
  for (const row of secrets) {
    total += 1;
    if (row.secret_sealed.startsWith(current)) continue;
    const context = secretContext(row.id);
    const sealed = sealer.seal(sealer.open(row.secret_sealed, context), context);
    await db
      .updateTable('access_keys')
      .set({ secret_sealed: sealed })
      .where('id', '=', row.id)
      .where('secret_sealed', '=', row.secret_sealed)
      .execute();
    resealed += 1;
  }
  const webhooks = await db.selectFrom('webhooks').select(['id', 'secret_sealed']).execute();
  for (const row of webhooks) {
    total += 1;
    if (row.secret_sealed.startsWith(current)) continue;
    const context = webhookSecretContext(row.id);
    const sealed = sealer.seal(sealer.open(row.secret_sealed, context), context);
    await db.updateTable('webhooks').set({ secret_sealed: sealed }).where('id', '=', row.id).where('secret_sealed', '=', row.secret_sealed).execute();
    resealed += 1;
  }
  for (const table of ['client_cas', 'client_certificates'] as const) {
    const context = table === 'client_cas' ? caKeyContext : clientKeyContext;
    const rows = await db.selectFrom(table).select(['id', 'key_sealed']).where('key_sealed', 'is not', null).execute();
    for (const row of rows) {
      total += 1;
      if (row.key_sealed!.startsWith(current)) continue;
      const sealed = sealer.seal(sealer.open(row.key_sealed!, context(row.id)), context(row.id));
      await db.updateTable(table).set({ key_sealed: sealed }).where('id', '=', row.id).where('key_sealed', '=', row.key_sealed).execute();
      resealed += 1;
    }
  }
  const accounts = await db.selectFrom('acme_accounts').select(['id', 'key_sealed']).execute();
  for (const row of accounts) {
    total += 1;
    if (row.key_sealed.startsWith(current)) continue;
    const context = acmeAccountKeyContext(row.id);
    const sealed = sealer.seal(sealer.open(row.key_sealed, context), context);
    await db.updateTable('acme_accounts').set({ key_sealed: sealed }).where('id', '=', row.id).where('key_sealed', '=', row.key_sealed).execute();
    resealed += 1;
  }
  await writeCanary(db, sealer, now, true);
  return { resealed, total };
}
