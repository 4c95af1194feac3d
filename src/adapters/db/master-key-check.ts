import { secretContext } from '../../core/accounts/service.js';
import { privateKeyContext } from '../../core/certificates/service.js';
import { AesGcmSealer } from '../crypto/aes-gcm-sealer.js';
import { caKeyContext } from '../ca/node-signer.js';
import type { Sealer } from '../../kernel/sealer.js';
import type { Db } from './database.js';

/**
 * Proof at start-up that the master keyring opens what the database already holds, so a wrong
 * `CERTPLANE_MASTER_KEY` stops the process instead of failing every signed request later.
 * A canary value sealed once (under the key of the day) is opened, plus one stored access-key
 * secret, one private key and one client CA key: a database from before the canary existed is checked through its
 * own rows, then gets its canary. A few small reads, whatever the size of the database.
 */
const CANARY = 'master_key_canary';
const CANARY_CONTEXT = `service_fact:${CANARY}`;
const CANARY_TEXT = 'certplane master key canary';

/** What did not open, and under which master key id it was sealed. */
export interface SealedMismatch {
  what: string;
  keyId: string | undefined;
}

export async function checkMasterKey(db: Db, sealer: Sealer, now: Date): Promise<SealedMismatch | undefined> {
  const canary = await db.selectFrom('service_facts').select('value').where('name', '=', CANARY).executeTakeFirst();
  const secret = await db.selectFrom('access_keys').select(['id', 'secret_sealed']).limit(1).executeTakeFirst();
  const key = await db.selectFrom('private_keys').select(['id', 'sealed']).limit(1).executeTakeFirst();
  const caKey = await db.selectFrom('client_cas').select(['id', 'key_sealed']).where('key_sealed', 'is not', null).limit(1).executeTakeFirst();
  const samples: Array<[what: string, sealed: string, context: string]> = [];
  if (canary) samples.push(['the master-key canary', canary.value, CANARY_CONTEXT]);
  if (secret) samples.push([`the secret of access key ${secret.id}`, secret.secret_sealed, secretContext(secret.id)]);
  if (key) samples.push([`private key ${key.id}`, key.sealed, privateKeyContext(key.id)]);
  if (caKey?.key_sealed) samples.push([`the key of client CA ${caKey.id}`, caKey.key_sealed, caKeyContext(caKey.id)]);
  for (const [what, sealed, context] of samples) {
    try {
      sealer.open(sealed, context);
    } catch {
      return { what, keyId: AesGcmSealer.keyIdOfSealed(sealed) };
    }
  }
  if (canary) return undefined;
  // Written only when absent; read back, since a process starting at the same moment with another
  // key may have written its own first.
  await writeCanary(db, sealer, now, false);
  return checkMasterKey(db, sealer, now);
}

/** Seals the canary under the current key; `replace` after a reseal, else only when none exists yet. */
export async function writeCanary(db: Db, sealer: Sealer, now: Date, replace: boolean): Promise<void> {
  const row = { name: CANARY, value: sealer.seal(CANARY_TEXT, CANARY_CONTEXT), updated_at: now.toISOString() };
  await db
    .insertInto('service_facts')
    .values(row)
    .onConflict((oc) => (replace ? oc.column('name').doUpdateSet({ value: row.value, updated_at: row.updated_at }) : oc.column('name').doNothing()))
    .execute();
}
