import { sql, type Expression, type SqlBool } from 'kysely';

export type LikeMatch = 'prefix' | 'suffix' | 'exact' | 'fuzzy';

/**
 * Case-insensitive match of a column against user text that behaves the same on SQLite and
 * PostgreSQL; the user's own `%` and `_` are taken literally.
 */
export function likeMatch(column: string, text: string, match: LikeMatch = 'fuzzy'): Expression<SqlBool> {
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  const pattern =
    match === 'exact' ? escaped : match === 'prefix' ? `${escaped}%` : match === 'suffix' ? `%${escaped}` : `%${escaped}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}
