import { nameServerKey } from './model.js';

/**
 * The pairs of a nameserver pool that no site of one name holds yet. Each NS-mode site gets its own
 * pair, so that the delegation of a name points at exactly one site: whoever controls the name's
 * delegation decides which site verifies, and no other account can ride on it.
 */
export function freePairs(pool: readonly string[], held: ReadonlyArray<readonly string[]>): string[][] {
  const taken = new Set(held.map((servers) => nameServerKey(servers)));
  const names = [...new Set(pool)].sort();
  const free: string[][] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const pair = [names[i]!, names[j]!];
      if (!taken.has(nameServerKey(pair))) free.push(pair);
    }
  }
  return free;
}

/** How many sites of one name a pool of `size` names can serve at once: C(size, 2). */
export function pairCount(size: number): number {
  return (size * (size - 1)) / 2;
}
