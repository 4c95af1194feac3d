/**
 * The issuance engine's storage: `acme_issuances` (every write conditional on the state the
 * engine read), `acme_accounts`, the generated keys in `private_keys`, and `http01_challenges`.
 * Cleanup (dns-01 removal jobs, http-01 tokens dropped) is done in the transaction of the change
 * it belongs to, so an issuance never ends with its records forgotten.
 */
import type { Selectable, Transaction } from 'kysely';
import type { IssuanceState } from '../../core/issuance/model.js';
import type {
  Cleanup,
  Http01Token,
  Http01Tokens,
  IssuanceChanges,
  IssuanceOutcome,
  IssuanceStore,
  StoredAcmeAccount,
} from '../../core/issuance/ports.js';
import type { Issuance } from '../../core/issuance/model.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Db } from './database.js';
import { toIssuance } from './issuance-rows.js';
import { afterIssuanceFinished } from './renewal-rows.js';
import { refreshServingNotAfter } from './serving-not-after.js';
import { enqueueWith } from './job-store.js';
import type { AcmeAccountsTable, AcmeIssuancesTable, Schema } from './schema.js';

/** Thrown inside a transaction to roll it back when its conditional update found nothing to change. */
class NotChanged extends Error {}

export class SqlIssuanceStore implements IssuanceStore, Http01Tokens {
  constructor(
    private readonly db: Db,
    private readonly ids: IdGenerator,
  ) {}

  async find(id: string): Promise<Issuance | undefined> {
    const row = await this.db.selectFrom('acme_issuances').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toIssuance(row);
  }

  advance(id: string, from: IssuanceState, to: IssuanceState, changes: IssuanceChanges, now: Date, cleanup?: Cleanup): Promise<boolean> {
    const values: Partial<Selectable<AcmeIssuancesTable>> = { state: to, updated_at: now.toISOString() };
    if (changes.orderUrl !== undefined) values.order_url = changes.orderUrl;
    if (changes.acmeAccountId !== undefined) values.acme_account_id = changes.acmeAccountId;
    if (changes.authorizations !== undefined) values.authorizations = JSON.stringify(changes.authorizations);
    return this.conditional(id, [from], values, now, cleanup);
  }

  finish(id: string, from: readonly IssuanceState[], outcome: IssuanceOutcome, now: Date, cleanup: Cleanup): Promise<boolean> {
    const at = now.toISOString();
    const values: Partial<Selectable<AcmeIssuancesTable>> = { state: outcome.state, updated_at: at, finished_at: at };
    if (outcome.state === 'invalid') Object.assign(values, { error_code: outcome.errorCode, error_detail: outcome.errorDetail });
    if (outcome.state === 'valid') {
      const facts = outcome.issued;
      Object.assign(values, {
        chain_pem: facts.chainPem,
        common_name: facts.commonName,
        san: facts.san,
        serial_number: facts.serialNumber,
        fingerprint_sha256: facts.fingerprintSha256,
        issuer: facts.issuer,
        issuer_cn: facts.issuerCn,
        public_key_algorithm: facts.publicKeyAlgorithm,
        signature_algorithm: facts.signatureAlgorithm,
        not_before: facts.notBefore.toISOString(),
        not_after: facts.notAfter.toISOString(),
        renew_at: outcome.renewAt?.toISOString() ?? null,
        ari_check_at: outcome.ariCheckAt?.toISOString() ?? null,
      });
    }
    // What the end means for the certificates using the issuance is written in the same transaction.
    return this.conditional(id, from, values, now, cleanup, async (tx) => {
      await afterIssuanceFinished(tx, id, outcome, now, this.ids);
      // The site certificates it serves now (a renewal's moved there just before) show its notAfter.
      if (outcome.state === 'valid') await refreshServingNotAfter(tx, { issuanceId: id });
    });
  }

  async cleanUp(issuanceId: string, cleanup: Cleanup, now: Date): Promise<void> {
    await this.db.transaction().execute((tx) => this.applyCleanup(tx, issuanceId, cleanup, now));
  }

  async putHttp01Tokens(issuanceId: string, tokens: Http01Token[], now: Date): Promise<void> {
    if (tokens.length === 0) return;
    const rows = tokens.map((t) => ({
      token: t.token,
      key_authorization: t.keyAuthorization,
      issuance_id: issuanceId,
      domain: t.domain,
      expires_at: t.expiresAt.toISOString(),
      created_at: now.toISOString(),
    }));
    await this.db.insertInto('http01_challenges').values(rows).onConflict((oc) => oc.column('token').doNothing()).execute();
  }

  async keyAuthorization(token: string, now: Date): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('http01_challenges')
      .select('key_authorization')
      .where('token', '=', token)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return row?.key_authorization;
  }

  async findAcmeAccount(id: string): Promise<StoredAcmeAccount | undefined> {
    const row = await this.db.selectFrom('acme_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAccount(row);
  }

  async findAcmeAccountFor(accountId: string, profile: string, directoryUrl: string): Promise<StoredAcmeAccount | undefined> {
    const row = await this.db
      .selectFrom('acme_accounts')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('profile', '=', profile)
      .where('directory_url', '=', directoryUrl)
      .executeTakeFirst();
    return row && toAccount(row);
  }

  async insertAcmeAccount(account: StoredAcmeAccount, now: Date): Promise<StoredAcmeAccount> {
    const at = now.toISOString();
    await this.db
      .insertInto('acme_accounts')
      .values({
        id: account.id,
        account_id: account.accountId,
        profile: account.profile,
        directory_url: account.directoryUrl,
        key_sealed: account.keySealed,
        account_url: account.accountUrl ?? null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.columns(['account_id', 'profile', 'directory_url']).doNothing())
      .execute();
    const winner = await this.findAcmeAccountFor(account.accountId, account.profile, account.directoryUrl);
    if (!winner) throw new Error(`the ACME account of ${account.accountId} for ${account.profile} was neither inserted nor found`);
    return winner;
  }

  async setAcmeAccountUrl(id: string, url: string, now: Date): Promise<void> {
    await this.db.updateTable('acme_accounts').set({ account_url: url, updated_at: now.toISOString() }).where('id', '=', id).execute();
  }

  async attachKey(issuanceId: string, key: { id: string; algorithm: string; sealed: string }, now: Date): Promise<string> {
    try {
      await this.db.transaction().execute(async (tx) => {
        const owner = await tx.selectFrom('acme_issuances').select('account_id').where('id', '=', issuanceId).executeTakeFirstOrThrow();
        await tx
          .insertInto('private_keys')
          .values({ id: key.id, account_id: owner.account_id, algorithm: key.algorithm, sealed: key.sealed, created_at: now.toISOString() })
          .execute();
        const updated = await tx
          .updateTable('acme_issuances')
          .set({ key_id: key.id, updated_at: now.toISOString() })
          .where('id', '=', issuanceId)
          .where('key_id', 'is', null)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) throw new NotChanged();
      });
      return key.id;
    } catch (err) {
      if (!(err instanceof NotChanged)) throw err;
      const row = await this.db.selectFrom('acme_issuances').select('key_id').where('id', '=', issuanceId).executeTakeFirstOrThrow();
      return row.key_id!;
    }
  }

  async sealedKey(keyId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('private_keys').select('sealed').where('id', '=', keyId).executeTakeFirst();
    return row?.sealed;
  }

  /** The update, only from one of `from`, with the cleanup in the same transaction; false when the state was another. */
  private async conditional(
    id: string,
    from: readonly IssuanceState[],
    values: Partial<Selectable<AcmeIssuancesTable>>,
    now: Date,
    cleanup: Cleanup | undefined,
    after?: (tx: Transaction<Schema>) => Promise<void>,
  ): Promise<boolean> {
    const update = (db: Db | Transaction<Schema>) =>
      db.updateTable('acme_issuances').set(values).where('id', '=', id).where('state', 'in', [...from]).executeTakeFirst();
    if (!after && (!cleanup || (cleanup.jobs.length === 0 && !cleanup.dropHttp01Tokens))) return (await update(this.db)).numUpdatedRows > 0n;
    try {
      await this.db.transaction().execute(async (tx) => {
        if ((await update(tx)).numUpdatedRows === 0n) throw new NotChanged();
        if (cleanup) await this.applyCleanup(tx, id, cleanup, now);
        await after?.(tx);
      });
      return true;
    } catch (err) {
      if (err instanceof NotChanged) return false;
      throw err;
    }
  }

  private async applyCleanup(tx: Transaction<Schema>, issuanceId: string, cleanup: Cleanup, now: Date): Promise<void> {
    for (const job of cleanup.jobs) await enqueueWith(tx, job, now, this.ids.hex32());
    if (cleanup.dropHttp01Tokens) await tx.deleteFrom('http01_challenges').where('issuance_id', '=', issuanceId).execute();
  }
}

function toAccount(row: Selectable<AcmeAccountsTable>): StoredAcmeAccount {
  return {
    id: row.id,
    accountId: row.account_id,
    profile: row.profile,
    directoryUrl: row.directory_url,
    keySealed: row.key_sealed,
    accountUrl: row.account_url ?? undefined,
  };
}
