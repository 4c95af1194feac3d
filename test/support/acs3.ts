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
