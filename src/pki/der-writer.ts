/**
 * A minimal DER encoder: each function returns the complete TLV as a Buffer,
 * and structures are built by concatenation. No schema machinery, because the
 * certificate hot path spends its budget on the signature, not on ASN.1
 * (NOTES: a schema library costs ≈ 3 ms a certificate, a template ≈ 0.1 ms).
 *
 * Only what DER needs for the structures we write: definite minimal lengths,
 * minimal INTEGERs with the right sign octet, SET OF sorted, RFC 5280 times,
 * BIT STRINGs for named bits with trailing zero bits removed.
 */
import { PkiError } from './errors.js';
import { TAG } from './der.js';

function fail(message: string): never {
  throw new PkiError('build.invalid', message);
}

/** Length octets: short form below 128, else the minimal long form. */
export function derLength(len: number): Buffer {
  if (!Number.isSafeInteger(len) || len < 0) fail(`invalid DER length ${len}`);
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element whose content is the concatenation of `parts`, copied once into a single buffer. */
export function derConstructed(tag: number, parts: readonly Buffer[]): Buffer {
  let total = 0;
  for (const p of parts) total += p.length;
  const head = headerSize(total);
  const out = Buffer.allocUnsafe(1 + head + total);
  out[0] = tag;
  let pos = writeLength(out, 1, total, head);
  for (const p of parts) pos += p.copy(out, pos);
  return out;
}

/** One element with `content` as its value. */
export function derTlv(tag: number, content: Buffer): Buffer {
  const head = headerSize(content.length);
  const out = Buffer.allocUnsafe(1 + head + content.length);
  out[0] = tag;
  content.copy(out, writeLength(out, 1, content.length, head));
  return out;
}

function headerSize(len: number): number {
  if (len < 0x80) return 1;
  let n = 1;
  for (let v = len; v > 0xff; v = Math.floor(v / 256)) n++;
  return n + 1;
}

function writeLength(out: Buffer, pos: number, len: number, head: number): number {
  if (head === 1) {
    out[pos] = len;
    return pos + 1;
  }
  out[pos] = 0x80 | (head - 1);
  for (let i = head - 1, v = len; i >= 1; i--, v = Math.floor(v / 256)) out[pos + i] = v & 0xff;
  return pos + head;
}

export const derSequence = (items: readonly Buffer[]): Buffer => derConstructed(TAG.SEQUENCE, items);

/** SET OF: DER orders the encodings as octet strings, shorter first on a common prefix (X.690 §11.6). */
export function derSetOf(items: readonly Buffer[]): Buffer {
  return derConstructed(TAG.SET, [...items].sort(Buffer.compare));
}

/** [n] EXPLICIT: the inner element wrapped whole. */
export function derExplicit(n: number, inner: Buffer): Buffer {
  return derTlv(0xa0 | n, inner);
}

/** [n] IMPLICIT: the tag replaced; `constructed` when the underlying type is (SEQUENCE, SET, CHOICE of those). */
export function derImplicit(n: number, content: Buffer, constructed: boolean): Buffer {
  return derTlv((constructed ? 0xa0 : 0x80) | n, content);
}

const NULL = Buffer.from([TAG.NULL, 0]);
export const derNull = (): Buffer => NULL;

const TRUE = Buffer.from([TAG.BOOLEAN, 1, 0xff]);
const FALSE = Buffer.from([TAG.BOOLEAN, 1, 0]);
export const derBoolean = (value: boolean): Buffer => (value ? TRUE : FALSE);

/**
 * INTEGER. A Buffer is an unsigned magnitude (leading zeros dropped, a 0x00
 * sign octet added when the top bit is set); a bigint or number may be negative.
 */
export function derInteger(value: bigint | number | Buffer): Buffer {
  return derTlv(TAG.INTEGER, integerContent(value));
}

export function derEnumerated(value: number): Buffer {
  return derTlv(0x0a, integerContent(value));
}

/** Minimal two's-complement content octets of an INTEGER. */
export function integerContent(value: bigint | number | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return magnitudeContent(value);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) fail(`INTEGER ${value} is not a safe integer`);
  const v = BigInt(value);
  if (v >= 0n) {
    const hex = v.toString(16);
    return magnitudeContent(Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex'));
  }
  // Smallest n with -2^(8n-1) <= v, then v + 2^(8n) is the two's-complement pattern.
  let n = 1;
  while (-(1n << BigInt(8 * n - 1)) > v) n++;
  const hex = (v + (1n << BigInt(8 * n))).toString(16).padStart(2 * n, '0');
  return Buffer.from(hex, 'hex');
}

function magnitudeContent(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  if (bytes.length === 0) return Buffer.from([0]);
  const trimmed = bytes.subarray(i);
  return trimmed[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

/**
 * The OIDs we write are a few dozen constants, encoded on every certificate:
 * memoised without bound is fine because callers pass constants, never input.
 */
const oidCache = new Map<string, Buffer>();

export function derOid(dotted: string): Buffer {
  let der = oidCache.get(dotted);
  if (!der) {
    der = derTlv(TAG.OID, oidContent(dotted));
    oidCache.set(dotted, der);
  }
  return der;
}

function oidContent(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) fail(`malformed OBJECT IDENTIFIER "${dotted}"`);
  const arcs = dotted.split('.').map(BigInt);
  const [first, second] = [arcs[0]!, arcs[1]!];
  if (first < 2n && second > 39n) fail(`malformed OBJECT IDENTIFIER "${dotted}"`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...arcs.slice(2)]) {
    const chunk = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return Buffer.from(out);
}

export const derOctetString = (bytes: Buffer): Buffer => derTlv(TAG.OCTET_STRING, bytes);

/** BIT STRING of whole octets (keys, signatures), or with `unusedBits` trailing bits that must be zero. */
export function derBitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (unusedBits > 0 && bytes.length === 0)) {
    fail(`invalid BIT STRING unused-bit count ${unusedBits}`);
  }
  if (unusedBits > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) fail('BIT STRING unused bits must be zero');
  return derConstructed(TAG.BIT_STRING, [Buffer.from([unusedBits]), bytes]);
}

/** A NamedBitList BIT STRING (KeyUsage, ReasonFlags): bit 0 is the first octet's top bit; no trailing zero bits (X.690 §11.2.2). */
export function derNamedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return derBitString(Buffer.alloc(0));
  const top = Math.max(...bits);
  const bytes = Buffer.alloc((top >> 3) + 1);
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0) fail(`invalid named bit ${bit}`);
    bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  return derBitString(bytes, 7 - (top & 7));
}

export const derUtf8String = (text: string): Buffer => derTlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));

/** PrintableString: A–Z a–z 0–9 space ' ( ) + , - . / : = ? (X.680 §41.4). */
export function derPrintableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) fail(`"${text}" is not a PrintableString`);
  return derTlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

/** IA5String: ASCII (URIs and DNS names in GeneralName). */
export function derIa5String(text: string, tag: number = TAG.IA5_STRING): Buffer {
  if (!/^[\x00-\x7f]*$/.test(text)) fail(`"${text}" is not an IA5String (ASCII only)`);
  return derTlv(tag, Buffer.from(text, 'latin1'));
}

/**
 * RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; both in
 * UTC with seconds and no fraction. Milliseconds are dropped (floored), so two
 * dates a whole number of seconds apart stay exactly that far apart.
 */
export function derTime(date: Date): Buffer {
  const year = checkedYear(date);
  return year >= 1950 && year <= 2049 ? derUtcTime(date) : derGeneralizedTime(date);
}

export function derUtcTime(date: Date): Buffer {
  const year = checkedYear(date);
  if (year < 1950 || year > 2049) fail(`UTCTime cannot hold the year ${year}`);
  return derTlv(TAG.UTC_TIME, Buffer.from(timeDigits(date).slice(2) + 'Z', 'latin1'));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (OCSP uses it for every time). */
export function derGeneralizedTime(date: Date): Buffer {
  checkedYear(date);
  return derTlv(TAG.GENERALIZED_TIME, Buffer.from(timeDigits(date) + 'Z', 'latin1'));
}

function checkedYear(date: Date): number {
  const t = date.getTime();
  if (Number.isNaN(t)) fail('invalid date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) fail(`the year ${year} cannot be encoded`);
  return year;
}

/** YYYYMMDDHHMMSS in UTC. */
function timeDigits(date: Date): string {
  const p2 = (n: number): string => (n < 10 ? '0' + n : String(n));
  return (
    String(date.getUTCFullYear()).padStart(4, '0') +
    p2(date.getUTCMonth() + 1) +
    p2(date.getUTCDate()) +
    p2(date.getUTCHours()) +
    p2(date.getUTCMinutes()) +
    p2(date.getUTCSeconds())
  );
}
