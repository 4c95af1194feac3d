/**
 * PEM armour: finding blocks, strict base64, and telling users who pasted DER
 * (binary, or base64 without the BEGIN/END lines) that this is what happened,
 * because "not PEM" alone sends them looking in the wrong place.
 */
import { PkiError } from './errors.js';

export interface PemBlock {
  /** Text between "BEGIN " and "-----", e.g. 'CERTIFICATE', 'EC PRIVATE KEY'. */
  label: string;
  /** RFC 1421 headers (legacy encrypted keys carry Proc-Type and DEK-Info). */
  headers: Record<string, string>;
  /** Base64 body with all whitespace removed (not yet validated). */
  base64: string;
  /** The block as it appeared, with \n line endings and a trailing newline. */
  text: string;
  /** Zero-based position among the blocks of the input. */
  position: number;
}

const LABEL_RE = /^[A-Z0-9][A-Z0-9 ]*$/;

/** Bring any accepted input to one string with \n line endings. */
export function normaliseInput(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.indexOf('-----BEGIN') < 0 && bytes[0] === 0x30) {
      throw new PkiError('pem.der', 'input is binary DER; upload the PEM form (openssl x509 -inform der -outform pem)');
    }
    text = bytes.toString('utf8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.replace(/\r\n?/g, '\n');
  // PEM pasted out of JSON often keeps literal "\n" escapes; base64 has no backslash, so this is unambiguous.
  if (text.includes('-----BEGIN') && text.includes('\\n')) text = text.replace(/\\r\\n|\\n/g, '\n');
  return text;
}

/**
 * All complete PEM blocks in the text; throws pem.invalid for broken armour.
 * A forward-only indexOf scan rather than one big regex: a lazy regex over
 * many unterminated BEGIN lines would be quadratic in the upload size.
 */
export function findPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', from);
    if (begin < 0) return blocks;
    const label = readLabel(text, begin + 11, 'BEGIN');
    const bodyStart = begin + 11 + label.length + 5;
    const end = text.indexOf('-----END ', bodyStart);
    if (end < 0) throw new PkiError('pem.invalid', `PEM block "${label}" has no END line`);
    const endLabel = readLabel(text, end + 9, 'END');
    const next = text.indexOf('-----BEGIN ', bodyStart);
    if (next >= 0 && next < end) throw new PkiError('pem.invalid', `PEM block "${label}" has no END line`);
    if (endLabel !== label) throw new PkiError('pem.invalid', `PEM block "${label}" is closed by END ${endLabel}`);
    from = end + 9 + endLabel.length + 5;
    blocks.push(parseBody(label, text.slice(bodyStart, end), text.slice(begin, from), blocks.length));
  }
}

/** The label after "-----BEGIN " / "-----END ", up to the closing dashes (LABEL_RE keeps it on one line). */
function readLabel(text: string, start: number, what: string): string {
  const close = text.indexOf('-----', start);
  const label = close < 0 ? '' : text.slice(start, close);
  if (!LABEL_RE.test(label)) throw new PkiError('pem.invalid', `malformed PEM ${what} line`);
  return label;
}

function parseBody(label: string, body: string, whole: string, position: number): PemBlock {
  const headers: Record<string, string> = {};
  let lines = body.split('\n');
  // RFC 1421 headers come first and end at a blank line; base64 never contains ':'.
  if (body.includes(':')) {
    let i = 0;
    while (i < lines.length && lines[i]!.trim() === '') i++;
    for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) break;
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    lines = lines.slice(i);
  }
  const text = whole.split('\n').map((l) => l.trim()).join('\n') + '\n';
  return { label, headers, base64: lines.join('').replace(/\s+/g, ''), text, position };
}

/** Strict base64 (node's decoder silently skips bad characters; OpenSSL would not). */
export function decodeBase64(b64: string): Buffer | undefined {
  if (b64.length === 0 || b64.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  // Re-encoding gives back the input exactly when every character was valid base64 (native, fast).
  return bytes.toString('base64') === b64 ? bytes : undefined;
}

export function decodeBlock(block: PemBlock): Buffer {
  const der = decodeBase64(block.base64);
  if (!der) throw new PkiError('pem.invalid', `PEM block "${block.label}" does not contain valid base64`);
  return der;
}

export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${label}-----\n`;
}

/**
 * Called when the input has no PEM block of the wanted kind: decide whether
 * the user gave us DER (binary or bare base64) or simply something else.
 */
export function explainNonPem(text: string, wanted: string, blocks: PemBlock[]): never {
  if (blocks.length > 0) {
    const found = blocks.map((b) => b.label).join(', ');
    throw new PkiError('pem.invalid', `no ${wanted} PEM block found (found: ${found})`);
  }
  if (looksLikeBinaryDer(text)) {
    throw new PkiError('pem.der', 'input is binary DER; upload the PEM form');
  }
  const bare = decodeBase64(text.replace(/\s+/g, ''));
  if (bare && isSingleDerSequence(bare)) {
    throw new PkiError('pem.der', 'input is base64 DER without PEM armour; add the BEGIN/END lines');
  }
  throw new PkiError('pem.invalid', `input is not PEM: no ${wanted} block found`);
}

function looksLikeBinaryDer(text: string): boolean {
  if (text.charCodeAt(0) !== 0x30) return false;
  // DER read as text shows control characters, U+FFFD (utf8) or high latin1 chars early on.
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff\ufffd]/.test(text.slice(1, 16));
}

function isSingleDerSequence(der: Buffer): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.length;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return 2 + n + len === der.length;
}
