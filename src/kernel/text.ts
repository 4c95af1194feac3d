/**
 * U+0000 has no place in any parameter certplane takes (names, ids, PEM, JSON), and PostgreSQL
 * refuses it in text ("invalid byte sequence for encoding UTF8: 0x00"), where SQLite would store
 * it. Both dialects refuse it up front with the parameter's name, so both engines answer alike.
 */
export const NUL_REFUSAL = 'must not contain a NUL character (U+0000)';

/**
 * The path of the first string holding U+0000 within `value` (strings, arrays and plain objects,
 * keys included), e.g. `domains.0.domain`; `name` is the path of `value` itself. Undefined when
 * there is none.
 */
export function nulPath(value: unknown, name: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? name : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${name}.${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const path = name === '' ? key : `${name}.${key}`;
      if (key.includes('\u0000')) return path;
      const found = nulPath(item, path);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
