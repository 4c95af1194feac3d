import { createHash } from 'node:crypto';
import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Sealer } from '../../kernel/sealer.js';
import type { AccessKey, Account, Instance, Principal, Token } from './model.js';
import { operatorEvent, type AuditEvent } from '../audit/ports.js';
import type { AccountStore } from './ports.js';

export interface AccountsDeps {
  store: AccountStore;
  clock: Clock;
  ids: IdGenerator;
  sealer: Sealer;
  /** Whether a user belongs to the account (from the identity context). */
  userExists(accountId: string, userId: string): Promise<boolean>;
  /** Names the objects of the audit log (`certplane:{region}:{account}:…`). */
  regionId: string;
}


const TOKEN_PREFIX = 'cpt_';
const MAX_TOKEN_TTL_MS = 365 * 86_400_000;
/** Expired nonces are deleted at most this often (clock time), by whichever request comes next. */
const NONCE_PURGE_INTERVAL_MS = 60_000;
/** Nonces forgotten per statement. */
const NONCE_PURGE_BATCH = 5000;
/** Access keys whose opened secret is remembered; past this many the memory is cleared (it is only a cache). */
const REMEMBERED_SECRETS = 10_000;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Context an access-key secret is sealed under (see Sealer). */
export function secretContext(accessKeyId: string): string {
  return `access_key:${accessKeyId}`;
}

/** Accounts, their credentials and gateway instances: the operator's side of tenancy. */
export class AccountsService {
  private nextNoncePurge = 0;
  /** Secrets opened lately, with the sealed value they came from: a resealed or replaced secret is opened anew. */
  private readonly openedSecrets = new Map<string, { sealed: string; secret: string; principal: Principal }>();

  constructor(private readonly deps: AccountsDeps) {}

  async createAccount(name: string): Promise<Account> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64) throw errors.invalidParameter('name', 'must be 1 to 64 characters');
    const account: Account = {
      id: this.deps.ids.numeric(15),
      name: trimmed,
      projectId: this.deps.ids.hex32(),
      createdAt: this.deps.clock.now(),
    };
    await this.deps.store.insertAccount(account, this.event(account.id, 'certplane:CreateAccount', 'account', account.createdAt));
    return account;
  }

  listAccounts(): Promise<Account[]> {
    return this.deps.store.listAccounts();
  }

  async requireAccount(id: string): Promise<Account> {
    const account = await this.deps.store.findAccount(id);
    if (!account) throw errors.accountNotFound(id);
    return account;
  }

  /** A new access key; the secret is returned once and kept sealed (HMAC checks need it back). */
  async createAccessKey(accountId: string, userId: string | null = null): Promise<{ key: AccessKey; secret: string }> {
    await this.requireAccount(accountId);
    if (userId !== null && !(await this.deps.userExists(accountId, userId))) throw errors.userNotFound(userId);
    const key: AccessKey = {
      id: `CP${this.deps.ids.hex32().slice(0, 22).toUpperCase()}`,
      accountId,
      userId,
      status: 'active',
      createdAt: this.deps.clock.now(),
    };
    const secret = this.deps.ids.secret(24);
    const audit = this.event(accountId, 'certplane:CreateAccessKey', `access-key/${key.id}`, key.createdAt);
    await this.deps.store.insertAccessKey(key, this.deps.sealer.seal(secret, secretContext(key.id)), audit);
    return { key, secret };
  }

  async listAccessKeys(accountId: string): Promise<AccessKey[]> {
    await this.requireAccount(accountId);
    return this.deps.store.listAccessKeys(accountId);
  }

  /** Disabling takes effect on the next request to any server sharing the database: every request reads the key's row. */
  async setAccessKeyStatus(id: string, status: AccessKey['status']): Promise<void> {
    const action = status === 'active' ? 'certplane:EnableAccessKey' : 'certplane:DisableAccessKey';
    const at = this.deps.clock.now();
    if (!(await this.deps.store.setAccessKeyStatus(id, status, (accountId) => this.event(accountId, action, `access-key/${id}`, at)))) {
      throw errors.accessKeyNotFound(id);
    }
  }

  async deleteAccessKey(id: string): Promise<void> {
    const at = this.deps.clock.now();
    if (!(await this.deps.store.deleteAccessKey(id, (accountId) => this.event(accountId, 'certplane:DeleteAccessKey', `access-key/${id}`, at)))) {
      throw errors.accessKeyNotFound(id);
    }
  }

  /**
   * The key, its secret (for signature checks) and who it speaks for; undefined when unknown or
   * disabled. The key's row is read on every call (a disabled or deleted key is refused at once);
   * only the opening of its sealed secret is remembered, by the sealed value itself.
   */
  async accessKeyWithSecret(id: string): Promise<{ key: AccessKey; secret: string; principal: Principal } | undefined> {
    const found = await this.deps.store.findAccessKey(id);
    if (!found || found.key.status !== 'active') return undefined;
    const principal = principalOf(found);
    return { key: found.key, secret: this.openSecret(id, found.secretSealed, principal), principal };
  }

  /**
   * The secret of key `id` as this process last opened it, the sealed value it came from, and whom
   * the key speaks for (a key's account, project and user never change), without reading the key: a
   * signature checked with it proves nothing until confirmKeyAndUseNonce has found the key still
   * active and sealed the same. Undefined when the key was not opened lately.
   */
  rememberedSecret(id: string): { sealed: string; secret: string; principal: Principal } | undefined {
    return this.openedSecrets.get(id);
  }

  /**
   * For a signature checked with rememberedSecret(id): records the nonce only if the key is still
   * active and sealed as `sealed`, in one statement (the key is not read apart), and answers whom
   * the key speaks for. Undefined when it recorded nothing (the key does not hold, or the nonce was
   * used): the caller then checks the request as if the secret were not remembered
   * (accessKeyWithSecret, then useNonce), which gives a missing, disabled or resealed key and a
   * replay their usual answers.
   */
  async confirmKeyAndUseNonce(id: string, sealed: string, nonce: string, expiresAt: Date): Promise<Principal | undefined> {
    const remembered = this.openedSecrets.get(id);
    if (remembered?.sealed !== sealed) return undefined;
    await this.purgeNoncesWhenDue();
    return (await this.deps.store.rememberNonceIfKeyHolds(id, sealed, nonce, expiresAt)) ? remembered.principal : undefined;
  }

  private openSecret(id: string, sealed: string, principal: Principal): string {
    const known = this.openedSecrets.get(id);
    if (known?.sealed === sealed) return known.secret;
    const secret = this.deps.sealer.open(sealed, secretContext(id));
    if (this.openedSecrets.size >= REMEMBERED_SECRETS) this.openedSecrets.clear();
    this.openedSecrets.set(id, { sealed, secret, principal });
    return secret;
  }

  /**
   * Remembers a signature nonce until `expiresAt`; throws `auth.nonce_reused` for a replay.
   * Stored in the database, so every server process sharing it sees every nonce.
   */
  async useNonce(accessKeyId: string, nonce: string, expiresAt: Date): Promise<void> {
    await this.purgeNoncesWhenDue();
    if (!(await this.deps.store.rememberNonce(accessKeyId, nonce, expiresAt))) throw errors.nonceReused();
  }

  private async purgeNoncesWhenDue(): Promise<void> {
    const now = this.deps.clock.now();
    if (now.getTime() >= this.nextNoncePurge) {
      // By clock time, not by count: a quiet server forgets old nonces too.
      this.nextNoncePurge = now.getTime() + NONCE_PURGE_INTERVAL_MS;
      // In batches, with the event loop's turn between two: at a thousand signed requests a second
      // a minute's nonces are 60,000 rows, and on SQLite one delete of them all would hold up every
      // other request of the process. The request that found the purge due waits for it.
      while ((await this.deps.store.purgeNonces(now, NONCE_PURGE_BATCH)).more) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * A new token: its value is returned once (only its hash is kept), its id names it from then on.
   * With a user, the token has only the rights of the user's policies.
   */
  async createToken(accountId: string, ttlMs: number, userId: string | null = null): Promise<{ token: string; record: Token }> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TOKEN_TTL_MS) {
      throw errors.invalidParameter('ttl', 'must be a duration between 1s and 365d');
    }
    await this.requireAccount(accountId);
    if (userId !== null && !(await this.deps.userExists(accountId, userId))) throw errors.userNotFound(userId);
    const now = this.deps.clock.now();
    const token = `${TOKEN_PREFIX}${this.deps.ids.secret(32)}`;
    const record: Token = {
      id: `tok-${this.deps.ids.hex32().slice(0, 20)}`,
      accountId,
      userId,
      expiresAt: new Date(now.getTime() + ttlMs),
      createdAt: now,
      revokedAt: null,
    };
    await this.deps.store.insertToken(record, hashToken(token), this.event(accountId, 'certplane:CreateToken', `token/${record.id}`, now));
    return { token, record };
  }

  async listTokens(accountId: string): Promise<Token[]> {
    await this.requireAccount(accountId);
    return this.deps.store.listTokens(accountId);
  }

  /** Revoking twice is harmless and keeps the first revocation time. */
  async revokeToken(id: string): Promise<Token> {
    const at = this.deps.clock.now();
    const token = await this.deps.store.revokeToken(id, at, (accountId) => this.event(accountId, 'certplane:RevokeToken', `token/${id}`, at));
    if (!token) throw errors.tokenNotFound(id);
    return token;
  }

  /** Resolves an `X-Auth-Token`; only its SHA-256 is stored, so a database leak yields no tokens. */
  async authenticateToken(token: string | undefined): Promise<Principal> {
    if (!token) throw errors.credentialsMissing();
    const found = await this.deps.store.findToken(hashToken(token));
    if (!found) throw errors.credentialsInvalid('token is not valid');
    if (found.token.revokedAt !== null) throw errors.credentialsInvalid('token has been revoked');
    if (found.token.expiresAt.getTime() <= this.deps.clock.now().getTime()) {
      throw errors.credentialsInvalid('token has expired');
    }
    const { accountId, userId, id } = found.token;
    return { accountId, projectId: found.projectId, userId, via: `token:${id}` };
  }

  async createInstance(accountId: string, name: string): Promise<Instance> {
    await this.requireAccount(accountId);
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64) throw errors.invalidParameter('name', 'must be 1 to 64 characters');
    const instance: Instance = { id: this.deps.ids.hex32(), accountId, name: trimmed, createdAt: this.deps.clock.now() };
    await this.deps.store.insertInstance(instance, this.event(accountId, 'certplane:CreateInstance', `instance/${instance.id}`, instance.createdAt));
    return instance;
  }

  /** The operator's change to `object` of the account, as the audit log keeps it. */
  private event(accountId: string, action: string, object: string, at: Date): AuditEvent {
    return operatorEvent(this.deps.regionId, accountId, action, object, at);
  }

  async requireInstance(accountId: string, id: string): Promise<Instance> {
    const instance = await this.deps.store.findInstance(accountId, id);
    if (!instance) throw errors.instanceNotFound(id);
    return instance;
  }
}

function principalOf(found: { key: AccessKey; projectId: string }): Principal {
  return { accountId: found.key.accountId, projectId: found.projectId, userId: found.key.userId, via: found.key.id };
}
