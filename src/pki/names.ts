/**
 * X.501 Names: decoding attribute strings (UTF8String, BMPString, ...),
 * the structured NameAttributes view, the RFC 4514 one-line text, and the
 * RFC 5280 §7.1 comparison used to check that a chain links up.
 */
import { DerReader, TAG, type Tlv } from './der.js';
import { ATTRIBUTE_NAMES } from './oids.js';
import type { NameAttributes } from './types.js';

export interface NameAttribute {
  oid: string;
  /** ASN.1 string tag of the value, or another tag for non-string values. */
  tag: number;
  value: string;
  /** Index of the RDN this attribute belongs to (multi-valued RDNs share one). */
  rdn: number;
}

export interface ParsedName {
  /** DER of the whole Name, for the byte-equality fast path. */
  der: Buffer;
  attributes: NameAttribute[];
}

const FIELD_BY_OID: Readonly<Record<string, keyof NameAttributes>> = {
  '2.5.4.3': 'commonName',
  '2.5.4.10': 'organization',
  '2.5.4.11': 'organizationalUnit',
  '2.5.4.7': 'locality',
  '2.5.4.8': 'state',
  '2.5.4.6': 'country',
};


export function readName(r: DerReader): ParsedName {
  const seq = r.expect(TAG.SEQUENCE, 'Name');
  const attributes: NameAttribute[] = [];
  const rdns = r.inside(seq);
  for (let rdn = 0; !rdns.done; rdn++) {
    const set = rdns.enter(TAG.SET, 'RelativeDistinguishedName');
    if (set.done) set.fail('empty RelativeDistinguishedName');
    while (!set.done) {
      const atv = set.enter(TAG.SEQUENCE, 'AttributeTypeAndValue');
      const oid = atv.oid();
      const v = atv.next();
      atv.finish('AttributeTypeAndValue');
      const value = decodeString(atv, v);
      // The null-prefix trick ("www.bank.example\0.evil.example"): no real name holds U+0000.
      if (value.includes('\u0000')) atv.fail(`the name's ${ATTRIBUTE_NAMES.get(oid) ?? oid} holds a NUL character (U+0000)`);
      attributes.push({ oid, tag: v.tag, value, rdn });
    }
  }
  return { der: r.raw(seq), attributes };
}

/** Decode a directory string; non-string values are shown as '#hex' like RFC 4514 does. */
export function decodeString(r: DerReader, t: Tlv): string {
  const { buf } = r;
  // Offsets instead of subarray(): Buffer views are comparatively costly to create.
  switch (t.tag) {
    case TAG.UTF8_STRING: // invalid sequences become U+FFFD: this is display data
      return buf.toString('utf8', t.valueStart, t.end);
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.VISIBLE_STRING:
    case TAG.T61_STRING: // OpenSSL and browsers treat T61 as Latin-1 in practice
      return buf.toString('latin1', t.valueStart, t.end);
    case TAG.BMP_STRING:
      return decodeWide(r, t, 2);
    case TAG.UNIVERSAL_STRING:
      return decodeWide(r, t, 4);
    default:
      return '#' + r.raw(t).toString('hex');
  }
}

/** BMPString (UCS-2/UTF-16BE) or UniversalString (UTF-32BE). */
function decodeWide(r: DerReader, t: Tlv, width: 2 | 4): string {
  const { buf } = r;
  if ((t.end - t.valueStart) % width !== 0) r.fail('malformed wide string');
  let out = '';
  for (let i = t.valueStart; i < t.end; i += width) {
    const cp = width === 2 ? buf.readUInt16BE(i) : buf.readUInt32BE(i);
    if (cp > 0x10ffff) r.fail('malformed UniversalString');
    // BMPString surrogate pairs concatenate into the right UTF-16 string as-is.
    out += width === 2 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return out;
}

export function nameAttributes(name: ParsedName): NameAttributes {
  const out: NameAttributes = {
    commonName: [],
    organization: [],
    organizationalUnit: [],
    locality: [],
    state: [],
    country: [],
  };
  for (const a of name.attributes) {
    const field = FIELD_BY_OID[a.oid];
    if (field) out[field].push(a.value);
  }
  return out;
}

/** RFC 4514 string: RDNs in reverse order, '+' inside multi-valued RDNs. */
export function nameToText(name: ParsedName): string {
  const rdns: string[][] = [];
  for (const a of name.attributes) {
    const key = ATTRIBUTE_NAMES.get(a.oid) ?? a.oid;
    const value = a.value.startsWith('#') && isHexForm(a) ? a.value : escapeValue(a.value);
    (rdns[a.rdn] ??= []).push(`${key}=${value}`);
  }
  return rdns
    .reverse()
    .map((parts) => parts.join('+'))
    .join(',');
}

function isHexForm(a: NameAttribute): boolean {
  return !STRING_TAGS.has(a.tag);
}

const STRING_TAGS: ReadonlySet<number> = new Set([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.IA5_STRING,
  TAG.NUMERIC_STRING,
  TAG.VISIBLE_STRING,
  TAG.T61_STRING,
  TAG.BMP_STRING,
  TAG.UNIVERSAL_STRING,
]);

const NEEDS_ESCAPE = /[\\",+;<>\x00-\x1f\x7f]|^[#\s]|\s$/;

function escapeValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = value.replace(/[\\",+;<>]/g, (c) => '\\' + c);
  out = out.replace(/[\x00-\x1f\x7f]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase());
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  // Escapes above never end in a bare space, so a trailing space is always the value's own.
  if (out.endsWith(' ')) out = out.slice(0, -1) + '\\ ';
  return out;
}

/**
 * RFC 5280 §7.1 name matching, as OpenSSL does it: byte equality first (the
 * common case), then a canonical form that ignores string type, ASCII case,
 * and leading/trailing/repeated whitespace, with RDN members sorted.
 */
export function namesMatch(a: ParsedName, b: ParsedName): boolean {
  if (a.der.equals(b.der)) return true;
  return canonicalName(a) === canonicalName(b);
}

function canonicalName(name: ParsedName): string {
  const rdns: string[][] = [];
  for (const a of name.attributes) {
    const value = STRING_TAGS.has(a.tag) ? canonicalValue(a.value) : a.value;
    (rdns[a.rdn] ??= []).push(`${a.oid}=${JSON.stringify(value)}`);
  }
  return rdns.map((parts) => parts.sort().join('+')).join(',');
}

function canonicalValue(value: string): string {
  return value
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}
