/**
 * OCSP requests (RFC 6960 §4.1), read strictly: anything that does not parse,
 * or that asks for more than a responder should answer, is PkiError
 * 'ocsp.invalid', which the responder answers with malformedRequest. Plus the
 * issuer hashes a CertID is matched against. Responses are in ocsp-response.ts.
 */
import { createHash } from 'node:crypto';
import { certificateInternals } from './certificate.js';
import { ctx, DerReader, TAG } from './der.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';
import { publicKeyBits } from './signer.js';
import type { ParsedCertificate } from './types.js';

export type OcspHash = 'sha1' | 'sha256';

export interface OcspCertId {
  hashAlgorithm: OcspHash;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Unsigned magnitude, comparable with the serial a certificate was built with. */
  serial: Buffer;
  /** The CertID exactly as sent: a response must echo it byte for byte. */
  der: Buffer;
}

export interface OcspRequest {
  /** The requestList, in order. */
  certIds: OcspCertId[];
  /** The nonce extension's extnValue contents, to echo verbatim; absent when none was sent. */
  nonce?: Buffer;
  /** The request carried a signature (not checked: certplane's responder is public). */
  signed: boolean;
}

export interface OcspRequestLimits {
  /** Default 16 KiB. */
  maxBytes?: number;
  /** CertIDs in one request; default 16 (clients send one). */
  maxRequests?: number;
}

const HASHES: ReadonlyMap<string, { name: OcspHash; size: number }> = new Map([
  [OID.sha1, { name: 'sha1', size: 20 }],
  [OID.sha256, { name: 'sha256', size: 32 }],
]);

/** RFC 8954 §2.1: a nonce is 1 to 32 octets. */
const MAX_NONCE = 32;

function fail(message: string): never {
  throw new PkiError('ocsp.invalid', message);
}

export function parseOcspRequest(der: Buffer, limits: OcspRequestLimits = {}): OcspRequest {
  const maxBytes = limits.maxBytes ?? 16 * 1024;
  const maxRequests = limits.maxRequests ?? 16;
  if (der.length === 0) fail('empty OCSP request');
  if (der.length > maxBytes) fail(`OCSP request of ${der.length} bytes; at most ${maxBytes}`);
  const top = new DerReader(der, 'ocsp.invalid');
  const outer = top.enter(TAG.SEQUENCE, 'OCSPRequest');
  top.finish('OCSP request');
  const tbs = outer.enter(TAG.SEQUENCE, 'TBSRequest');
  const signature = outer.optional(ctx(0, true));
  outer.finish('OCSPRequest');

  const version = tbs.optional(ctx(0, true));
  if (version && tbs.inside(version).smallInt() !== 0) fail('unknown OCSP request version');
  tbs.optional(ctx(1, true)); // requestorName: informational only
  const list = tbs.enter(TAG.SEQUENCE, 'requestList');
  const extensions = tbs.optional(ctx(2, true));
  tbs.finish('TBSRequest');

  const certIds: OcspCertId[] = [];
  while (!list.done) {
    if (certIds.length === maxRequests) fail(`more than ${maxRequests} certificates in one OCSP request`);
    const request = list.enter(TAG.SEQUENCE, 'Request');
    certIds.push(readCertId(request));
    request.optional(ctx(0, true)); // singleRequestExtensions: none is defined that we act on
    request.finish('Request');
  }
  if (certIds.length === 0) fail('the OCSP request asks about no certificate');
  const nonce = extensions ? readNonce(tbs.inside(extensions)) : undefined;
  return { certIds, ...(nonce ? { nonce } : {}), signed: signature !== undefined };
}

function readCertId(r: DerReader): OcspCertId {
  const tlv = r.expect(TAG.SEQUENCE, 'CertID');
  const c = r.inside(tlv);
  const alg = c.enter(TAG.SEQUENCE, 'hashAlgorithm');
  const oid = alg.oid();
  const nul = alg.optional(TAG.NULL);
  if (nul && nul.end !== nul.valueStart) alg.fail('malformed NULL');
  alg.finish('hashAlgorithm');
  const hash = HASHES.get(oid);
  if (!hash) fail(`CertID hash algorithm ${oid} is not supported (SHA-1 or SHA-256)`);
  const issuerNameHash = c.value(c.expect(TAG.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = c.value(c.expect(TAG.OCTET_STRING, 'issuerKeyHash'));
  if (issuerNameHash.length !== hash.size || issuerKeyHash.length !== hash.size) fail(`CertID hashes are not ${hash.name} hashes (${hash.size} octets)`);
  const serial = c.unsigned();
  c.finish('CertID');
  return { hashAlgorithm: hash.name, issuerNameHash, issuerKeyHash, serial, der: r.raw(tlv) };
}

/** The nonce extension, if any; other request extensions (acceptable responses, preferred algorithms) are ignored. */
function readNonce(r: DerReader): Buffer | undefined {
  const list = r.enter(TAG.SEQUENCE, 'requestExtensions');
  r.finish('requestExtensions');
  let nonce: Buffer | undefined;
  while (!list.done) {
    const ext = list.enter(TAG.SEQUENCE, 'Extension');
    const oid = ext.oid();
    const critical = ext.optional(TAG.BOOLEAN);
    if (critical) ext.boolean(critical);
    const value = ext.value(ext.expect(TAG.OCTET_STRING, 'extnValue'));
    ext.finish('Extension');
    if (oid !== OID.ocspNonce) continue;
    if (nonce) fail('the OCSP request carries two nonces');
    nonce = value;
  }
  if (nonce) checkNonce(nonce);
  return nonce;
}

/** RFC 8954 wraps the nonce in an OCTET STRING inside extnValue; early clients put raw octets there. Either way, 1–32 octets. */
function checkNonce(value: Buffer): void {
  let inner = value;
  if (value[0] === TAG.OCTET_STRING) {
    try {
      const r = new DerReader(value, 'ocsp.invalid');
      inner = r.value(r.expect(TAG.OCTET_STRING, 'nonce'));
      r.finish('nonce');
    } catch {
      inner = value; // not an OCTET STRING after all: a raw nonce that starts with 0x04
    }
  }
  if (inner.length < 1 || inner.length > MAX_NONCE) fail(`OCSP nonce of ${inner.length} octets; 1 to ${MAX_NONCE} accepted (RFC 8954)`);
}

/** What a CertID names its issuer by, for each hash a request may use. */
export type OcspIssuerHashes = Record<OcspHash, { nameHash: Buffer; keyHash: Buffer }>;

/** Hashes of the issuer's subject Name DER and of its public key bits (RFC 6960 §4.1.1). Compute once per CA. */
export function ocspIssuerHashes(issuer: { name: Buffer; spki: Buffer }): OcspIssuerHashes {
  const bits = publicKeyBits(issuer.spki);
  const both = (h: OcspHash) => ({ nameHash: createHash(h).update(issuer.name).digest(), keyHash: createHash(h).update(bits).digest() });
  return { sha1: both('sha1'), sha256: both('sha256') };
}

/** The hashes CertIDs name a CA by, from its certificate (its subject Name as encoded there, and its key). */
export function ocspIssuerHashesOf(ca: ParsedCertificate): OcspIssuerHashes {
  return ocspIssuerHashes({ name: certificateInternals(ca).subject.der, spki: ca.publicKey.spki });
}

/** Does the CertID name this issuer? (Both hashes must match; the serial is the caller's to look up.) */
export function certIdMatchesIssuer(certId: OcspCertId, hashes: OcspIssuerHashes): boolean {
  const h = hashes[certId.hashAlgorithm];
  return h.nameHash.equals(certId.issuerNameHash) && h.keyHash.equals(certId.issuerKeyHash);
}
