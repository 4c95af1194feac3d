import type { Policy, User } from '../../core/identity/model.js';
import { NameInUse, type IdentityStore } from '../../core/identity/ports.js';
import type { PolicyDocument } from '../../core/policy/index.js';
import type { AuditEvent } from '../../core/audit/ports.js';
import { auditRow } from './audit-log.js';
import { isUniqueViolation, type Db } from './database.js';

export class SqlIdentityStore implements IdentityStore {
  constructor(private readonly db: Db) {}

  async insertUser(user: User, audit: AuditEvent): Promise<void> {
    await translate(() =>
      this.db.transaction().execute(async (tx) => {
        await tx.insertInto('users').values({ id: user.id, account_id: user.accountId, name: user.name, created_at: user.createdAt.toISOString() }).execute();
        await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      }),
    );
  }

  async findUser(accountId: string, id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(accountId: string): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toUser);
  }

  async insertPolicy(policy: Policy, audit: AuditEvent): Promise<void> {
    await translate(() =>
      this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('policies')
          .values({
            id: policy.id,
            account_id: policy.accountId,
            name: policy.name,
            document: JSON.stringify(policy.document),
            created_at: policy.createdAt.toISOString(),
          })
          .execute();
        await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      }),
    );
  }

  async findPolicy(accountId: string, id: string): Promise<Policy | undefined> {
    const row = await this.db
      .selectFrom('policies')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toPolicy(row);
  }

  async attach(userId: string, policyId: string, at: Date, audit: AuditEvent): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const attached = await tx
        .insertInto('user_policies')
        .values({ user_id: userId, policy_id: policyId, created_at: at.toISOString() })
        .onConflict((oc) => oc.columns(['user_id', 'policy_id']).doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (attached) await tx.insertInto('audit_events').values(auditRow(audit)).execute();
    });
  }

  async detach(userId: string, policyId: string, audit: AuditEvent): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx.deleteFrom('user_policies').where('user_id', '=', userId).where('policy_id', '=', policyId).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await tx.insertInto('audit_events').values(auditRow(audit)).execute();
      return true;
    });
  }

  async policiesOfUser(userId: string): Promise<Policy[]> {
    const rows = await this.db
      .selectFrom('user_policies')
      .innerJoin('policies', 'policies.id', 'user_policies.policy_id')
      .selectAll('policies')
      .where('user_policies.user_id', '=', userId)
      .orderBy('policies.created_at')
      .execute();
    return rows.map(toPolicy);
  }
}

async function translate(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new NameInUse('name already used', { cause: err });
    throw err;
  }
}

function toUser(row: { id: string; account_id: string; name: string; created_at: string }): User {
  return { id: row.id, accountId: row.account_id, name: row.name, createdAt: new Date(row.created_at) };
}

function toPolicy(row: { id: string; account_id: string; name: string; document: string; created_at: string }): Policy {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    // Documents were validated on the way in; stored JSON is trusted.
    document: JSON.parse(row.document) as PolicyDocument,
    createdAt: new Date(row.created_at),
  };
}
