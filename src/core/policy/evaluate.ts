/**
 * Decides whether policies let a caller perform an action on a resource, the way RAM does:
 * nothing is allowed unless a statement allows it, and an explicit Deny anywhere beats every Allow.
 * Runs on every request, so patterns are compiled once and cached by their text.
 */
import type { Effect, PolicyDocument, PolicyStatement } from './policy.js';
import { compileWildcard, matchWildcard, type Wildcard } from './wildcard.js';

export type Decision = 'allow' | 'deny' | 'implicit_deny';

export interface MatchedStatement {
  /** Position of the document in the list given to evaluate, and of the statement in it. */
  readonly documentIndex: number;
  readonly statementIndex: number;
  readonly effect: Effect;
  readonly statement: PolicyStatement;
}

export interface Evaluation {
  readonly decision: Decision;
  /** The deciding statement: the first matching Deny, else the first matching Allow; absent for implicit_deny. */
  readonly matched?: MatchedStatement;
}

export function evaluate(documents: readonly PolicyDocument[], action: string, resource: string): Evaluation {
  const actionChars = actionPatterns.prepare(action);
  const resourceChars = resourcePatterns.prepare(resource);
  let allowed: MatchedStatement | undefined;
  for (const [documentIndex, document] of documents.entries()) {
    for (const [statementIndex, statement] of document.Statement.entries()) {
      const applies =
        statement.Action.some((pattern) => actionPatterns.matches(pattern, actionChars)) &&
        statement.Resource.some((pattern) => resourcePatterns.matches(pattern, resourceChars));
      if (!applies) continue;
      const matched = { documentIndex, statementIndex, effect: statement.Effect, statement };
      if (statement.Effect === 'Deny') return { decision: 'deny', matched };
      allowed ??= matched;
    }
  }
  return allowed ? { decision: 'allow', matched: allowed } : { decision: 'implicit_deny' };
}

/**
 * Compiled patterns of one kind. The cache is bounded because stored policies can change without end
 * over a process's life; dropping it all at the limit is crude but keeps the hot path one Map lookup.
 */
class PatternCache {
  private readonly compiled = new Map<string, Wildcard>();

  constructor(
    private readonly caseInsensitive: boolean,
    private readonly limit = 10_000,
  ) {}

  /** Splits a value into code points, folded to lower case when the kind ignores case. */
  prepare(value: string): readonly string[] {
    return [...(this.caseInsensitive ? value.toLowerCase() : value)];
  }

  matches(pattern: string, value: readonly string[]): boolean {
    if (pattern === '*') return true;
    let wildcard = this.compiled.get(pattern);
    if (wildcard === undefined) {
      if (this.compiled.size >= this.limit) this.compiled.clear();
      wildcard = compileWildcard(this.caseInsensitive ? pattern.toLowerCase() : pattern);
      this.compiled.set(pattern, wildcard);
    }
    return matchWildcard(wildcard, value);
  }
}

/** RAM compares action names case-insensitively and resource names exactly. */
const actionPatterns = new PatternCache(true);
const resourcePatterns = new PatternCache(false);
