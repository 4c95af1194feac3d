/**
 * Encoding an X.501 Name from the same NameAttributes shape names.ts reads,
 * so a subject read from a CSR or a config can be written back. One attribute
 * per RDN, in the conventional most-significant-first order C, ST, L, O, OU, CN.
 */
import { derOid, derPrintableString, derSequence, derSetOf, derUtf8String } from './der-writer.js';
import { PkiError } from './errors.js';
import type { NameAttributes } from './types.js';

/** Any subset of the attributes; each field one value or several. */
export type NameInput = { [K in keyof NameAttributes]?: string | readonly string[] };

interface FieldRule {
  field: keyof NameAttributes;
  oid: string;
  /** RFC 5280 Appendix A upper bound, in characters. */
  max: number;
}

const ORDER: readonly FieldRule[] = [
  { field: 'country', oid: '2.5.4.6', max: 2 },
  { field: 'state', oid: '2.5.4.8', max: 128 },
  { field: 'locality', oid: '2.5.4.7', max: 128 },
  { field: 'organization', oid: '2.5.4.10', max: 64 },
  { field: 'organizationalUnit', oid: '2.5.4.11', max: 64 },
  { field: 'commonName', oid: '2.5.4.3', max: 64 },
];

/** DER of the Name. Throws build.invalid for empty or over-long values; an empty Name is allowed here, refused by the certificate builder. */
export function encodeName(input: NameInput): Buffer {
  const rdns: Buffer[] = [];
  for (const { field, oid, max } of ORDER) {
    const raw = input[field];
    const values = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
    for (const value of values) {
      const length = [...value].length;
      if (length === 0 || length > max) {
        throw new PkiError('build.invalid', `name attribute ${field} must be 1 to ${max} characters, got ${length}`);
      }
      // RFC 5280: countryName is a PrintableString of two letters; everything else UTF8String.
      if (field === 'country' && !/^[A-Z]{2}$/.test(value)) throw new PkiError('build.invalid', `country "${value}" is not a two-letter ISO 3166 code`);
      const string = field === 'country' ? derPrintableString(value) : derUtf8String(value);
      rdns.push(derSetOf([derSequence([derOid(oid), string])]));
    }
  }
  return derSequence(rdns);
}
