/**
 * IAM-style policy documents in Alibaba Cloud RAM's spelling:
 * `{"Version":"1","Statement":[{"Effect":"Allow","Action":"esa:Get*","Resource":"acs:esa:*:123:site/*"}]}`.
 * The same documents govern the APIG routes, with Huawei's action names and resources
 * (`"Action":"apig:certificate:get","Resource":"apig:*:*:certificate:*"`).
 *
 * Deliberate strictness, so that a document never grants more than its author can see:
 * - Effect is exactly `Allow` or `Deny`, as RAM spells it; `allow` is refused rather than guessed at.
 * - Condition, NotAction, NotResource and Principal are refused: certplane does not evaluate them, and
 *   silently ignoring a Condition would turn a narrow Allow into a broad one.
 */
import { z } from 'zod';
import { AppError } from '../../kernel/errors.js';
import { limitSetting } from '../../kernel/limits.js';

export type Effect = 'Allow' | 'Deny';

/** Action and Resource are always lists once parsed, whichever form the author wrote. */
export interface PolicyStatement {
  readonly Effect: Effect;
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface PolicyDocument {
  readonly Version: '1';
  readonly Statement: readonly PolicyStatement[];
}

/** RAM's limit on a policy document's length, the default of `limits.policyDocumentCharacters`. */
export const MAX_POLICY_LENGTH = 6144;

/**
 * `*`; RAM's `service:Operation` (`esa:GetSite`, `yundun-cert:Create*`); or Huawei IAM's
 * `service:resource-type:operation` (`apig:certificate:get`, `apig:certificate:*`). Any part may
 * hold `*` and `?`.
 */
const ACTION_PATTERN = /^(?:\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+(?::[A-Za-z0-9*?]+)?)$/;
/**
 * `*`; an ARN pattern `acs:service:region:account:relative-id`; or the APIG form
 * `apig:region:project:type:id` (`apig:*:*:certificate:*`); without control characters.
 */
const RESOURCE_PATTERN = /^(?:\*|acs:[^:]*:[^:]*:[^:]*:.+|apig:[^:]*:[^:]*:[^:]+:.+)$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

function patternList(name: string, pattern: RegExp, example: string) {
  const item = z
    .string({ error: `each ${name} must be a string` })
    .refine((v) => pattern.test(v) && !CONTROL.test(v), { error: `is not a valid ${name} pattern (like ${example})` });
  const list = z.array(item, {
    error: (iss) => (iss.input === undefined ? 'is required' : `must be a ${name} pattern or a list of them`),
  });
  // A single string is shorthand for a one-element list.
  return z.preprocess((v) => (typeof v === 'string' ? [v] : v), list.min(1, { error: 'must not be empty' }));
}

/** Error text for an object's own problems: not an object at all, or fields we do not evaluate. */
function objectError(shape: string) {
  return (iss: { code?: string; keys?: string[] }): string | undefined => {
    if (iss.code === 'invalid_type') return `must be a JSON object with ${shape}`;
    if (iss.code !== 'unrecognized_keys') return undefined;
    return `unsupported field ${(iss.keys ?? []).join(', ')}; only ${shape} are evaluated`;
  };
}

const statementSchema = z.strictObject(
  {
    Effect: z.enum(['Allow', 'Deny'], {
      error: (iss) => (iss.input === undefined ? 'is required' : 'must be exactly "Allow" or "Deny" (case-sensitive)'),
    }),
    Action: patternList('Action', ACTION_PATTERN, 'esa:GetSite, esa:*, yundun-cert:Create*, apig:certificate:get or *'),
    Resource: patternList('Resource', RESOURCE_PATTERN, 'acs:esa:*:1234567890:site/*, apig:*:*:certificate:* or *'),
  },
  { error: objectError('Effect, Action and Resource') },
);

export const policyDocumentSchema = z.strictObject(
  {
    Version: z.literal('1', { error: 'must be the string "1"' }),
    Statement: z
      .array(statementSchema, { error: 'must be a list of statements' })
      .min(1, { error: 'must hold at least one statement' }),
  },
  { error: objectError('Version and Statement') },
);

export interface PolicyIssue {
  /** Where the problem is, like `Statement[0].Effect`; `(document)` for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** Lists every problem at once, so an author can fix a document in one round. */
export class InvalidPolicyError extends AppError {
  constructor(readonly issues: readonly PolicyIssue[]) {
    const list = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    super('request.invalid_parameter', `invalid policy document: ${list}`, { parameter: 'PolicyDocument' });
  }
}

/** Accepts the JSON text of a document, or an already parsed value; the length is checked before parsing. */
export function parsePolicyDocument(input: unknown, maxLength = MAX_POLICY_LENGTH): PolicyDocument {
  const text = typeof input === 'string' ? input : JSON.stringify(input ?? null);
  if (text.length > maxLength) tooLong(text.length, maxLength);
  const value = typeof input === 'string' ? parseJson(input) : input;
  const result = policyDocumentSchema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidPolicyError(
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidPolicyError([{ path: '(document)', message: `is not valid JSON (${(err as Error).message})` }]);
  }
}

function tooLong(length: number, maxLength: number): never {
  const message = `is ${length} characters long, more than the ${maxLength} accepted (${limitSetting('policyDocumentCharacters')})`;
  throw new InvalidPolicyError([{ path: '(document)', message }]);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`)).join('');
}
