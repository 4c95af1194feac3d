/**
 * Wildcard patterns of RAM policies: `*` is any run of characters (none included), `?` exactly one
 * character, everything else literal. Deliberately not translated to a RegExp: `*a*a*a*b` would
 * backtrack polynomially in V8, and policy text is user input evaluated on every request. Matching
 * here places each literal segment at its leftmost fit, which is O(pattern × value) at worst.
 */

/** One code point per element; `null` stands for `?`. */
type Segment = readonly (string | null)[];

export interface Wildcard {
  /** Text before the first `*`, or the whole pattern when there is none. */
  readonly head: Segment;
  /** Segments between stars, in order; empty ones (from `**`) dropped. */
  readonly middle: readonly Segment[];
  /** Text after the last `*`; undefined when the pattern has no star. */
  readonly tail: Segment | undefined;
}

export function compileWildcard(pattern: string): Wildcard {
  const parts = pattern.split('*').map((part): Segment => [...part].map((c) => (c === '?' ? null : c)));
  if (parts.length === 1) return { head: parts[0] ?? [], middle: [], tail: undefined };
  return {
    head: parts[0] ?? [],
    middle: parts.slice(1, -1).filter((segment) => segment.length > 0),
    tail: parts[parts.length - 1] ?? [],
  };
}

/** `value` is split into code points by the caller, once per evaluation rather than once per pattern. */
export function matchWildcard(wildcard: Wildcard, value: readonly string[]): boolean {
  const { head, middle, tail } = wildcard;
  if (tail === undefined) return value.length === head.length && fitsAt(head, value, 0);
  const end = value.length - tail.length;
  if (end < head.length || !fitsAt(head, value, 0) || !fitsAt(tail, value, end)) return false;
  let position = head.length;
  for (const segment of middle) {
    const at = leftmostFit(segment, value, position, end);
    if (at < 0) return false;
    position = at + segment.length;
  }
  return true;
}

function fitsAt(segment: Segment, value: readonly string[], at: number): boolean {
  if (at + segment.length > value.length) return false;
  return segment.every((c, i) => c === null || c === value[at + i]);
}

function leftmostFit(segment: Segment, value: readonly string[], from: number, end: number): number {
  for (let at = from; at + segment.length <= end; at++) if (fitsAt(segment, value, at)) return at;
  return -1;
}
