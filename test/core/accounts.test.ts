import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessKey, Account, Instance, Token } from '../../src/core/accounts/model.js';
import type { AccountStore } from '../../src/core/accounts/ports.js';
import { AccountsService } from '../../src/core/accounts/service.js';
import { AppError } from '../../src/kernel/errors.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { randomIds } from '../../src/kernel/ids.js';

/** The accounts store in memory: the use cases run without a database. */
class MemoryAccountStore implements AccountStore {
  readonly accounts = new Map<string, Account>();
  readonly keys = new Map<string, { key: AccessKey; secretSealed: string }>();
  readonly tokens = new Map<string, Token>();
  readonly nonces = new Map<string, Date>();
  purges = 0;

  async insertAccount(a: Account) { this.accounts.set(a.id, a); }
  async findAccount(id: string) { return this.accounts.get(id); }
  async findAccountByProject(projectId: string) { return [...this.accounts.values()].find((a) => a.projectId === projectId); }
  async listAccounts() { return [...this.accounts.values()]; }
  async insertAccessKey(key: AccessKey, secretSealed: string) { this.keys.set(key.id, { key, secretSealed }); }
  async findAccessKey(id: string) {
    const found = this.keys.get(id);
    return found && { key: { ...found.key }, secretSealed: found.secretSealed, projectId: this.accounts.get(found.key.accountId)!.projectId };
  }
  async listAccessKeys(accountId: string) { return [...this.keys.values()].map((k) => k.key).filter((k) => k.accountId === accountId); }
  async setAccessKeyStatus(id: string, status: AccessKey['status']) {
    const found = this.keys.get(id);
    if (found) found.key.status = status;
    return found !== undefined;
  }
  async deleteAccessKey(id: string) { return this.keys.delete(id); }
  async rememberNonce(accessKeyId: string, nonce: string, expiresAt: Date) {
    const key = `${accessKeyId}/${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, expiresAt);
    return true;
  }
  async rememberNonceIfKeyHolds(id: string, sealed: string, nonce: string, expiresAt: Date) {
    const found = await this.findAccessKey(id);
    if (!found || found.key.status !== 'active' || found.secretSealed !== sealed) return false;
    return this.rememberNonce(id, nonce, expiresAt);
  }
  async purgeNonces(before: Date) {
    this.purges += 1;
    let n = 0;
    for (const [key, expiresAt] of this.nonces) if (expiresAt < before && this.nonces.delete(key)) n += 1;
    return { deleted: n, more: false };
  }
  readonly hashes = new Map<string, string>();
  async insertToken(token: Token, hash: string) { this.tokens.set(token.id, token); this.hashes.set(hash, token.id); }
  async findToken(hash: string) {
    const token = this.tokens.get(this.hashes.get(hash) ?? '');
    return token && { token: { ...token }, projectId: this.accounts.get(token.accountId)!.projectId };
  }
  async listTokens(accountId: string) { return [...this.tokens.values()].filter((t) => t.accountId === accountId); }
  async revokeToken(id: string, at: Date) {
    const token = this.tokens.get(id);
    if (token && token.revokedAt === null) token.revokedAt = at;
    return token && { ...token };
  }
  async insertInstance(_instance: Instance) {}
  async findInstance() { return undefined; }
}

function setup() {
  const store = new MemoryAccountStore();
  const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
  const accounts = new AccountsService({
    store,
    clock,
    ids: randomIds,
    sealer: { seal: (text) => `sealed:${text}`, open: (sealed) => sealed.slice('sealed:'.length), currentKeyId: 'k' },
    userExists: async () => false,
    regionId: 'test-region',
  });
  return { store, clock, accounts };
}

const code = (err: unknown) => (err instanceof AppError ? err.code : String(err));

describe('AccountsService with an in-memory store', () => {
  it('stops answering for a disabled or deleted key, and answers again once enabled', async () => {
    const { accounts } = setup();
    const account = await accounts.createAccount('a');
    const { key, secret } = await accounts.createAccessKey(account.id);
    assert.equal((await accounts.accessKeyWithSecret(key.id))?.secret, secret);
    await accounts.setAccessKeyStatus(key.id, 'disabled');
    assert.equal(await accounts.accessKeyWithSecret(key.id), undefined);
    await accounts.setAccessKeyStatus(key.id, 'active');
    assert.equal((await accounts.accessKeyWithSecret(key.id))?.principal.accountId, account.id);
    await accounts.deleteAccessKey(key.id);
    assert.equal(await accounts.accessKeyWithSecret(key.id), undefined);
    await assert.rejects(accounts.setAccessKeyStatus(key.id, 'active'), (err) => code(err) === 'access_key.not_found');
  });

  it('refuses a revoked token and an expired one, and says which', async () => {
    const { accounts, clock } = setup();
    const account = await accounts.createAccount('a');
    const { token, record } = await accounts.createToken(account.id, 60_000);
    assert.equal((await accounts.authenticateToken(token)).accountId, account.id);
    const revoked = await accounts.revokeToken(record.id);
    await assert.rejects(accounts.authenticateToken(token), (err) => err instanceof AppError && err.message === 'token has been revoked');
    clock.set(new Date(clock.now().getTime() + 1000));
    assert.deepEqual((await accounts.revokeToken(record.id)).revokedAt, revoked.revokedAt);
    const other = await accounts.createToken(account.id, 60_000);
    clock.set(new Date(clock.now().getTime() + 60_000));
    await assert.rejects(accounts.authenticateToken(other.token), (err) => err instanceof AppError && err.message === 'token has expired');
    await assert.rejects(accounts.revokeToken('tok-none'), (err) => code(err) === 'token.not_found');
  });

  it('purges expired nonces by clock time, once a minute at most', async () => {
    const { accounts, store, clock } = setup();
    const start = clock.now().getTime();
    const expiry = (ms: number) => new Date(start + ms);
    await accounts.useNonce('k', 'n1', expiry(900_000));
    await assert.rejects(accounts.useNonce('k', 'n1', expiry(900_000)), (err) => code(err) === 'auth.nonce_reused');
    await accounts.useNonce('k', 'n2', expiry(900_000));
    assert.equal(store.purges, 1, 'one purge for requests within the same minute');
    clock.set(new Date(start + 901_000));
    await accounts.useNonce('k', 'n3', expiry(1_801_000));
    assert.equal(store.purges, 2);
    assert.deepEqual([...store.nonces.keys()], ['k/n3']);
  });
});
