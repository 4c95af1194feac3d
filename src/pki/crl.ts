/**
 * Version 2 CRLs (RFC 5280 §5): a full CRL of the CA's revoked certificates,
 * with the cRLNumber and authorityKeyIdentifier extensions relying parties
 * use to order CRLs and to find the key that signed them. Signed like the
 * CA's certificates.
 */
import { TAG } from './der.js';
import { derConstructed, derInteger, derSequence, derTime, integerContent } from './der-writer.js';
import { PkiError } from './errors.js';
import { authorityKeyIdentifier, crlNumber, reasonCode } from './extension-writer.js';
import { encodePem } from './pem.js';
import { serialNumber } from './serial.js';
import { signStructure, type SigningIssuer } from './signer.js';

/** RFC 5280 §5.3.1 CRLReason values; removeFromCRL (8) belongs to delta CRLs, which certplane does not issue. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  /** Unsigned magnitude, as the certificate was issued with. */
  serial: Buffer;
  revokedAt: Date;
  /** Absent or 'unspecified': no reasonCode entry extension (RFC 5280 §5.3.1 says leave it out). */
  reason?: RevocationReason;
}

export interface CrlInput {
  issuer: SigningIssuer;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Strictly greater than the number of every CRL this CA issued before (the caller keeps count). */
  crlNumber: bigint | number;
  revoked: readonly RevokedEntry[];
}

export interface BuiltCrl {
  der: Buffer;
  pem: string;
}

const VERSION_2 = derInteger(1);

function fail(message: string): never {
  throw new PkiError('build.invalid', message);
}

export function buildCrl(input: CrlInput): BuiltCrl {
  const { issuer, thisUpdate, nextUpdate } = input;
  if (!(nextUpdate.getTime() > thisUpdate.getTime())) fail('nextUpdate must be later than thisUpdate');
  const parts = [VERSION_2, issuer.scheme.algorithm, issuer.name, derTime(thisUpdate), derTime(nextUpdate)];
  // An empty revokedCertificates must be absent, not an empty SEQUENCE (RFC 5280 §5.1.2.6).
  if (input.revoked.length > 0) parts.push(revokedCertificates(input.revoked));
  parts.push(crlExtensions(issuer, input.crlNumber));
  const der = signStructure(issuer, derConstructed(TAG.SEQUENCE, parts));
  return { der, pem: encodePem('X509 CRL', der) };
}

function revokedCertificates(entries: readonly RevokedEntry[]): Buffer {
  const seen = new Set<string>();
  const encoded = entries.map((entry) => {
    const serial = serialNumber(entry.serial);
    const key = serial.toString('hex');
    if (seen.has(key)) fail(`serial ${integerContent(entry.serial).toString('hex')} is listed twice`);
    seen.add(key);
    const fields = [serial, derTime(entry.revokedAt)];
    const reason = entry.reason ?? 'unspecified';
    const code = REVOCATION_REASONS[reason];
    if (code === undefined) fail(`unknown revocation reason "${reason}"`);
    if (code !== 0) fields.push(derSequence([reasonCode(code)]));
    return derSequence(fields);
  });
  return derConstructed(TAG.SEQUENCE, encoded);
}

function crlExtensions(issuer: SigningIssuer, number: bigint | number): Buffer {
  const n = BigInt(number);
  if (n < 0n) fail('the CRL number must not be negative');
  if (integerContent(n).length > 20) fail('the CRL number must fit in 20 octets');
  return derConstructed(0xa0, [derSequence([authorityKeyIdentifier(issuer.keyId), crlNumber(n)])]);
}
