import { sql, type Expression, type SqlBool } from 'kysely';

export type LikeMatch = 'prefix' | 'suffix' | 'exact' | 'fuzzy';

/** Name of the case fold for text beyond ASCII: a JavaScript function on each SQLite connection, `lower()` on PostgreSQL (migration 023). */
export const FOLD_FUNCTION = 'certplane_fold';

const ASCII = /^[\x00-\x7f]*$/;

/** The fold SQLite connections register as FOLD_FUNCTION: Unicode lower case, as PostgreSQL's lower() with a UTF-8 ctype. */
export function fold(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

/**
 * Case-insensitive match of a column against user text that behaves the same on SQLite and
 * PostgreSQL; the user's own `%` and `_` are taken literally.
 *
 * ASCII text goes through the engines' own `lower()`, which agree on it (and which PostgreSQL's
 * trigram indexes cover). SQLite's `lower()` folds ASCII letters only, so text with any other
 * character goes through FOLD_FUNCTION on both sides, column and pattern: `ÄRZTE` finds `Ärzte` and
 * `ärzte` on either engine.
 */
export function likeMatch(column: string, text: string, match: LikeMatch = 'fuzzy'): Expression<SqlBool> {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  const pattern =
    match === 'exact' ? escaped : match === 'prefix' ? `${escaped}%` : match === 'suffix' ? `%${escaped}` : `%${escaped}%`;
  if (ASCII.test(text)) return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern.toLowerCase()} escape '\\'`;
  const foldFn = sql.raw(FOLD_FUNCTION);
  return sql<SqlBool>`${foldFn}(${sql.ref(column)}) like ${foldFn}(${pattern}) escape '\\'`;
}
