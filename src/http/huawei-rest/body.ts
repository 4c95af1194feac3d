import { z } from 'zod';
import { errors } from '../../kernel/errors.js';
import { ALGORITHM_TYPES } from '../../core/certificates/model.js';

/**
 * Certificate name rule of the APIG documentation: 4–50 characters (code points) of Chinese
 * characters, English letters, digits and underscores, starting with a letter or a Chinese character.
 */
const NAME = /^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9_\u4e00-\u9fa5]{3,49}$/u;
const SM2_FIELD_MAX = 8092;

export const certificateForm = z.object({
  name: z.string().regex(NAME),
  cert_content: z.string().min(1),
  private_key: z.string().min(1),
  type: z.enum(['global', 'instance']).optional(),
  instance_id: z.string().max(64).optional(),
  trusted_root_ca: z.string().optional(),
  algorithm_type: z.enum(ALGORITHM_TYPES as [string, ...string[]]).optional(),
  cert_content_sign: z.string().max(SM2_FIELD_MAX).optional(),
  private_key_sign: z.string().max(SM2_FIELD_MAX).optional(),
});
export type CertificateForm = z.infer<typeof certificateForm>;

const domainEntry = z.object({
  domain: z.string().min(1).max(255),
  instance_ids: z.array(z.string().max(64)).max(50).optional(),
  verified_client_certificate_enabled: z.boolean().optional(),
});
/** How many entries a list may hold is `limits.domains`, checked by the core. */
export const domainsForm = z.object({ domains: z.array(domainEntry).min(1) });
export type DomainsForm = z.infer<typeof domainsForm>;

/**
 * Parses a JSON body against a schema, turning the first problem into the catalogue's
 * missing- or invalid-parameter error named after the offending field. JSON nulls count as absent.
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('the request body must be a JSON object');
  }
  const cleaned = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  const top = String(issue.path[0] ?? '');
  if (top && !(top in cleaned)) throw errors.missingParameter(field);
  throw errors.invalidParameter(field, describe(issue));
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_format') return 'does not follow the documented format';
  return issue.message;
}

/** Paging as APIG normalises it: offset < 0 → 0; limit ≤ 0 → 20; limit > 500 → 500. */
export function paging(query: Record<string, unknown>): { offset: number; limit: number } {
  const offset = integerParam(query, 'offset') ?? 0;
  const limit = integerParam(query, 'limit') ?? 20;
  return { offset: Math.max(0, offset), limit: limit <= 0 ? 20 : Math.min(limit, 500) };
}

function integerParam(query: Record<string, unknown>, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) throw errors.invalidParameter(name, 'must be an integer');
  return Number(value);
}

export function stringParam(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw errors.invalidParameter(name, 'must be given once');
  return value;
}
