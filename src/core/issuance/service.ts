/**
 * What an issuance's owner (ESA's ApplyCertificate, CAS orders) does with it besides creating it
 * (`insertIssuanceWith`, in the owner's own transaction with its job): read it back, withdraw it,
 * and open the key certplane generated for it.
 */
import { privateKeyContext } from '../certificates/service.js';
import type { Clock } from '../../kernel/clock.js';
import type { Sealer } from '../../kernel/sealer.js';
import { cleanupOf, type RemovalJob } from './cleanup.js';
import { FINISHED_STATES, type Issuance } from './model.js';
import type { IssuanceStore } from './ports.js';
import { reportFinished, type IssuanceMetrics } from '../metrics/ports.js';

export interface IssuanceServiceDeps {
  store: IssuanceStore;
  clock: Clock;
  sealer: Sealer;
  removalJob: RemovalJob;
  /** Told of each issuance canceled here; nothing by default. */
  metrics?: IssuanceMetrics;
}

/** A cancel that keeps losing races to the worker (each loss is one step of the issuance) gives up after this many. */
const CANCEL_TRIES = 8;

export class IssuanceService {
  constructor(private readonly deps: IssuanceServiceDeps) {}

  get(id: string): Promise<Issuance | undefined> {
    return this.deps.store.find(id);
  }

  /**
   * Withdraws an unfinished issuance: `canceled`, its dns-01 records queued for removal and its
   * http-01 tokens dropped in the same transaction; a run working it stops at its next write. A
   * finished issuance is returned as it is. Undefined: no such issuance.
   */
  async cancel(id: string): Promise<Issuance | undefined> {
    for (let i = 0; i < CANCEL_TRIES; i++) {
      const issuance = await this.deps.store.find(id);
      if (!issuance || FINISHED_STATES.includes(issuance.state)) return issuance;
      const cleanup = cleanupOf(issuance, issuance.authorizations, this.deps.removalJob);
      const at = this.deps.clock.now();
      if (await this.deps.store.finish(id, [issuance.state], { state: 'canceled' }, at, cleanup)) {
        reportFinished(this.deps.metrics, issuance, 'canceled', at);
        return this.deps.store.find(id);
      }
    }
    throw new Error(`issuance ${id} kept changing while being canceled`);
  }

  /** The private key (PEM) certplane generated for the issuance; undefined when it was issued from the user's CSR or has no key yet. */
  async privateKeyPem(id: string): Promise<string | undefined> {
    const issuance = await this.deps.store.find(id);
    if (issuance?.keyId === undefined) return undefined;
    const sealed = await this.deps.store.sealedKey(issuance.keyId);
    return sealed === undefined ? undefined : this.deps.sealer.open(sealed, privateKeyContext(issuance.keyId));
  }
}
