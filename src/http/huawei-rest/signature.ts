/**
 * Verifies Huawei Cloud's AK/SK request signatures (`SDK-HMAC-SHA256`) as the official SDK core's
 * `AKSKSigner` computes them (contract: shared/contracts/huawei-apig.md §1.5). Pure: the only outside
 * call is the injected secret lookup. There is no nonce: a signed request can be replayed only while
 * its `X-Sdk-Date` is within the allowed clock skew.
 *
 * The canonical request, as the signer builds it:
 *
 *     METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
 *
 * - CanonicalURI: the path as sent, each `/`-separated segment URL-encoded again (so an escape such
 *   as `%20` is signed as `%2520`), always ending in `/`.
 * - CanonicalQuery: the query parameters sorted by name, each `enc(name)=enc(value)`, the values of a
 *   repeated name sorted, joined with `&`. Computed from the parameters the routes read, so the
 *   signature covers exactly what is acted on however the client spelled its escapes.
 * - CanonicalHeaders: `name:value\n` for each signed header, in SignedHeaders order.
 * - PayloadHash: hex SHA-256 of the body, or the `X-Sdk-Content-Sha256` header when sent.
 *
 * StringToSign = `SDK-HMAC-SHA256\n{X-Sdk-Date}\n{hex SHA-256 of the canonical request}`, and the
 * signature is its hex HMAC-SHA256 under the secret key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SDK_SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

export interface AkSkRequest {
  method: string;
  /** The path exactly as received, still percent-encoded, without the query. */
  rawPath: string;
  /** The query parameters as the routes read them (decoded; a repeated name gives a list). */
  query: Record<string, string | string[] | undefined>;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes; empty when there is no body. */
  body: Buffer;
}

export type AkSkFailure =
  | 'malformed' // the Authorization header, X-Sdk-Date or a required signed header is wrong or absent
  | 'algorithm' // a signing scheme other than SDK-HMAC-SHA256
  | 'unsupported' // temporary credentials (X-Security-Token): certplane issues none
  | 'stale_date' // X-Sdk-Date outside the allowed clock skew
  | 'body_hash' // X-Sdk-Content-Sha256 does not match the body, or leaves a body unsigned
  | 'unknown_key' // no active access key with that id
  | 'mismatch'; // the signature is wrong

export class AkSkError extends Error {
  override readonly name = 'AkSkError';
  constructor(
    readonly failure: AkSkFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface AkSkVerified {
  accessKeyId: string;
  date: Date;
}

export interface AkSkOptions {
  now: Date;
  maxSkewMs: number;
  secretFor(accessKeyId: string): Promise<string | undefined>;
}

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Headers that carry meaning for the request when present, so they must be covered by the signature. */
const SIGNED_WHEN_PRESENT = ['host', 'x-sdk-date', 'x-project-id', 'x-sdk-content-sha256'];

/** Whether a request claims an AK/SK signature (the only use of the Authorization header on APIG routes). */
export function isAkSkSigned(headers: AkSkRequest['headers']): boolean {
  return headers.authorization !== undefined;
}

export async function verifyAkSk(req: AkSkRequest, opts: AkSkOptions): Promise<AkSkVerified> {
  const auth = parseAuthorization(headerValue(req.headers, 'authorization') ?? '');
  checkSignedHeaders(auth.signedHeaders, req);
  const signed = (name: string): string => (headerValue(req.headers, name) ?? '').trim();
  const sdkDate = signed('x-sdk-date');
  const date = parseSdkDate(sdkDate);
  if (Math.abs(opts.now.getTime() - date.getTime()) > opts.maxSkewMs) {
    throw new AkSkError(
      'stale_date',
      `X-Sdk-Date ${sdkDate} is more than ${Math.round(opts.maxSkewMs / 1000)} s from the server's clock`,
    );
  }
  const payloadHash = payloadHashOf(req);
  const secret = await opts.secretFor(auth.accessKeyId);
  if (secret === undefined) {
    throw new AkSkError('unknown_key', `Get secretKey failed,ak:${auth.accessKeyId},err:ak not exist or not active`);
  }
  const canonicalRequest = [
    req.method,
    canonicalUri(req.rawPath),
    canonicalQuery(req.query),
    auth.signedHeaders.map((name) => `${name}:${signed(name)}\n`).join(''),
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = `${SDK_SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`;
  const expected = createHmac('sha256', secret).update(stringToSign).digest();
  if (!timingSafeEqual(expected, auth.signature)) throw new AkSkError('mismatch', 'verify aksk signature fail');
  return { accessKeyId: auth.accessKeyId, date };
}

interface Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: Buffer;
}

/** `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>`, fields in any order. */
function parseAuthorization(value: string): Authorization {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== SDK_SIGNING_ALGORITHM) {
    throw new AkSkError('algorithm', `unsupported signing algorithm ${JSON.stringify(algorithm.slice(0, 40))}`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, Math.max(eq, 0)).trim();
    if (eq < 0 || !['Access', 'SignedHeaders', 'Signature'].includes(key) || fields.has(key)) {
      throw new AkSkError('malformed', 'the Authorization header is malformed');
    }
    fields.set(key, part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Access') ?? '';
  const signedHeaders = fields.get('SignedHeaders') ?? '';
  const signature = fields.get('Signature') ?? '';
  if (accessKeyId === '' || signedHeaders === '' || !/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw new AkSkError('malformed', 'Authorization needs Access, SignedHeaders and a 64-hex-digit Signature');
  }
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature: Buffer.from(signature, 'hex') };
}

/**
 * The signer signs every header it was given, sorted; the HTTP client adds a few of its own later
 * (Accept, User-Agent, a default Content-Type), unsigned. Those may pass only where they carry no
 * meaning: a Content-Type must be signed once there is a body to read it by.
 */
function checkSignedHeaders(names: string[], req: AkSkRequest): void {
  names.forEach((name, i) => {
    if (!/^[a-z0-9-]+$/.test(name) || (i > 0 && name <= names[i - 1]!)) {
      throw new AkSkError('malformed', 'SignedHeaders must be lower-case, sorted and unique');
    }
    if (headerValue(req.headers, name) === undefined) {
      throw new AkSkError('malformed', `signed header ${name} is not in the request`);
    }
  });
  if (headerValue(req.headers, 'x-security-token') !== undefined) {
    throw new AkSkError('unsupported', 'temporary security credentials (X-Security-Token) are not supported');
  }
  const required = ['host', 'x-sdk-date'];
  for (const name of SIGNED_WHEN_PRESENT) if (headerValue(req.headers, name) !== undefined) required.push(name);
  if (req.body.length > 0) required.push('content-type');
  const missing = required.filter((name) => !names.includes(name));
  if (missing.length > 0) throw new AkSkError('malformed', `SignedHeaders lacks ${[...new Set(missing)].join(', ')}`);
}

function parseSdkDate(value: string): Date {
  const m = SDK_DATE.exec(value);
  const date = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  if (!date || Number.isNaN(date.getTime()) || formatSdkDate(date) !== value) {
    throw new AkSkError('malformed', 'X-Sdk-Date must look like 20240131T080000Z');
  }
  return date;
}

/** `YYYYMMDDTHHmmssZ` in UTC, the X-Sdk-Date format. */
export function formatSdkDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The body's hash, or the one the client declared: a declared hash must be the body's, and
 * `UNSIGNED-PAYLOAD` (which the SDK sends for non-JSON bodies) is accepted only for an empty body.
 */
function payloadHashOf(req: AkSkRequest): string {
  const bodyHash = sha256Hex(req.body);
  const declared = headerValue(req.headers, 'x-sdk-content-sha256')?.trim();
  if (declared === undefined) return bodyHash;
  if (declared === UNSIGNED_PAYLOAD) {
    if (req.body.length > 0) throw new AkSkError('body_hash', 'a request body must be signed (X-Sdk-Content-Sha256 is UNSIGNED-PAYLOAD)');
    return declared;
  }
  if (declared.toLowerCase() !== bodyHash) throw new AkSkError('body_hash', 'X-Sdk-Content-Sha256 does not match the body');
  return declared;
}

function canonicalUri(rawPath: string): string {
  const path = rawPath.split('/').map(urlEncode).join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

/** Sorted by name (UTF-16 order, as `Array.prototype.sort`), the values of a repeated name sorted too. */
function canonicalQuery(query: AkSkRequest['query']): string {
  const pairs: string[] = [];
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? [...value].sort() : [value];
    for (const v of values) pairs.push(`${urlEncode(name)}=${urlEncode(v)}`);
  }
  return pairs.join('&');
}

/** The signer's URL encoding: UTF-8 bytes, every byte escaped but RFC 3986's unreserved `A-Za-z0-9-._~`. */
function urlEncode(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new AkSkError('malformed', 'the path or query holds text that is not valid Unicode');
  }
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Node joins most repeated headers with ', ' but gives arrays for a few; the SDK repeats none. */
function headerValue(headers: AkSkRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new AkSkError('malformed', `header ${name} is repeated`);
  return value;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
