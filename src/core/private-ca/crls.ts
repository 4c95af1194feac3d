/**
 * Each managed CA's CRL: a full v2 CRL of every serial it revoked or voided, reissued after every
 * revoke and activate (as the RevocationListener), when a CA is created, and whenever it is served
 * while out of date (the CA's revocation version moved past it, e.g. a change whose reissue failed
 * or a process that crashed in between) or within the refresh margin of its nextUpdate.
 *
 * CRL numbers come from the database: a CRL is stored only if the number it follows is still the
 * latest (a conditional update), so server processes sharing the database never publish two CRLs
 * under one number; the loser of a race reads the winner's and tries again if that is not enough.
 */
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import { HEX_ID, wholeSeconds } from './model.js';
import type { CaSigner, CrlState, ListedSerial, RevocationChange, RevocationListener, RevocationStore } from './ports.js';
import { CRL_REFRESH_SHARE, HOUR_MS, revocationOf, type RevocationSettings } from './revocation.js';
import type { RevokedEntry } from '../../pki/index.js';

export interface CrlIssuerDeps {
  store: RevocationStore;
  signer: Pick<CaSigner, 'signCrl'>;
  clock: Clock;
  logger: Logger;
  settings: Pick<RevocationSettings, 'crlValidityHours'>;
}

/** Rounds of read → sign → conditional store before giving up on a CA other processes keep changing. */
const ATTEMPTS = 8;

export class CrlIssuer implements RevocationListener {
  /** One issuance per CA at a time in this process: concurrent fetches of a stale CRL share it. */
  private readonly issuing = new Map<string, Promise<void>>();

  constructor(private readonly deps: CrlIssuerDeps) {}

  /**
   * The CA's CRL (DER), issued first when needed, listing at least every change committed before
   * this call; undefined when no managed CA has this id. Changes committed meanwhile are for their
   * own reissue (or the next fetch) to publish: chasing them too could go on for ever.
   */
  async current(caId: string): Promise<Buffer | undefined> {
    return (await this.latest(caId))?.der;
  }

  /** current(), with the CRL's number. */
  async latest(caId: string): Promise<{ der: Buffer; number: number } | undefined> {
    if (!HEX_ID.test(caId)) return undefined;
    let state = await this.deps.store.crlState(caId);
    const wanted = state?.version ?? 0;
    for (let attempt = 0; state && attempt < ATTEMPTS; attempt++) {
      if (this.upToDate(state, wanted)) return { der: state.der, number: state.number };
      await this.issueOnce(caId, state);
      state = await this.deps.store.crlState(caId);
    }
    return state && { der: this.lastResort(caId, state), number: state.number };
  }

  async revocationChanged(change: RevocationChange): Promise<void> {
    await this.current(change.caId);
  }

  async caCreated(caId: string): Promise<void> {
    await this.current(caId);
  }

  private upToDate(state: CrlState, wanted: number): state is CrlState & { der: Buffer; nextUpdate: Date } {
    if (!state.der || !state.nextUpdate || state.listedVersion < wanted) return false;
    const margin = this.validityMs() * CRL_REFRESH_SHARE;
    return state.nextUpdate.getTime() - this.deps.clock.now().getTime() > margin;
  }

  /** Joins the issuance this process is already running for the CA, or starts one; its outcome is read back from the store. */
  private issueOnce(caId: string, state: CrlState): Promise<void> {
    let running = this.issuing.get(caId);
    if (!running) {
      running = this.issue(caId, state).finally(() => this.issuing.delete(caId));
      this.issuing.set(caId, running);
    }
    return running;
  }

  private async issue(caId: string, state: CrlState): Promise<void> {
    // The version is read before the serials: the CRL lists at least what that version says.
    const serials = await this.deps.store.listedSerials(caId);
    const thisUpdate = wholeSeconds(this.deps.clock.now());
    const nextUpdate = new Date(thisUpdate.getTime() + this.validityMs());
    const number = state.number + 1;
    const crl = await this.deps.signer.signCrl(caId, { thisUpdate, nextUpdate, crlNumber: number, revoked: serials.map(entryOf) });
    const stored = await this.deps.store.publishCrl(caId, state.number, { number, der: crl.der, thisUpdate, nextUpdate, listedVersion: state.version });
    if (!stored) this.deps.logger.debug({ caId, number }, 'another process published CRL number first');
  }

  /** Others kept publishing: serve the latest CRL while it is still valid rather than fail the fetch. */
  private lastResort(caId: string, state: CrlState): Buffer {
    if (state.der && state.nextUpdate && state.nextUpdate.getTime() > this.deps.clock.now().getTime()) {
      this.deps.logger.warn({ caId, number: state.number }, 'the CRL could not be brought up to date; the latest one is served');
      return state.der;
    }
    throw new Error(`CA ${caId}: no valid CRL could be published after ${ATTEMPTS} attempts`);
  }

  private validityMs(): number {
    return this.deps.settings.crlValidityHours * HOUR_MS;
  }
}

function entryOf(serial: ListedSerial): RevokedEntry {
  const revocation = revocationOf(serial);
  // listedSerials returns revoked and void records only, which always have a revocation.
  if (!revocation) throw new Error(`serial ${serial.serialNumber} is ${serial.status}, not revoked`);
  return { serial: Buffer.from(serial.serialNumber, 'hex'), revokedAt: revocation.revokedAt, reason: revocation.reason };
}
