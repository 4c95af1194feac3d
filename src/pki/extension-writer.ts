/**
 * The X.509v3 extensions certplane writes (certificates, CRLs, OCSP), each as
 * a complete Extension element. Defaults are omitted, as DER requires: a
 * basicConstraints with cA FALSE is an empty SEQUENCE, not one holding FALSE.
 */
import {
  derBoolean,
  derConstructed,
  derEnumerated,
  derExplicit,
  derIa5String,
  derImplicit,
  derInteger,
  derNamedBits,
  derNull,
  derOctetString,
  derOid,
  derSequence,
} from './der-writer.js';
import { TAG } from './der.js';
import { PkiError } from './errors.js';
import { KEY_USAGE_BITS, OID } from './oids.js';

export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  const parts = critical ? [derOid(oid), derBoolean(true), derOctetString(value)] : [derOid(oid), derOctetString(value)];
  return derSequence(parts);
}

/** Always critical, as RFC 5280 §4.2.1.9 requires for CAs and -x509_strict checks. */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const parts: Buffer[] = [];
  if (ca) parts.push(derBoolean(true));
  if (ca && pathLen !== undefined) parts.push(derInteger(pathLen));
  return extension(OID.basicConstraints, true, derSequence(parts));
}

export function keyUsage(usages: readonly KeyUsageName[]): Buffer {
  return extension(OID.keyUsage, true, derNamedBits(usages.map((u) => KEY_USAGE_BITS.indexOf(u))));
}

export function extendedKeyUsage(purposes: readonly string[]): Buffer {
  return extension(OID.extKeyUsage, false, derSequence(purposes.map(derOid)));
}

export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.subjectKeyIdentifier, false, derOctetString(keyId));
}

/** keyIdentifier only ([0] IMPLICIT OCTET STRING): naming the issuer by name and serial too would pin clients to one CA certificate. */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, derSequence([derImplicit(0, keyId, false)]));
}

/** One DistributionPoint whose fullName is one URI: SEQUENCE { SEQUENCE { [0] { [0] { [6] uri } } } }. */
export function crlDistributionPoint(url: string): Buffer {
  const fullName = derImplicit(0, uriName(url), true);
  const point = derSequence([derExplicit(0, fullName)]);
  return extension(OID.cRLDistributionPoints, false, derSequence([point]));
}

/** authorityInfoAccess with one id-ad-ocsp AccessDescription. */
export function ocspAccess(url: string): Buffer {
  const description = derSequence([derOid(OID.adOcsp), uriName(url)]);
  return extension(OID.authorityInfoAccess, false, derSequence([description]));
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check a delegated responder's own status. */
export function ocspNoCheck(): Buffer {
  return extension(OID.ocspNoCheck, false, derNull());
}

export function crlNumber(value: bigint): Buffer {
  return extension(OID.cRLNumber, false, derInteger(value));
}

export function reasonCode(code: number): Buffer {
  return extension(OID.reasonCode, false, derEnumerated(code));
}

/** The [0] wrapper of a SEQUENCE OF Extension (TBSCertificate uses [3], TBSCertList [0], OCSP [1]/[2]). */
export function extensionsBlock(n: number, extensions: readonly Buffer[]): Buffer {
  return derExplicit(n, derConstructed(TAG.SEQUENCE, extensions));
}

/** GeneralName uniformResourceIdentifier ([6] IMPLICIT IA5String); only absolute http(s) URLs. */
function uriName(url: string): Buffer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PkiError('build.invalid', `"${url}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new PkiError('build.invalid', `"${url}" is not an http(s) URL`);
  return derIa5String(url, 0x86);
}
