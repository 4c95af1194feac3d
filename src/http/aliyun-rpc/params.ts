import { errors } from '../../kernel/errors.js';
import { NUL_REFUSAL, nulPath } from '../../kernel/text.js';

const LONG = /^\d{1,15}$/;
/** Long enough for a PEM chain with its key. */
const DEFAULT_MAX_LENGTH = 65_536;

/**
 * Typed reads of RPC parameters. Everything arrives as a string and the SDKs validate nothing,
 * so each read states what it expects and names the parameter when it is missing or wrong.
 * Names given here are the wire names; errors carry them in the core's camelCase.
 */
export class RpcParams {
  constructor(private readonly values: Map<string, string>) {}

  has(name: string): boolean {
    return this.values.has(name) && this.values.get(name) !== '';
  }

  string(name: string, opts: { max?: number } = {}): string | undefined {
    const value = this.values.get(name);
    if (value === undefined || value === '') return undefined;
    const max = opts.max ?? DEFAULT_MAX_LENGTH;
    if (value.length > max) throw errors.invalidParameter(core(name), `is longer than ${max} characters`);
    if (value.includes('\u0000')) throw errors.invalidParameter(core(name), NUL_REFUSAL);
    return value;
  }

  requiredString(name: string, opts: { max?: number } = {}): string {
    const value = this.string(name, opts);
    if (value === undefined) throw errors.missingParameter(core(name));
    return value;
  }

  /** A `long` id: decimal digits only, within the range JSON clients keep exact. */
  requiredLong(name: string): string {
    const value = this.requiredString(name);
    if (!LONG.test(value)) throw errors.invalidParameter(core(name), 'must be a positive integer of at most 15 digits');
    return String(Number(value));
  }

  integer(name: string, opts: { min: number; max: number; fallback: number }): number {
    const value = this.string(name);
    if (value === undefined) return opts.fallback;
    if (!/^-?\d{1,9}$/.test(value)) throw errors.invalidParameter(core(name), 'must be an integer');
    const n = Number(value);
    if (n < opts.min || n > opts.max) throw errors.invalidParameter(core(name), `must be between ${opts.min} and ${opts.max}`);
    return n;
  }

  enumOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw errors.invalidParameter(core(name), `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  requiredEnum<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.enumOf(name, allowed);
    if (value === undefined) throw errors.missingParameter(core(name));
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw errors.invalidParameter(core(name), 'must be true or false');
  }

  /** A parameter the SDK sends as one JSON string ("shrink" parameters such as TagFilter). */
  json(name: string): unknown {
    const value = this.string(name, { max: 4 * DEFAULT_MAX_LENGTH });
    if (value === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      throw errors.invalidParameter(core(name), 'must be JSON');
    }
    // Escaped in the JSON text ("\u0000"), so the raw check above does not see it.
    if (nulPath(parsed, '') !== undefined) throw errors.invalidParameter(core(name), NUL_REFUSAL);
    return parsed;
  }
}

function core(wireName: string): string {
  return wireName.charAt(0).toLowerCase() + wireName.slice(1);
}
