/**
 * The renewal scan: finds the certificates whose renewal time came and starts each renewal, a new
 * issuance that `replaces` the old one, worked by the `acme.issue` job like any other. The site
 * certificate moves to the renewal only once it is stored valid (adapters/db/renewal-rows.ts),
 * so the old one serves until then, and a failed renewal is planned again with backoff.
 */
import { createHash } from 'node:crypto';
import type { IssuerProfile } from '../../config/issuers.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { Random } from '../../kernel/random.js';
import type { AcmeAccounts } from '../issuance/acme-accounts.js';
import { DAY_MS } from './policy.js';
import { decideWhenDue } from './planning.js';
import type { DueCertificate, RenewalStore } from './ports.js';

export const RENEWAL_SCAN_JOB = 'renewal.scan';
/** Due certificates read per query. */
const BATCH = 200;

export interface RenewalServiceDeps {
  store: RenewalStore;
  accounts: AcmeAccounts;
  issuers: Record<string, IssuerProfile>;
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  logger: Logger;
  /** Told after renewals were started (this process's workers wake up). */
  started?: () => void;
}

export interface ScanResult {
  started: number;
  postponed: number;
}

export class RenewalService {
  constructor(private readonly deps: RenewalServiceDeps) {}

  /** One pass over every due certificate. */
  async scan(signal?: AbortSignal): Promise<ScanResult> {
    const result: ScanResult = { started: 0, postponed: 0 };
    const now = this.deps.clock.now();
    for (;;) {
      signal?.throwIfAborted();
      const due = await this.deps.store.due(now, BATCH);
      for (const certificate of due) {
        if (await this.consider(certificate, now)) result.started += 1;
        else result.postponed += 1;
      }
      if (due.length < BATCH) break;
      // The event loop's turn between two batches: on SQLite the store answers synchronously, and
      // a scan of thousands of due certificates would otherwise hold up every request meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (result.started > 0) this.deps.started?.();
    return result;
  }

  /** Starts the renewal of one due certificate, or plans when to look again. */
  private async consider(certificate: DueCertificate, now: Date): Promise<boolean> {
    const { store, logger } = this.deps;
    const profile = this.deps.issuers[certificate.profile];
    if (!profile?.directoryUrl) {
      logger.warn({ issuance: certificate.issuanceId, profile: certificate.profile }, 'the issuer profile is no longer configured; renewal waits a day');
      await store.postpone(certificate.issuanceId, new Date(now.getTime() + DAY_MS), now);
      return false;
    }
    if (certificate.acmeAccountId !== undefined) {
      const client = await this.deps.accounts.byId(certificate.acmeAccountId, profile).catch(() => undefined);
      const decision = client ? await decideWhenDue(client, certificate, now, this.deps.random) : { renewNow: true as const };
      if (!decision.renewNow) {
        await store.postpone(certificate.issuanceId, decision.nextLookAt, now, decision.nextCheckAt);
        return false;
      }
    }
    const attempt = certificate.failures + 1;
    const renewal = {
      // One id per (certificate, attempt): its `acme.issue:{id}` job key names that attempt.
      id: renewalIdOf(certificate.issuanceId, attempt),
      accountId: certificate.accountId,
      profile: certificate.profile,
      identifiers: certificate.identifiers,
      challengeType: certificate.challengeType,
      placement: 'certplane' as const,
      keyType: certificate.keyType,
      replaces: certificate.issuanceId,
    };
    const started = await store.startRenewal(certificate.issuanceId, renewal, now, this.deps.ids.hex32());
    if (started) logger.info({ issuance: certificate.issuanceId, renewal: renewal.id, attempt }, 'renewal started');
    return started;
  }
}

/** The renewal issuance's id for the `attempt`-th renewal of an issuance (32 hex digits, as ids are). */
export function renewalIdOf(issuanceId: string, attempt: number): string {
  return createHash('sha256').update(`renewal:${issuanceId}:${attempt}`).digest('hex').slice(0, 32);
}

/** `renewal.scan`: one pass, then again after `intervalMs` (the one job row is kept, never finished). */
export function renewalScanHandler(renewals: RenewalService, clock: Clock, intervalMs: number) {
  return {
    name: RENEWAL_SCAN_JOB,
    parse: (): Record<string, never> => ({}),
    async run(_payload: Record<string, never>, context: { signal: AbortSignal; logger: Logger }): Promise<{ continueAt: Date }> {
      const result = await renewals.scan(context.signal);
      if (result.started + result.postponed > 0) context.logger.info(result, 'renewal scan');
      return { continueAt: new Date(clock.now().getTime() + intervalMs) };
    },
  };
}

/** The one `renewal.scan` job: `SqlJobStore.ensureRecurring` keeps exactly one across processes. */
export const renewalScanJob = { name: RENEWAL_SCAN_JOB, payload: {}, idempotencyKey: RENEWAL_SCAN_JOB, maxAttempts: 1000 };
