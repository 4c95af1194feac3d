/**
 * Works one issuance toward the end of its state machine (see model.ts). A run reads the stored
 * issuance and does the step its state calls for, storing what the step learnt (the order URL, the
 * authorizations, the key, the chain) before the next; then reads again and goes on, until the
 * issuance is finished or has to wait (the CA still validating, a user's record not placed yet).
 * A run cut short anywhere is run again from the start and continues from the CA's state, which
 * is read by URL: an issuance with an order URL never gets another order.
 */
import { createPrivateKey } from 'node:crypto';
import type { IssuerProfile } from '../../config/issuers.js';
import type { Identifier } from '../acme/model.js';
import type { AcmeClient } from '../acme/ports.js';
import { AcmeProblem, AcmeUnavailable } from '../acme/problem.js';
import { privateKeyContext } from '../certificates/service.js';
import { RetryAfter } from '../jobs/ports.js';
import { DnsProviderError } from '../validation/ports.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { Sealer } from '../../kernel/sealer.js';
import { ariCertId, buildCsr } from '../../pki/index.js';
import { cryptoRandom, type Random } from '../../kernel/random.js';
import { firstLook } from '../renewal/planning.js';
import type { AcmeAccounts } from './acme-accounts.js';
import { cleanupOf } from './cleanup.js';
import { issuedFacts } from './facts.js';
import { failureFromLastError, failureFromProblem, IssuanceFailed, isTransientProblem } from './failure.js';
import { FINISHED_STATES, type Issuance } from './model.js';
import type { CertificateKeys } from './ports.js';
import { reportFinished, type IssuanceMetrics } from '../metrics/ports.js';
import { orderFailure, Proving, type ProvingDeps, type ProvingTiming, type StepResult } from './proving.js';

export type EngineTiming = ProvingTiming;

export const DEFAULT_ENGINE_TIMING: EngineTiming = {
  propagationTimeoutMs: 120_000,
  pollInRunMs: 20_000,
  recheckMs: 2000,
  userCheckMs: 30_000,
  http01TokenTtlMs: 7 * 24 * 3_600_000,
  txtTtlSeconds: 60,
};

export interface IssuanceEngineDeps extends Omit<ProvingDeps, 'timing'> {
  accounts: AcmeAccounts;
  issuers: Record<string, IssuerProfile>;
  keys: CertificateKeys;
  sealer: Sealer;
  ids: IdGenerator;
  logger: Logger;
  timing?: Partial<EngineTiming>;
  /** For the renewal time chosen when a certificate is stored (default: node:crypto). */
  random?: Random;
  /** Told of each issuance the engine ends (valid or invalid); nothing by default. */
  metrics?: IssuanceMetrics;
}

/** More steps than any issuance takes in one run (a lost race costs one more read). */
const MAX_STEPS = 16;

export class IssuanceEngine {
  private readonly proving: Proving;
  private readonly timing: EngineTiming;

  constructor(private readonly deps: IssuanceEngineDeps) {
    this.timing = { ...DEFAULT_ENGINE_TIMING, ...deps.timing };
    this.proving = new Proving({ ...deps, timing: this.timing });
  }

  /**
   * One run: steps until the issuance is finished (undefined) or must wait (`continueAt`). Throws
   * RetryAfter when the CA asked for patience, and anything else worth retrying as it comes.
   */
  async run(issuanceId: string, signal?: AbortSignal): Promise<{ continueAt: Date } | undefined> {
    for (let step = 0; step < MAX_STEPS; step++) {
      signal?.throwIfAborted();
      const issuance = await this.deps.store.find(issuanceId);
      if (!issuance) {
        this.deps.logger.warn({ issuance: issuanceId }, 'no such issuance; nothing to do');
        return undefined;
      }
      if (FINISHED_STATES.includes(issuance.state)) return undefined;
      const result = await this.guarded(issuance, signal);
      if (result !== 'next') return result;
    }
    return { continueAt: this.deps.clock.now() };
  }

  /** After the job's last attempt failed: the issuance ends `invalid` with that failure, never left unfinished. */
  async giveUp(issuanceId: string, lastError: unknown): Promise<void> {
    const issuance = await this.deps.store.find(issuanceId);
    if (issuance && !FINISHED_STATES.includes(issuance.state)) await this.fail(issuance, failureFromLastError(lastError));
  }

  private async guarded(issuance: Issuance, signal?: AbortSignal): Promise<StepResult> {
    try {
      return await this.step(issuance, signal);
    } catch (err) {
      // Cut short by the worker (lease lost, stopping): whatever the step threw says nothing about the issuance.
      if (signal?.aborted) throw err;
      if (err instanceof IssuanceFailed) return this.fail(issuance, err);
      if (err instanceof AcmeProblem) {
        if (!isTransientProblem(err)) return this.fail(issuance, failureFromProblem(err));
        throw this.retryLater(err, err.retryAfterMs);
      }
      if (err instanceof AcmeUnavailable) throw this.retryLater(err, err.retryAfterMs);
      if (err instanceof DnsProviderError && !err.transient) return this.fail(issuance, new IssuanceFailed('dnsProviderFailed', err.message));
      throw err;
    }
  }

  private async step(issuance: Issuance, signal?: AbortSignal): Promise<StepResult> {
    const profile = this.profileOf(issuance);
    switch (issuance.state) {
      case 'queued':
        return this.order(issuance, profile);
      case 'ordered':
        return this.proving.prove(issuance, await this.clientOf(issuance, profile), signal);
      case 'validating':
        return this.proving.awaitValidation(issuance, await this.clientOf(issuance, profile));
      case 'finalizing':
        return this.finalize(issuance, profile);
      default:
        return 'next';
    }
  }

  /** `queued` → `ordered`: the account (registered on first use), then one newOrder, its URL stored. */
  private async order(issuance: Issuance, profile: IssuerProfile): Promise<StepResult> {
    const { client, account } = await this.deps.accounts.forOwner(issuance.accountId, profile);
    const identifiers = issuance.identifiers.map((value): Identifier => ({ type: 'dns', value }));
    const replaces = await this.replacesOf(issuance, client);
    const order = await client.newOrder({ identifiers, profile: profile.profile, ...(replaces !== undefined ? { replaces } : {}) }).catch((err: unknown) => {
      // RFC 9773 §5: the CA will not let this order replace that certificate (another order did):
      // the certificate is still wanted, so it is ordered without naming what it replaces.
      if (replaces === undefined || !(err instanceof AcmeProblem) || err.acmeError !== 'alreadyReplaced') throw err;
      this.deps.logger.warn({ issuance: issuance.id, replaces }, 'the CA says the certificate was replaced already; ordering without replaces');
      return client.newOrder({ identifiers, profile: profile.profile });
    });
    const stored = await this.deps.store.advance(issuance.id, 'queued', 'ordered', { orderUrl: order.url, acmeAccountId: account.id, authorizations: [] }, this.deps.clock.now());
    if (!stored) this.deps.logger.warn({ issuance: issuance.id, order: order.url }, 'the issuance changed while its order was made; the order is left to expire');
    return 'next';
  }

  /** `finalizing` → `valid`: the CSR sent once the order is ready, the chain downloaded once it is valid. */
  private async finalize(issuance: Issuance, profile: IssuerProfile): Promise<StepResult> {
    const client = await this.clientOf(issuance, profile);
    const url = issuance.orderUrl!;
    let order = await client.getOrder(url);
    if (order.status === 'ready') order = await client.finalize(order, await this.csrOf(issuance, profile));
    if (order.status === 'processing') order = await client.waitForOrder(url, { timeoutMs: this.timing.pollInRunMs });
    switch (order.status) {
      case 'valid': {
        if (!order.certificate) throw new AcmeUnavailable(`the CA's valid order ${url} names no certificate`);
        const chain = await client.downloadCertificate(order.certificate);
        const issued = issuedFacts(chain.pem);
        const plan = await firstLook(client, issued, this.deps.clock.now(), this.deps.random ?? cryptoRandom, this.deps.logger);
        const outcome = { state: 'valid' as const, issued, renewAt: plan.renewAt, ariCheckAt: plan.ariCheckAt };
        const at = this.deps.clock.now();
        if (await this.deps.store.finish(issuance.id, ['finalizing'], outcome, at, { jobs: [], dropHttp01Tokens: true })) {
          reportFinished(this.deps.metrics, issuance, 'valid', at);
        }
        return 'next';
      }
      case 'invalid':
        throw orderFailure(url, order.error);
      case 'pending':
        throw new IssuanceFailed('orderNotReady', `the CA has the order ${url} pending again: an authorization expired or was deactivated`);
      default:
        return { continueAt: new Date(this.deps.clock.now().getTime() + (order.retryAfterMs ?? this.timing.recheckMs)) };
    }
  }

  /**
   * RFC 9773 §5: a renewal's order names the certificate it replaces by its ARI id, when the CA
   * offers renewalInfo (a CA without ARI is not sent the field).
   */
  private async replacesOf(issuance: Issuance, client: AcmeClient): Promise<string | undefined> {
    if (issuance.replaces === undefined) return undefined;
    const old = await this.deps.store.find(issuance.replaces);
    if (!old?.issued || !(await client.offersRenewalInfo())) return undefined;
    try {
      return ariCertId(old.issued.chainPem);
    } catch (err) {
      this.deps.logger.warn({ issuance: issuance.id, err }, 'the replaced certificate has no ARI id; ordering without replaces');
      return undefined;
    }
  }

  /** The user's CSR, or one for the identifiers made from the issuance's own key (stored before it is first used). */
  private async csrOf(issuance: Issuance, profile: IssuerProfile): Promise<string | Buffer> {
    if (issuance.csrPem !== undefined) return issuance.csrPem;
    const keyPem = await this.keyOf(issuance, profile);
    return buildCsr(createPrivateKey(keyPem), issuance.identifiers);
  }

  private async keyOf(issuance: Issuance, profile: IssuerProfile): Promise<string> {
    const { store, sealer } = this.deps;
    let keyId = issuance.keyId;
    if (keyId === undefined) {
      const generated = await this.deps.keys.generate(issuance.keyType ?? profile.keyType);
      const id = this.deps.ids.hex32();
      const key = { id, algorithm: generated.algorithm, sealed: sealer.seal(generated.privateKeyPem, privateKeyContext(id)) };
      keyId = await store.attachKey(issuance.id, key, this.deps.clock.now());
      if (keyId === id) return generated.privateKeyPem;
    }
    const sealed = await store.sealedKey(keyId);
    if (sealed === undefined) throw new IssuanceFailed('internal', `the issuance's key ${keyId} is missing`);
    return sealer.open(sealed, privateKeyContext(keyId));
  }

  private clientOf(issuance: Issuance, profile: IssuerProfile): Promise<AcmeClient> {
    if (issuance.acmeAccountId === undefined) return this.deps.accounts.forOwner(issuance.accountId, profile).then(({ client }) => client);
    return this.deps.accounts.byId(issuance.acmeAccountId, profile);
  }

  private profileOf(issuance: Issuance): IssuerProfile {
    const profile = this.deps.issuers[issuance.profile];
    if (!profile) throw new IssuanceFailed('issuerNotConfigured', `no issuer profile is named ${issuance.profile} (issuers)`);
    return profile;
  }

  /** Ends the issuance `invalid`, its records and tokens cleaned up, as stored now (a race lost: read again). */
  private async fail(issuance: Issuance, failure: IssuanceFailed): Promise<StepResult> {
    const current = (await this.deps.store.find(issuance.id)) ?? issuance;
    if (FINISHED_STATES.includes(current.state)) return 'next';
    const outcome = { state: 'invalid' as const, errorCode: failure.code, errorDetail: failure.detail };
    const cleanup = cleanupOf(current, current.authorizations, this.deps.removalJob);
    const at = this.deps.clock.now();
    const ended = await this.deps.store.finish(current.id, [current.state], outcome, at, cleanup);
    if (ended) {
      this.deps.logger.info({ issuance: current.id, code: failure.code, detail: failure.detail }, 'issuance failed');
      reportFinished(this.deps.metrics, current, 'invalid', at);
    }
    return 'next';
  }

  private retryLater(err: Error, retryAfterMs: number | undefined): Error {
    if (retryAfterMs === undefined) return err;
    return new RetryAfter(new Date(this.deps.clock.now().getTime() + retryAfterMs), err.message, { cause: err });
  }
}
