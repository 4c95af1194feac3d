import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * A second, independent ACS3-HMAC-SHA256 signer, written from the published algorithm, for the
 * requests the official SDKs never make (form bodies for query operations, duplicate parameters).
 * Its agreement with the server is itself checked against SDK-signed requests in the suite.
 */
export interface Acs3Request {
  method: 'GET' | 'POST';
  host: string;
  action: string;
  version: string;
  query?: Record<string, string>;
  /** Sent as an application/x-www-form-urlencoded body. */
  form?: Record<string, string>;
  date?: Date;
  nonce?: string;
  extraHeaders?: Record<string, string>;
}

const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function signAcs3(req: Acs3Request, credentials: { accessKeyId: string; accessKeySecret: string }) {
  const query = Object.entries(req.query ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalQuery = query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const body = req.form ? Buffer.from(new URLSearchParams(req.form).toString().replace(/\+/g, '%20')) : Buffer.alloc(0);
  const headers: Record<string, string> = {
    host: req.host,
    'x-acs-action': req.action,
    'x-acs-version': req.version,
    'x-acs-date': (req.date ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': req.nonce ?? randomBytes(32).toString('hex'),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...(req.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...req.extraHeaders,
  };
  const signed = Object.keys(headers).sort();
  const canonicalHeaders = signed.map((h) => `${h}:${headers[h]!.trim()}\n`).join('');
  const canonical = [req.method, '/', canonicalQuery, canonicalHeaders, signed.join(';'), headers['x-acs-content-sha256']].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', credentials.accessKeySecret).update(toSign).digest('hex');
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${credentials.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  return { method: req.method, url: canonicalQuery ? `/?${canonicalQuery}` : '/', headers, body };
}

/**
 * signAcs3 for one request sent again and again (a load generator): the body, its hash and the
 * canonical query are made once; each `sign()` writes a fresh date and nonce and signs anew.
 * `sign(date, nonce)` gives exactly what signAcs3 gives for the same request, date and nonce.
 */
export class PreparedAcs3 {
  private readonly url: string;
  private readonly body: Buffer;
  private readonly bodyHash: string;
  private readonly canonicalQuery: string;
  private readonly fixed: Record<string, string>;
  private readonly noncePrefix = randomBytes(12).toString('hex');
  private count = 0;

  constructor(
    private readonly req: Omit<Acs3Request, 'date' | 'nonce'>,
    private readonly credentials: { accessKeyId: string; accessKeySecret: string },
  ) {
    const probe = signAcs3({ ...req, date: new Date(0), nonce: 'probe' }, credentials);
    this.url = probe.url;
    this.body = probe.body;
    this.bodyHash = probe.headers['x-acs-content-sha256']!;
    this.canonicalQuery = probe.url === '/' ? '' : probe.url.slice(2);
    const { authorization: _a, 'x-acs-date': _d, 'x-acs-signature-nonce': _n, ...fixed } = probe.headers;
    this.fixed = fixed;
  }

  sign(date = new Date(), nonce = `${this.noncePrefix}${(this.count++).toString(16)}`) {
    const headers: Record<string, string> = { ...this.fixed, 'x-acs-date': date.toISOString().replace(/\.\d{3}Z$/, 'Z'), 'x-acs-signature-nonce': nonce };
    const signed = Object.keys(headers).sort();
    const canonicalHeaders = signed.map((h) => `${h}:${headers[h]!.trim()}\n`).join('');
    const canonical = [this.req.method, '/', this.canonicalQuery, canonicalHeaders, signed.join(';'), this.bodyHash].join('\n');
    const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.credentials.accessKeySecret).update(toSign).digest('hex');
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${this.credentials.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
    return { method: this.req.method, url: this.url, headers, body: this.body };
  }
}
