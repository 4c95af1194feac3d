/**
 * CrlIssuer's rules without a database: when a stored CRL is served as it is, when a new one is
 * signed, which number it gets, and what happens when other processes keep winning the race.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrlIssuer } from '../../src/core/private-ca/crls.js';
import type { CrlState, ListedSerial, NewCrl, OcspSubject, RevocationStore } from '../../src/core/private-ca/ports.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { silentLogger, type Logger } from '../../src/kernel/logger.js';
import type { CrlInput } from '../../src/pki/index.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const HOUR = 3_600_000;
const CA = 'a'.repeat(32);

/** One CA's CRL state in memory; `rival` makes every publish lose to another process that stores its own CRL. */
class FakeStore implements RevocationStore {
  state: CrlState = { number: 0, der: null, nextUpdate: null, version: 0, listedVersion: 0 };
  published: NewCrl[] = [];
  serials: ListedSerial[] = [];
  rival: ((state: CrlState) => CrlState) | undefined;

  async crlState(caId: string): Promise<CrlState | undefined> {
    return caId === CA ? { ...this.state } : undefined;
  }
  async listedSerials(): Promise<ListedSerial[]> {
    return this.serials;
  }
  async publishCrl(_caId: string, previous: number, crl: NewCrl): Promise<boolean> {
    if (this.rival) {
      this.state = this.rival(this.state);
      return false;
    }
    if (this.state.number !== previous) return false;
    this.published.push(crl);
    this.state = { ...this.state, number: crl.number, der: crl.der, nextUpdate: crl.nextUpdate, listedVersion: crl.listedVersion };
    return true;
  }
  async ocspSubject(): Promise<OcspSubject | undefined> {
    return undefined;
  }
}

function setup() {
  const store = new FakeStore();
  const clock = fixedClock(T0);
  const signed: Array<Omit<CrlInput, 'issuer'>> = [];
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (_, msg) => void warnings.push(msg ?? '') };
  const signer = {
    signCrl: async (_caId: string, crl: Omit<CrlInput, 'issuer'>) => {
      signed.push(crl);
      return { der: Buffer.from(`crl-${crl.crlNumber}`), pem: '' };
    },
  };
  const issuer = new CrlIssuer({ store, signer, clock, logger, settings: { crlValidityHours: 24 } });
  return { store, clock, signed, warnings, issuer };
}

describe('CrlIssuer', () => {
  it('issues number 1 first, then serves it until a change or half its validity is gone', async () => {
    const { store, clock, signed, issuer } = setup();
    assert.deepEqual(await issuer.current(CA), Buffer.from('crl-1'));
    assert.deepEqual(signed.map((c) => [c.crlNumber, c.thisUpdate, c.nextUpdate]), [[1, T0, new Date(T0.getTime() + 24 * HOUR)]]);
    clock.set(new Date(T0.getTime() + 11 * HOUR));
    assert.deepEqual(await issuer.current(CA), Buffer.from('crl-1'));
    store.state.version = 1; // a revoke committed
    assert.deepEqual(await issuer.current(CA), Buffer.from('crl-2'));
    assert.equal(store.published.at(-1)?.listedVersion, 1);
    clock.set(new Date(T0.getTime() + 22 * HOUR));
    assert.deepEqual(await issuer.current(CA), Buffer.from('crl-2'), 'crl-2 runs to 35 h: 13 h of 24 left');
    clock.set(new Date(T0.getTime() + 23 * HOUR + 1));
    assert.deepEqual(await issuer.current(CA), Buffer.from('crl-3'), 'less than half left: reissued');
    assert.equal(signed.length, 3);
  });

  it('lists revoked and void serials with their revocation', async () => {
    const { store, signed, issuer } = setup();
    const at = new Date('2026-02-01T00:00:00Z');
    store.serials = [
      { serialNumber: '4a'.repeat(16), status: 'revoked', revokedAt: at, createdAt: T0, deleted: false },
      { serialNumber: '4b'.repeat(16), status: 'void', revokedAt: null, createdAt: at, deleted: false },
    ];
    await issuer.current(CA);
    assert.deepEqual(signed[0]!.revoked, [
      { serial: Buffer.from('4a'.repeat(16), 'hex'), revokedAt: at, reason: 'certificateHold' },
      { serial: Buffer.from('4b'.repeat(16), 'hex'), revokedAt: at, reason: 'cessationOfOperation' },
    ]);
  });

  it('serves a rival\'s newer CRL when it covers what was asked, without signing again', async () => {
    const { store, signed, issuer } = setup();
    store.rival = (s) => ({ ...s, number: 7, der: Buffer.from('rival'), nextUpdate: new Date(T0.getTime() + 24 * HOUR), listedVersion: s.version });
    assert.deepEqual(await issuer.current(CA), Buffer.from('rival'));
    assert.equal(signed.length, 1, 'one attempt lost, then the winner\'s CRL was good enough');
  });

  it('when rivals never catch up, serves the latest CRL still valid, with a warning; fails when none is', async () => {
    const { store, clock, warnings, issuer } = setup();
    store.state = { number: 3, der: Buffer.from('old'), nextUpdate: new Date(T0.getTime() + HOUR), version: 5, listedVersion: 4 };
    store.rival = (s) => ({ ...s, number: s.number + 1 }); // they publish, but never what this caller needs
    assert.deepEqual(await issuer.current(CA), Buffer.from('old'));
    assert.deepEqual(warnings, ['the CRL could not be brought up to date; the latest one is served']);
    clock.set(new Date(T0.getTime() + 2 * HOUR));
    await assert.rejects(issuer.current(CA), /no valid CRL could be published/);
  });

  it('knows no CA by an id that is not one', async () => {
    const { issuer } = setup();
    assert.equal(await issuer.current('b'.repeat(32)), undefined);
    assert.equal(await issuer.current('../x'), undefined);
  });
});
