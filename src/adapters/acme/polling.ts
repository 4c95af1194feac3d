/**
 * Waiting for a CA: read, and while the object is still pending wait as long as the CA's Retry-After
 * says (within [minDelayMs, maxDelayMs]), or, when it says nothing, minDelayMs doubling up to
 * maxDelayMs. acme-client waits 5 s, 10 s, 20 s… whatever the CA says; pebble validates in
 * milliseconds, and a CA that knows better says so in Retry-After.
 */
import type { PollOptions } from '../../core/acme/ports.js';

export type PollPolicy = Required<PollOptions>;

export const DEFAULT_POLL_POLICY: PollPolicy = { minDelayMs: 50, maxDelayMs: 10_000, timeoutMs: 120_000 };

/** The passing of time while polling: a port, so tests can see every wait without waiting. */
export interface PollTimer {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: PollTimer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function pollPolicy(base: PollPolicy, options: PollOptions = {}): PollPolicy {
  const policy = { ...base, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!(policy.minDelayMs >= 0) || !(policy.maxDelayMs >= policy.minDelayMs) || !(policy.timeoutMs >= 0)) {
    throw new RangeError('poll options need 0 ≤ minDelayMs ≤ maxDelayMs and timeoutMs ≥ 0');
  }
  return policy;
}

/** The wait before read number `attempt + 1`, given what the last read said. */
export function nextDelay(policy: PollPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const wanted = retryAfterMs ?? policy.minDelayMs * 2 ** attempt;
  return Math.min(policy.maxDelayMs, Math.max(policy.minDelayMs, wanted));
}

/**
 * Reads until `settled` holds, or until the next wait would end past `timeoutMs` from the start;
 * either way the last object read is returned.
 */
export async function poll<T extends { retryAfterMs?: number | undefined }>(
  read: () => Promise<T>,
  settled: (item: T) => boolean,
  policy: PollPolicy,
  timer: PollTimer,
): Promise<T> {
  const started = timer.now();
  for (let attempt = 0; ; attempt++) {
    const item = await read();
    if (settled(item)) return item;
    const delay = nextDelay(policy, attempt, item.retryAfterMs);
    if (timer.now() - started + delay > policy.timeoutMs) return item;
    await timer.sleep(delay);
  }
}
