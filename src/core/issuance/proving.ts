/**
 * The proving phase of an issuance: from `ordered` (the order's authorizations read, their
 * challenges recorded, the proof put in place and the challenges answered) to `validating`, then
 * to `finalizing` once the CA found every proof. Each fact is stored before the next action, so a
 * run cut short anywhere does it again from what is stored, and what the CA already has (an
 * answered challenge, a valid authorization) is read back rather than repeated.
 */
import type { Authorization, Challenge } from '../acme/model.js';
import type { AcmeClient } from '../acme/ports.js';
import type { AcmeProblem } from '../acme/problem.js';
import type { DnsProvider, DnsRecordHandle, RecordVisibility } from '../validation/ports.js';
import type { Clock } from '../../kernel/clock.js';
import { cleanupOf, type RemovalJob } from './cleanup.js';
import { failureFromProblem, IssuanceFailed } from './failure.js';
import type { AuthorizationProgress, Issuance, IssuanceState } from './model.js';
import type { IssuanceStore, PlacementChecks } from './ports.js';

/** What one step of a run ends with: go on with the next step, come back later, or nothing more to do. */
export type StepResult = 'next' | { continueAt: Date };

export interface ProvingTiming {
  /** How long a run waits for dns-01 records at the zone's authoritative servers. */
  propagationTimeoutMs: number;
  /** How long one run polls the CA before the job continues later. */
  pollInRunMs: number;
  /** When to look again when the CA gave no Retry-After. */
  recheckMs: number;
  /** How often a user's placement is checked again. */
  userCheckMs: number;
  /** How long an http-01 token is served at most (it is dropped as soon as the issuance leaves the proving phase). */
  http01TokenTtlMs: number;
  /** TTL of the dns-01 records certplane publishes, seconds. */
  txtTtlSeconds: number;
}

export interface ProvingDeps {
  store: IssuanceStore;
  dns01: DnsProvider | undefined;
  visibility: RecordVisibility;
  placement: PlacementChecks;
  clock: Clock;
  removalJob: RemovalJob;
  timing: ProvingTiming;
}

export class Proving {
  constructor(private readonly deps: ProvingDeps) {}

  /** `ordered`: read the authorizations, put each proof in place (or see the user's), answer, → `validating`. */
  async prove(issuance: Issuance, client: AcmeClient, signal?: AbortSignal): Promise<StepResult> {
    const order = await client.getOrder(issuance.orderUrl!);
    if (order.status === 'invalid') throw orderFailure(order.url, order.error);
    if (order.status !== 'pending') {
      // Every authorization is valid already (reused by the CA, or validated before a restart).
      const cleanup = cleanupOf(issuance, issuance.authorizations, this.deps.removalJob);
      await this.deps.store.advance(issuance.id, 'ordered', 'finalizing', {}, this.deps.clock.now(), cleanup);
      return 'next';
    }
    const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    const challenges = new Map<string, Challenge>();
    // In the order the names were asked for (a CA lists authorizations in any order, not always the same).
    const rank = (p: AuthorizationProgress) => issuance.identifiers.indexOf(p.domain);
    const progress = authzs.map((authz) => this.progressOf(issuance, authz, challenges)).sort((a, b) => rank(a) - rank(b));
    if (!(await this.record(issuance, 'ordered', progress))) return 'next';
    const pending = progress.filter((p) => p.status === 'pending' && !p.answered);
    if (issuance.placement === 'user') {
      const placed = await Promise.all(pending.map((p) => this.placedByUser(p, signal)));
      if (placed.includes(false)) {
        // What was seen is noted, so the user is shown the next proof to place while the others wait.
        const changed = pending.filter((p, i) => (p.seen === true) !== placed[i]);
        pending.forEach((p, i) => (p.seen = placed[i]));
        if (changed.length > 0) await this.record(issuance, 'ordered', progress);
        return { continueAt: this.later(this.deps.timing.userCheckMs) };
      }
      pending.forEach((p) => (p.seen = true));
    } else if (issuance.challengeType === 'dns-01') {
      if (!(await this.publish(issuance, progress, pending, signal))) return 'next';
    } else {
      const expiresAt = this.later(this.deps.timing.http01TokenTtlMs);
      const tokens = pending.map((p) => ({ token: p.token, keyAuthorization: p.keyAuthorization!, domain: p.domain, expiresAt }));
      await this.deps.store.putHttp01Tokens(issuance.id, tokens, this.deps.clock.now());
    }
    // Placing can take a while (visibility, a user): the owner may have withdrawn it meanwhile.
    if (pending.length > 0 && (await this.deps.store.find(issuance.id))?.state !== 'ordered') return 'next';
    await Promise.all(
      pending.map(async (p) => {
        await client.respondToChallenge(challenges.get(p.url)!);
        p.answered = true;
      }),
    );
    await this.deps.store.advance(issuance.id, 'ordered', 'validating', { authorizations: progress }, this.deps.clock.now());
    return 'next';
  }

  /** `validating`: wait (a while) for the CA's verdict on each answered authorization; all valid → `finalizing`, records removed. */
  async awaitValidation(issuance: Issuance, client: AcmeClient): Promise<StepResult> {
    const waiting = issuance.authorizations.filter((p) => p.status === 'pending');
    const read = await Promise.all(waiting.map((p) => client.waitForAuthorization(p.url, { timeoutMs: this.deps.timing.pollInRunMs })));
    const byUrl = new Map(read.map((authz) => [authz.url, authz]));
    const progress = issuance.authorizations.map((p) => {
      const authz = byUrl.get(p.url);
      if (!authz) return p;
      const problem = authz.challenges.find((c) => c.url === p.challengeUrl)?.error;
      return { ...p, status: authz.status, ...(problem ? { error: problemText(problem) } : {}) };
    });
    const failed = read.find((authz) => authz.status !== 'pending' && authz.status !== 'valid');
    if (failed) {
      await this.record(issuance, 'validating', progress);
      throw authorizationFailure(failed, progress.find((p) => p.url === failed.url)!);
    }
    const still = read.filter((authz) => authz.status === 'pending');
    if (still.length > 0) {
      await this.record(issuance, 'validating', progress);
      const wait = Math.min(...still.map((authz) => authz.retryAfterMs ?? this.deps.timing.recheckMs));
      return { continueAt: this.later(wait) };
    }
    const cleanup = cleanupOf(issuance, progress, this.deps.removalJob);
    await this.deps.store.advance(issuance.id, 'validating', 'finalizing', { authorizations: progress }, this.deps.clock.now(), cleanup);
    return 'next';
  }

  private progressOf(issuance: Issuance, authz: Authorization, challenges: Map<string, Challenge>): AuthorizationProgress {
    const domain = authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
    const before = issuance.authorizations.find((p) => p.url === authz.url);
    const challenge = authz.challenges.find((c) => c.type === issuance.challengeType);
    const base = { url: authz.url, domain, status: authz.status, challengeType: issuance.challengeType };
    if (authz.status === 'valid') return { ...base, challengeUrl: challenge?.url ?? '', token: challenge?.token ?? '', ...(before ? { dnsHandle: before.dnsHandle } : {}) };
    if (authz.status !== 'pending') throw authorizationFailure(authz, { ...base, challengeUrl: challenge?.url ?? '', token: '' });
    if (!challenge) {
      const why = authz.wildcard ? ' (a wildcard name is proven over dns-01 only)' : '';
      throw new IssuanceFailed('unsupportedChallenge', `the CA offers no ${issuance.challengeType} challenge for ${domain}${why}`);
    }
    challenges.set(authz.url, challenge);
    return {
      ...base,
      challengeUrl: challenge.url,
      token: challenge.token,
      ...(challenge.type === 'http-01'
        ? { path: challenge.path, keyAuthorization: challenge.keyAuthorization }
        : { recordName: challenge.recordName, txtValue: challenge.txtValue }),
      ...(before?.dnsHandle !== undefined ? { dnsHandle: before.dnsHandle } : {}),
      ...(before?.seen !== undefined ? { seen: before.seen } : {}),
      // Answered before a restart: the CA moved the challenge on.
      answered: before?.answered === true || challenge.status !== 'pending',
    };
  }

  /**
   * Publishes the TXT records not published yet, notes their handles on the issuance (so they are
   * removed whatever happens next), and waits until the zone's authoritative servers serve them.
   * False when the issuance changed meanwhile (the new records are then removed at once).
   */
  private async publish(issuance: Issuance, progress: AuthorizationProgress[], pending: AuthorizationProgress[], signal?: AbortSignal): Promise<boolean> {
    const provider = this.deps.dns01;
    if (!provider) {
      throw new IssuanceFailed('dns01NotConfigured', 'dns-01 needs a DNS provider, and none is configured: set dns01 (rfc2136 or hook)');
    }
    const toCreate = pending.filter((p) => p.dnsHandle === undefined);
    const created = await Promise.allSettled(
      toCreate.map(async (p) => {
        const record = { name: p.recordName!, type: 'TXT' as const, value: p.txtValue!, ttl: this.deps.timing.txtTtlSeconds };
        p.dnsHandle = (await provider.create(record, signal ? { signal } : {})) as DnsRecordHandle;
      }),
    );
    const made = toCreate.filter((p) => p.dnsHandle !== undefined);
    if (made.length > 0 && !(await this.record(issuance, 'ordered', progress))) {
      await this.deps.store.cleanUp(issuance.id, { ...cleanupOf(issuance, made, this.deps.removalJob), dropHttp01Tokens: false }, this.deps.clock.now());
      return false;
    }
    const refused = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
    const deadline = this.later(this.deps.timing.propagationTimeoutMs);
    await Promise.all(pending.map((p) => this.deps.visibility.waitFor(p.recordName!, p.txtValue!, deadline, signal ? { signal } : {})));
    return true;
  }

  private placedByUser(p: AuthorizationProgress, signal?: AbortSignal): Promise<boolean> {
    return p.challengeType === 'dns-01'
      ? this.deps.placement.txtVisible(p.recordName!, p.txtValue!, signal)
      : this.deps.placement.httpServes(p.domain, p.token, p.keyAuthorization!, signal);
  }

  private record(issuance: Issuance, state: IssuanceState, progress: AuthorizationProgress[]): Promise<boolean> {
    return this.deps.store.advance(issuance.id, state, state, { authorizations: progress }, this.deps.clock.now());
  }

  private later(ms: number): Date {
    return new Date(this.deps.clock.now().getTime() + ms);
  }
}

/** An order the CA calls invalid, with its reason when it gave one. */
export function orderFailure(url: string, problem: AcmeProblem | undefined): IssuanceFailed {
  return problem ? failureFromProblem(problem) : new IssuanceFailed('orderInvalid', `the CA says the order ${url} is invalid`);
}

function authorizationFailure(authz: Authorization, progress: AuthorizationProgress): IssuanceFailed {
  const problem = authz.challenges.find((c) => c.url === progress.challengeUrl)?.error ?? authz.challenges.find((c) => c.error)?.error;
  if (problem) return failureFromProblem(problem, progress.domain);
  return new IssuanceFailed(`authorization${authz.status[0]!.toUpperCase()}${authz.status.slice(1)}`, `${progress.domain}: the CA says the authorization is ${authz.status}`);
}

function problemText(problem: AcmeProblem): string {
  return failureFromProblem(problem).message;
}
