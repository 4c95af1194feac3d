import { sql, type Expression, type SqlBool } from 'kysely';
import { expiryRanges, type ExpiryFilter } from '../../core/certificates/expiry.js';

/**
 * A certificate's expiry status as a condition on its notAfter column (ISO-8601 text, which sorts
 * as time on both engines), so an index on the column serves the filter.
 */
export function notAfterMatches(column: string, filter: ExpiryFilter): Expression<SqlBool> {
  const ref = sql.ref(column);
  const parts = expiryRanges(filter).map((range) => {
    const bounds = [
      ...(range.after ? [sql<SqlBool>`${ref} > ${range.after.toISOString()}`] : []),
      ...(range.until ? [sql<SqlBool>`${ref} <= ${range.until.toISOString()}`] : []),
    ];
    return bounds.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`(${sql.join(bounds, sql` and `)})`;
  });
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}
