import { sql } from 'kysely';
import type { AccessKey, Account, Instance, Token } from '../../core/accounts/model.js';
import type { AccountStore, AuditOf } from '../../core/accounts/ports.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { auditRow } from './audit-log.js';
import { CompiledQueries } from './compiled.js';
import { isNotNullViolation, isUniqueViolation, type Database, type Db } from './database.js';

export class SqlAccountStore implements AccountStore {
  private readonly compiled = new CompiledQueries();
  private readonly db: Db;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insertAccount(account: Account, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('accounts')
        .values({
          id: account.id,
          name: account.name,
          project_id: account.projectId,
          created_at: account.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async findAccount(id: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAccount(row);
  }

  async findAccountByProject(projectId: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    return row && toAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toAccount);
  }

  async insertAccessKey(key: AccessKey, secretSealed: string, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('access_keys')
        .values({
          id: key.id,
          account_id: key.accountId,
          user_id: key.userId,
          secret_sealed: secretSealed,
          status: key.status,
          created_at: key.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async findAccessKey(id: string): Promise<{ key: AccessKey; secretSealed: string; projectId: string } | undefined> {
    const { rows } = await this.compiled.run(
      this.db,
      'findAccessKey',
      () =>
        this.db
          .selectFrom('access_keys')
          .innerJoin('accounts', 'accounts.id', 'access_keys.account_id')
          .selectAll('access_keys')
          .select('accounts.project_id')
          .where('access_keys.id', '=', id),
      [id],
    );
    const row = rows[0];
    return row && { key: toAccessKey(row), secretSealed: row.secret_sealed, projectId: row.project_id };
  }

  async listAccessKeys(accountId: string): Promise<AccessKey[]> {
    const rows = await this.db
      .selectFrom('access_keys')
      .select(['id', 'account_id', 'user_id', 'status', 'created_at'])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAccessKey);
  }

  async setAccessKeyStatus(id: string, status: AccessKey['status'], audit: AuditOf): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const changed = await tx.updateTable('access_keys').set({ status }).where('id', '=', id).returning('account_id').executeTakeFirst();
      if (!changed) return false;
      await tx.insertInto('audit_events').values(auditRow(audit(changed.account_id))).execute();
      return true;
    });
  }

  async deleteAccessKey(id: string, audit: AuditOf): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const deleted = await tx.deleteFrom('access_keys').where('id', '=', id).returning('account_id').executeTakeFirst();
      if (!deleted) return false;
      await tx.insertInto('audit_events').values(auditRow(audit(deleted.account_id))).execute();
      return true;
    });
  }

  async rememberNonce(accessKeyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    try {
      const row = { access_key_id: accessKeyId, nonce, expires_at: expiresAt.toISOString() };
      // Through writeAll: on SQLite it joins the other requests' writes of this moment in one commit.
      await this.database.writeAll([this.compiled.insert(this.db, 'signature_nonces', row)]);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async rememberNonceIfKeyHolds(id: string, sealed: string, nonce: string, expiresAt: Date): Promise<boolean> {
    // The nonce's expiry is read through the key's row: when no active key sealed as `sealed` exists,
    // it is NULL and the insert fails on its NOT NULL constraint, so the nonce is stored only for a
    // key that holds, in one statement (and, on SQLite, in the other requests' group commit).
    const expires = expiresAt.toISOString();
    const insert = this.compiled.query(
      'rememberNonceIfKeyHolds',
      () =>
        this.db.insertInto('signature_nonces').values({
          access_key_id: id,
          nonce,
          expires_at: this.db
            .selectFrom('access_keys')
            .select(sql<string>`cast(${expires} as text)`.as('expires_at'))
            .where('id', '=', id)
            .where('status', '=', 'active')
            .where('secret_sealed', '=', sealed),
        }),
      [id, nonce, expires, id, 'active', sealed],
    );
    try {
      await this.database.writeAll([insert]);
      return true;
    } catch (err) {
      if (isUniqueViolation(err) || isNotNullViolation(err)) return false;
      throw err;
    }
  }

  async purgeNonces(before: Date, limit: number): Promise<{ deleted: number; more: boolean }> {
    const iso = before.toISOString();
    // The expiry of the first nonce past the limit bounds this batch (through the expiry index).
    // Nonces share an expiry to the second (the request's date plus the allowed skew), so the
    // batch takes every nonce of that expiry too: it always deletes something.
    const bound = await this.db
      .selectFrom('signature_nonces')
      .select('expires_at')
      .where('expires_at', '<', iso)
      .orderBy('expires_at')
      .offset(limit)
      .limit(1)
      .executeTakeFirst();
    const result = await this.db
      .deleteFrom('signature_nonces')
      .$if(bound === undefined, (q) => q.where('expires_at', '<', iso))
      .$if(bound !== undefined, (q) => q.where('expires_at', '<=', bound!.expires_at))
      .executeTakeFirst();
    return { deleted: Number(result.numDeletedRows), more: bound !== undefined };
  }

  async insertToken(token: Token, tokenHash: string, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('auth_tokens')
        .values({
          token_hash: tokenHash,
          id: token.id,
          account_id: token.accountId,
          expires_at: token.expiresAt.toISOString(),
          created_at: token.createdAt.toISOString(),
          revoked_at: null,
          user_id: token.userId,
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async findToken(tokenHash: string): Promise<{ token: Token; projectId: string } | undefined> {
    const { rows } = await this.compiled.run(
      this.db,
      'findToken',
      () =>
        this.db
          .selectFrom('auth_tokens')
          .innerJoin('accounts', 'accounts.id', 'auth_tokens.account_id')
          .select(TOKEN_COLUMNS)
          .select('accounts.project_id')
          .where('auth_tokens.token_hash', '=', tokenHash),
      [tokenHash],
    );
    const row = rows[0];
    return row && { token: toToken(row), projectId: row.project_id };
  }

  async listTokens(accountId: string): Promise<Token[]> {
    const rows = await this.db
      .selectFrom('auth_tokens')
      .select(TOKEN_COLUMNS)
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toToken);
  }

  async revokeToken(id: string, at: Date, audit: AuditOf): Promise<Token | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const revoked = await tx
        .updateTable('auth_tokens')
        .set({ revoked_at: at.toISOString() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('account_id')
        .executeTakeFirst();
      if (revoked) await tx.insertInto('audit_events').values(auditRow(audit(revoked.account_id))).execute();
      const row = await tx.selectFrom('auth_tokens').select(TOKEN_COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toToken(row);
    });
  }

  async insertInstance(instance: Instance, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('instances')
        .values({
          id: instance.id,
          account_id: instance.accountId,
          name: instance.name,
          created_at: instance.createdAt.toISOString(),
        })
        .execute();
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async findInstance(accountId: string, id: string): Promise<Instance | undefined> {
    const row = await this.db
      .selectFrom('instances')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { id: row.id, accountId: row.account_id, name: row.name, createdAt: new Date(row.created_at) };
  }
}

const TOKEN_COLUMNS = [
  'auth_tokens.id',
  'auth_tokens.account_id',
  'auth_tokens.expires_at',
  'auth_tokens.created_at',
  'auth_tokens.revoked_at',
  'auth_tokens.user_id',
] as const;

function toToken(row: {
  id: string;
  account_id: string;
  user_id: string | null;
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
}): Token {
  return {
    id: row.id,
    accountId: row.account_id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}

function toAccessKey(row: { id: string; account_id: string; user_id: string | null; status: string; created_at: string }): AccessKey {
  return {
    id: row.id,
    accountId: row.account_id,
    userId: row.user_id,
    status: row.status === 'active' ? 'active' : 'disabled',
    createdAt: new Date(row.created_at),
  };
}

function toAccount(row: { id: string; name: string; project_id: string; created_at: string }): Account {
  return { id: row.id, name: row.name, projectId: row.project_id, createdAt: new Date(row.created_at) };
}
