/**
 * A small, strict DER reader. It exists because node:crypto does not expose
 * several certificate fields and pure-JS ASN.1 schema parsing is several times
 * slower than node's own X509Certificate parse (see the report in index.ts).
 *
 * Every read is bounded by the enclosing element: a length can never point past
 * its parent, and malformed input raises PkiError with the failure code the
 * caller chose (certificate.invalid or key.invalid), never a RangeError.
 */
import { PkiError, type PkiFailure } from './errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n]: constructed (EXPLICIT / structured IMPLICIT) or primitive. */
export const ctx = (n: number, constructed: boolean): number => (constructed ? 0xa0 : 0x80) | n;

/** One element: `tag` is the identifier octet; [valueStart, end) is the content. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

export class DerReader {
  private pos: number;

  constructor(
    readonly buf: Buffer,
    readonly failure: PkiFailure,
    start = 0,
    private readonly limit = buf.length,
  ) {
    this.pos = start;
  }

  fail(message: string): never {
    throw new PkiError(this.failure, message);
  }

  get done(): boolean {
    return this.pos >= this.limit;
  }

  peekTag(): number | undefined {
    return this.pos < this.limit ? this.buf[this.pos] : undefined;
  }

  next(): Tlv {
    const { buf, limit } = this;
    const start = this.pos;
    if (start + 2 > limit) this.fail('truncated DER element');
    const tag = buf[start]!;
    // High-tag-number form never occurs in the structures we read.
    if ((tag & 0x1f) === 0x1f) this.fail('unsupported DER tag form');
    let len = buf[start + 1]!;
    let valueStart = start + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      // DER forbids indefinite length (n = 0); 4 bytes already exceed any input we accept.
      if (n === 0 || n > 4) this.fail('unsupported DER length');
      if (valueStart + n > limit) this.fail('truncated DER length');
      if (buf[valueStart] === 0) this.fail('non-minimal DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[valueStart + i]!;
      if (len < 0x80) this.fail('non-minimal DER length');
      valueStart += n;
    }
    const end = valueStart + len;
    if (end > limit) this.fail('DER length runs past its container');
    this.pos = end;
    return { tag, start, valueStart, end };
  }

  expect(tag: number, what: string): Tlv {
    if (this.peekTag() !== tag) this.fail(`expected ${what}`);
    return this.next();
  }

  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** Reader over the content of a constructed element. */
  inside(tlv: Tlv): DerReader {
    return new DerReader(this.buf, this.failure, tlv.valueStart, tlv.end);
  }

  /** Enter a SEQUENCE (or other tag) directly. */
  enter(tag: number, what: string): DerReader {
    return this.inside(this.expect(tag, what));
  }

  finish(what: string): void {
    if (this.pos !== this.limit) this.fail(`unexpected trailing data in ${what}`);
  }

  value(tlv: Tlv): Buffer {
    return this.buf.subarray(tlv.valueStart, tlv.end);
  }

  raw(tlv: Tlv): Buffer {
    return this.buf.subarray(tlv.start, tlv.end);
  }

  oid(tlv?: Tlv): string {
    const t = tlv ?? this.expect(TAG.OID, 'OBJECT IDENTIFIER');
    return decodeOid(this, t);
  }

  /** INTEGER content, checked for minimal two's-complement encoding. */
  integer(tlv?: Tlv): Buffer {
    const t = tlv ?? this.expect(TAG.INTEGER, 'INTEGER');
    const v = this.value(t);
    if (v.length === 0) this.fail('empty INTEGER');
    if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
      this.fail('non-minimal INTEGER');
    }
    return v;
  }

  /** A non-negative INTEGER as its magnitude bytes (no sign octet). */
  unsigned(tlv?: Tlv): Buffer {
    const v = this.integer(tlv);
    if (v[0]! >= 0x80) this.fail('negative INTEGER where a positive one is required');
    return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
  }

  /** Small non-negative INTEGER (versions, path lengths). */
  smallInt(tlv?: Tlv): number {
    const v = this.unsigned(tlv);
    if (v.length > 4) this.fail('INTEGER too large');
    let n = 0;
    for (const b of v) n = n * 256 + b;
    return n;
  }

  /** BIT STRING content without the unused-bits octet; `unused` is returned too. */
  bitString(tlv?: Tlv): { bytes: Buffer; unused: number } {
    const t = tlv ?? this.expect(TAG.BIT_STRING, 'BIT STRING');
    const v = this.value(t);
    if (v.length === 0) this.fail('empty BIT STRING');
    const unused = v[0]!;
    if (unused > 7 || (unused > 0 && v.length === 1)) this.fail('malformed BIT STRING');
    return { bytes: v.subarray(1), unused };
  }

  boolean(tlv: Tlv): boolean {
    const v = this.value(tlv);
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) this.fail('malformed BOOLEAN');
    return v[0] === 0xff;
  }
}

/**
 * Certificates repeat a few dozen OIDs, and decoding showed up in profiles, so
 * decoded OIDs are memoised by their content bytes. Bounded so hostile input
 * cannot grow it without limit.
 */
const oidCache = new Map<string, string>();
const OID_CACHE_MAX = 512;

function decodeOid(r: DerReader, t: Tlv): string {
  const { buf } = r;
  if (t.end === t.valueStart) r.fail('empty OBJECT IDENTIFIER');
  if (t.end - t.valueStart > 32) return decodeOidArcs(r, t);
  let key = '';
  for (let i = t.valueStart; i < t.end; i++) key += String.fromCharCode(buf[i]!);
  let oid = oidCache.get(key);
  if (oid === undefined) {
    oid = decodeOidArcs(r, t);
    if (oidCache.size >= OID_CACHE_MAX) oidCache.clear();
    oidCache.set(key, oid);
  }
  return oid;
}

function decodeOidArcs(r: DerReader, t: Tlv): string {
  const { buf } = r;
  const parts: number[] = [];
  let acc = 0;
  let fresh = true;
  for (let i = t.valueStart; i < t.end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) r.fail('non-minimal OBJECT IDENTIFIER');
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) r.fail('OBJECT IDENTIFIER arc too large');
    fresh = (b & 0x80) === 0;
    if (fresh) {
      parts.push(acc);
      acc = 0;
    }
  }
  if (!fresh) r.fail('truncated OBJECT IDENTIFIER');
  const first = parts[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}

/** Magnitude bytes as lower-case hex without leading zeros ('0' for zero). */
export function hexOfMagnitude(bytes: Buffer): string {
  const hex = bytes.toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/** Number of significant bits of an unsigned magnitude. */
export function bitLength(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/** Compare two unsigned magnitudes ignoring leading zero octets. */
export function sameMagnitude(a: Buffer, b: Buffer): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && a[i] === 0) i++;
  while (j < b.length && b[j] === 0) j++;
  return a.length - i === b.length - j && a.subarray(i).equals(b.subarray(j));
}

export function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytes.toString('hex'));
}
