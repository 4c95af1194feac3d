/**
 * For the revocation tests: what `openssl crl` says about a CRL fetched from certplane, and
 * `openssl ocsp` asking certplane's responder. openssl runs asynchronously here: the server under
 * test usually lives in the same process and must keep answering while openssl waits for it.
 */
import { execFile } from 'node:child_process';
import { scratch } from './pki.js';
import type { TestService } from './service.js';

export interface OpensslOutcome {
  status: number;
  output: string;
}

/** openssl without blocking the event loop; never throws on a non-zero exit. */
export function opensslAsync(args: string[]): Promise<OpensslOutcome> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
      resolve({ status: err ? Number((err as { code: number }).code) : 0, output: stdout + stderr });
    });
  });
}

export interface CrlEntry {
  /** Lower-case hex, as the API shows serials. */
  serial: string;
  revokedAt: string;
  /** openssl's words, e.g. 'Certificate Hold'; '' when the entry has no reason code. */
  reason: string;
}

export interface CrlView {
  /** `openssl crl -CAfile` verified the signature. */
  verified: boolean;
  number: number;
  lastUpdate: Date;
  nextUpdate: Date;
  entries: CrlEntry[];
  output: string;
}

/** `openssl crl -inform DER -CAfile ca.pem -noout -text`, read back. */
export async function crlView(der: Buffer, caPem: string): Promise<CrlView> {
  const { status, output } = await opensslAsync(['crl', '-inform', 'DER', '-in', scratch('crl.der', der), '-CAfile', scratch('ca.pem', caPem), '-noout', '-text']);
  if (status !== 0) throw new Error(`openssl crl failed: ${output}`);
  const number = /X509v3 CRL Number: *\n\s*(\d+)/.exec(output);
  const last = /Last Update: (.+)\n/.exec(output);
  const next = /Next Update: (.+)\n/.exec(output);
  if (!number || !last || !next) throw new Error(`unexpected openssl crl output: ${output}`);
  const revoked = output.split('Revoked Certificates:')[1] ?? '';
  const entries = revoked
    .split(/Serial Number: /)
    .slice(1)
    .map((block) => ({
      serial: block.split('\n')[0]!.trim().toLowerCase(),
      revokedAt: /Revocation Date: (.+)\n/.exec(block)![1]!.trim(),
      reason: /CRL Reason Code: *\n\s*(.+)\n/.exec(block)?.[1]?.trim() ?? '',
    }));
  return {
    verified: /^verify OK$/m.test(output),
    number: Number(number[1]),
    lastUpdate: new Date(last[1]!),
    nextUpdate: new Date(next[1]!),
    entries,
    output,
  };
}

/** openssl's date format in -text output, e.g. 'Mar  5 07:08:09 2026 GMT'. */
export function opensslDate(d: Date): string {
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${month} ${day} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
}

/**
 * `openssl ocsp -issuer ca.pem -cert leaf.pem … -url {base}/pki/ocsp -CAfile ca.pem`: openssl sends
 * a nonce, checks it came back, and verifies the response's signature. `targets` are leaf PEMs,
 * or `{ serial }` for a serial openssl should ask about without a certificate.
 */
export async function ocspAsk(baseUrl: string, caPem: string, targets: Array<string | { serial: string }>, extra: string[] = []): Promise<OpensslOutcome> {
  const ca = scratch('ca.pem', caPem);
  const asked = targets.flatMap((t) => (typeof t === 'string' ? ['-cert', scratch('leaf.pem', t)] : ['-serial', `0x${t.serial}`]));
  return opensslAsync(['ocsp', ...extra, '-issuer', ca, ...asked, '-url', `${baseUrl}/pki/ocsp`, '-CAfile', ca, '-timeout', '20']);
}

/** The status lines of `openssl ocsp` output, in request order: 'good', 'revoked', 'unknown'. */
export function ocspStatuses(output: string): string[] {
  return [...output.matchAll(/^\S+: (good|revoked|unknown)$/gm)].map((m) => m[1]!);
}

/**
 * A client certificate record written straight into the database, as an issuance that died
 * leaves one (`issuing`, then `void` once settled): no certificate was released for it.
 */
export async function recordSerial(
  service: TestService,
  at: { accountId: string; siteId: number; caId: string; issuer: string },
  record: { id: string; serial: string; status: 'issuing' | 'void'; reservedAt: Date },
): Promise<void> {
  const reserved = record.reservedAt.toISOString();
  await service.app.database.db
    .insertInto('client_certificates')
    .values({
      id: record.id,
      account_id: at.accountId,
      site_id: String(at.siteId),
      ca_id: at.caId,
      serial_number: record.serial,
      status: record.status,
      common_name: 'lost',
      issuer: at.issuer,
      public_key_algorithm: 'ECC',
      key_generated: 1,
      key_sealed: null,
      certificate_pem: null,
      fingerprint_sha256: null,
      signature_algorithm: null,
      not_before: reserved,
      not_after: new Date(record.reservedAt.getTime() + 86_400_000).toISOString(),
      validity_days: 1,
      revoked_at: null,
      deleted_at: null,
      created_at: reserved,
      updated_at: reserved,
    })
    .execute();
}
