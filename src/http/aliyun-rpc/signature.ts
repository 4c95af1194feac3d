/**
 * Verifies the request signatures of the official Alibaba Cloud SDKs (contract: shared/contracts/
 * alibaba-esa-cas.md §2): ACS3-HMAC-SHA256, the SDK default, and the legacy RPC HMAC-SHA1 ("v1",
 * chosen with Config.signatureAlgorithm = 'v2'). Pure: the only outside call is the injected secret
 * lookup. Replay protection is the caller's: it stores the returned nonce once verification succeeds.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DecodeProblem, decodePairs, decodeParams } from './decode-params.js';

export interface SignedRequest {
  method: string;
  /** Everything after '?', exactly as received (still percent-encoded); '' when there is none. */
  rawQuery: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes; empty when there is no body. */
  body: Buffer;
}

export type SignatureFailure =
  | 'missing' // neither an Authorization header nor a v1 Signature parameter
  | 'malformed' // present but not parseable, or a required part is absent
  | 'algorithm' // a signature scheme we do not verify
  | 'unsigned_header' // a header that must be signed is not, or an unsigned header contradicts signed input
  | 'stale_date' // x-acs-date / Timestamp outside the allowed clock skew
  | 'body_hash' // x-acs-content-sha256 does not match the body
  | 'unknown_key' // no secret for this AccessKeyId
  | 'mismatch'; // the signature is wrong

export class SignatureError extends Error {
  override readonly name = 'SignatureError';
  constructor(
    readonly failure: SignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

export type SignatureScheme = 'ACS3-HMAC-SHA256' | 'v1';

export interface Verified {
  accessKeyId: string;
  nonce: string;
  date: Date;
  scheme: SignatureScheme;
  /** Operation and API version from signed input; route on these, never on unsigned headers. */
  action: string;
  version: string;
}

export interface VerifyOptions {
  now: Date;
  /** Alibaba documents 15 minutes. */
  maxSkewMs: number;
  secretFor(accessKeyId: string): Promise<string | undefined>;
}

/** Parameters the SDK adds to the query in v1 mode; they are protocol, not operation input. */
export const RPC_V1_PROTOCOL_PARAMS: readonly string[] = [
  'Action',
  'Format',
  'Version',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'AccessKeyId',
  'Signature',
];

const ACS3 = 'ACS3-HMAC-SHA256';
const REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version'];
const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MAX_NONCE_LENGTH = 256;

/**
 * Verifies a request signed by the SDK. The request must have been sent to path '/', which every
 * RPC operation uses; both schemes sign that path implicitly. For v1 the form body's parameters are
 * signed too: they are read from `body` when content-type is application/x-www-form-urlencoded.
 */
export async function verifyRequest(req: SignedRequest, opts: VerifyOptions): Promise<Verified> {
  if (headerValue(req.headers, 'authorization') !== undefined) return verifyAcs3(req, opts);
  if (decodeOrFail(() => decodePairs(req.rawQuery)).has('Signature')) return verifyV1(req, opts);
  throw new SignatureError('missing', 'the request carries no Authorization header and no Signature parameter');
}

// ---------------------------------------------------------------- ACS3-HMAC-SHA256

interface Acs3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: Buffer;
}

async function verifyAcs3(req: SignedRequest, opts: VerifyOptions): Promise<Verified> {
  const auth = parseAuthorization(headerValue(req.headers, 'authorization') ?? '');
  checkSignedHeaders(auth.signedHeaders, req);
  const signed = (name: string): string => headerValue(req.headers, name) ?? '';
  const date = parseDate(signed('x-acs-date'), 'x-acs-date');
  checkSkew(date, opts);
  const nonce = checkNonce(signed('x-acs-signature-nonce'));
  const bodyHash = sha256Hex(req.body);
  if (signed('x-acs-content-sha256').toLowerCase() !== bodyHash) {
    throw new SignatureError('body_hash', 'x-acs-content-sha256 does not match the body');
  }
  const secret = await lookUpSecret(auth.accessKeyId, opts);
  const canonicalRequest = [
    req.method,
    '/',
    canonicalQuery(decodeOrFail(() => decodePairs(req.rawQuery))),
    auth.signedHeaders.map((name) => `${name}:${signed(name).trim()}\n`).join(''),
    auth.signedHeaders.join(';'),
    bodyHash,
  ].join('\n');
  const expected = createHmac('sha256', secret).update(`${ACS3}\n${sha256Hex(canonicalRequest)}`).digest();
  if (!timingSafeEqual(expected, auth.signature)) throw new SignatureError('mismatch', 'the signature does not match');
  const action = signed('x-acs-action');
  const version = signed('x-acs-version');
  return { accessKeyId: auth.accessKeyId, nonce, date, scheme: ACS3, action, version };
}

/** `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`, fields in any order. */
function parseAuthorization(value: string): Acs3Authorization {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ACS3) {
    throw new SignatureError('algorithm', `unsupported signature algorithm ${JSON.stringify(algorithm.slice(0, 40))}`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, Math.max(eq, 0)).trim();
    if (eq < 0 || !['Credential', 'SignedHeaders', 'Signature'].includes(key) || fields.has(key)) {
      throw new SignatureError('malformed', 'the Authorization header is malformed');
    }
    fields.set(key, part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential') ?? '';
  const signedHeaders = fields.get('SignedHeaders') ?? '';
  const signature = fields.get('Signature') ?? '';
  if (accessKeyId === '' || signedHeaders === '' || !/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw new SignatureError('malformed', 'Authorization needs Credential, SignedHeaders and a 64-hex-digit Signature');
  }
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature: Buffer.from(signature, 'hex') };
}

/**
 * The SDK signs every host, content-type and x-acs-* header it sends (retry headers included), so an
 * unsigned one was added or changed in transit and cannot be trusted.
 */
function checkSignedHeaders(names: string[], req: SignedRequest): void {
  names.forEach((name, i) => {
    if (!/^[a-z0-9-]+$/.test(name) || (i > 0 && name <= names[i - 1]!)) {
      throw new SignatureError('malformed', 'SignedHeaders must be lower-case, sorted and unique');
    }
    if (headerValue(req.headers, name) === undefined) {
      throw new SignatureError('malformed', `signed header ${name} is not in the request`);
    }
  });
  const required = req.body.length > 0 ? ['content-type', ...REQUIRED_SIGNED] : REQUIRED_SIGNED;
  const missing = required.filter((name) => !names.includes(name));
  if (missing.length > 0) throw new SignatureError('malformed', `SignedHeaders lacks ${missing.join(', ')}`);
  for (const [raw, value] of Object.entries(req.headers)) {
    const name = raw.toLowerCase();
    const mustSign = name === 'host' || name === 'content-type' || name.startsWith('x-acs-');
    if (value !== undefined && mustSign && !names.includes(name)) {
      throw new SignatureError('unsigned_header', `header ${name} is not signed`);
    }
  }
}

/** Canonical form shared by both schemes: sorted by key, `enc(k)=enc(v)` joined with '&'. */
function canonicalQuery(params: Map<string, string>): string {
  return [...params]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join('&');
}

// ---------------------------------------------------------------- legacy v1 (HMAC-SHA1)

async function verifyV1(req: SignedRequest, opts: VerifyOptions): Promise<Verified> {
  const params = decodeOrFail(() => decodeParams(req.rawQuery, req.body, headerValue(req.headers, 'content-type')));
  const need = (key: string): string => {
    const value = params.get(key);
    if (value === undefined || value === '') throw new SignatureError('malformed', `v1 signature needs ${key}`);
    // The key id is looked up and the nonce stored before any action reads its parameters.
    if (value.includes('\u0000')) throw new SignatureError('malformed', `${key} must not contain a NUL character (U+0000)`);
    return value;
  };
  const signature = need('Signature');
  const [accessKeyId, nonce, timestamp] = [need('AccessKeyId'), need('SignatureNonce'), need('Timestamp')];
  const [action, version] = [need('Action'), need('Version')];
  if (params.get('SignatureMethod') !== 'HMAC-SHA1' || params.get('SignatureVersion') !== '1.0') {
    throw new SignatureError('algorithm', 'v1 requests must use SignatureMethod=HMAC-SHA1 and SignatureVersion=1.0');
  }
  if (!/^[A-Za-z0-9+/]{27}=$/.test(signature)) throw new SignatureError('malformed', 'Signature is not a base64 HMAC-SHA1');
  checkV1Headers(req, action, version);
  const date = parseDate(timestamp, 'Timestamp');
  checkSkew(date, opts);
  checkNonce(nonce);
  const secret = await lookUpSecret(accessKeyId, opts);
  params.delete('Signature');
  const stringToSign = `${req.method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
  const expected = createHmac('sha1', `${secret}&`).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'base64'))) {
    throw new SignatureError('mismatch', 'the signature does not match');
  }
  return { accessKeyId, nonce, date, scheme: 'v1', action, version };
}

/**
 * v1 signs no headers, yet the SDK still sends x-acs-action and x-acs-version. A router that reads
 * those must not see values that disagree with the signed Action and Version.
 */
function checkV1Headers(req: SignedRequest, action: string, version: string): void {
  for (const [name, signed] of [['x-acs-action', action], ['x-acs-version', version]] as const) {
    const sent = headerValue(req.headers, name);
    if (sent !== undefined && sent.trim() !== signed) {
      throw new SignatureError('unsigned_header', `header ${name} contradicts the signed parameters`);
    }
  }
}

// ---------------------------------------------------------------- shared checks

function parseDate(value: string, what: string): Date {
  const date = new Date(value);
  if (!ACS_DATE.test(value) || Number.isNaN(date.getTime()) || date.toISOString().replace('.000Z', 'Z') !== value) {
    throw new SignatureError('malformed', `${what} must look like 2024-01-31T08:00:00Z`);
  }
  return date;
}

function checkSkew(date: Date, opts: VerifyOptions): void {
  if (Math.abs(opts.now.getTime() - date.getTime()) > opts.maxSkewMs) {
    throw new SignatureError('stale_date', `request time ${date.toISOString()} is outside the allowed clock skew`);
  }
}

/** Opaque, but bounded: the caller stores it to detect replays. */
function checkNonce(nonce: string): string {
  if (nonce === '' || nonce.length > MAX_NONCE_LENGTH) {
    throw new SignatureError('malformed', `the signature nonce must be 1 to ${MAX_NONCE_LENGTH} characters`);
  }
  return nonce;
}

async function lookUpSecret(accessKeyId: string, opts: VerifyOptions): Promise<string> {
  const secret = await opts.secretFor(accessKeyId);
  if (secret === undefined) throw new SignatureError('unknown_key', 'the AccessKey does not exist');
  return secret;
}

/** Node joins repeated headers with ', ' but gives arrays for a few; the SDK never repeats one. */
function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new SignatureError('malformed', `header ${name} is repeated`);
  return value;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** encodeURIComponent plus the RFC 3986 reserved characters it leaves alone, as the SDK does. */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeOrFail<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DecodeProblem) throw new SignatureError('malformed', err.message);
    throw err;
  }
}
