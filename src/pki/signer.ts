/**
 * The issuing side shared by certificates, CRLs and OCSP responses: which
 * signature algorithm a CA key implies, the issuer's name and key id, and the
 * signed-structure wrapper (tbs, algorithm, signature). Everything here is
 * computed once per CA and reused for every signature it makes.
 */
import { createHash, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { parseCertificate, parseCertificateDer, certificateInternals } from './certificate.js';
import { DerReader, TAG } from './der.js';
import { derBitString, derConstructed, derNull, derOid, derSequence } from './der-writer.js';
import { PkiError } from './errors.js';
import { encodeName, type NameInput } from './name-writer.js';
import { OID } from './oids.js';
import type { ParsedCertificate } from './types.js';

/** Names as ParsedCertificate.signatureAlgorithm reports them. */
export type SignatureName = 'ECDSA-SHA256' | 'ECDSA-SHA384' | 'SHA256-RSA';

export interface SignatureScheme {
  name: SignatureName;
  oid: string;
  hash: 'sha256' | 'sha384';
  /** AlgorithmIdentifier DER, written both inside and outside the signed part. */
  algorithm: Buffer;
}

/** A CA (or delegated OCSP responder) ready to sign. Holds the private key: never log it. */
export interface SigningIssuer {
  /** DER of the issuer's subject Name: the issuer field of what it signs. */
  readonly name: Buffer;
  /** DER SubjectPublicKeyInfo of the issuer's key. */
  readonly spki: Buffer;
  /** The issuer's subjectKeyIdentifier: the authorityKeyIdentifier of what it signs. */
  readonly keyId: Buffer;
  readonly privateKey: KeyObject;
  /** Its public half, for checking signatures just made. */
  readonly publicKey: KeyObject;
  readonly scheme: SignatureScheme;
}

const RSA_MIN_BITS = 2048;

/**
 * ECDSA P-256 → ecdsa-with-SHA256, P-384 → ecdsa-with-SHA384 (hash strength
 * matched to the curve, RFC 5480 §4), RSA ≥ 2048 → sha256WithRSAEncryption.
 */
export function signatureScheme(key: KeyObject): SignatureScheme {
  if (key.type !== 'private') throw new PkiError('build.invalid', `a signing key must be a private key, got a ${key.type} key`);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return scheme('ECDSA-SHA256', OID.ecdsaWithSha256, 'sha256', false);
    if (details.namedCurve === 'secp384r1') return scheme('ECDSA-SHA384', OID.ecdsaWithSha384, 'sha384', false);
    throw new PkiError('key.unsupported', `signing keys on curve ${details.namedCurve ?? 'unknown'} are not supported (P-256 or P-384)`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS) throw new PkiError('key.unsupported', `RSA signing key of ${bits} bits: at least ${RSA_MIN_BITS}`);
    return scheme('SHA256-RSA', OID.sha256WithRsa, 'sha256', true);
  }
  throw new PkiError('key.unsupported', `signing keys of type ${key.asymmetricKeyType ?? 'unknown'} are not supported (ECDSA or RSA)`);
}

function scheme(name: SignatureName, oid: string, hash: SignatureScheme['hash'], nullParams: boolean): SignatureScheme {
  // RFC 4055 §5 wants NULL parameters for the RSA algorithms; RFC 5758 §3.2 wants none for ECDSA.
  const algorithm = derSequence(nullParams ? [derOid(oid), derNull()] : [derOid(oid)]);
  return { name, oid, hash, algorithm };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. Also OCSP's KeyHash. */
export function subjectKeyId(spki: Buffer): Buffer {
  return createHash('sha1').update(publicKeyBits(spki)).digest();
}

/** The subjectPublicKey bits of an SPKI (no tag, length or unused-bits octet). */
export function publicKeyBits(spki: Buffer): Buffer {
  const seq = new DerReader(spki, 'build.invalid').enter(TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  seq.expect(TAG.SEQUENCE, 'AlgorithmIdentifier');
  const { bytes, unused } = seq.bitString();
  if (unused !== 0) seq.fail('public key BIT STRING has unused bits');
  seq.finish('SubjectPublicKeyInfo');
  return bytes;
}

/** A new CA that has no certificate yet (its self-signed one is built from this). */
export function issuerFromKey(privateKey: KeyObject, name: Buffer | NameInput): SigningIssuer {
  const scheme = signatureScheme(privateKey);
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const nameDer = Buffer.isBuffer(name) ? name : encodeName(name);
  return { name: nameDer, spki, keyId: subjectKeyId(spki), privateKey, publicKey, scheme };
}

/**
 * An existing CA or responder certificate with its private key. The key must be
 * the certificate's; the key id is the certificate's own subjectKeyIdentifier
 * when it has one, so authorityKeyIdentifier always matches what clients see.
 */
export function issuerFromCertificate(certificate: ParsedCertificate | string | Buffer, privateKey: KeyObject): SigningIssuer {
  const cert = typeof certificate === 'string' ? parseCertificate(certificate) : Buffer.isBuffer(certificate) ? parseCertificateDer(certificate) : certificate;
  const scheme = signatureScheme(privateKey);
  const inner = certificateInternals(cert);
  const spki = cert.publicKey.spki;
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (!publicKey.equals(createPublicKey(privateKey))) {
    throw new PkiError('key.invalid', `the private key does not belong to the certificate "${cert.subjectText}"`);
  }
  return { name: inner.subject.der, spki, keyId: inner.subjectKeyId ?? subjectKeyId(spki), privateKey, publicKey, scheme };
}

/** SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }: Certificate, CertificateList and BasicOCSPResponse alike. */
export function signStructure(issuer: SigningIssuer, tbs: Buffer, trailer: readonly Buffer[] = []): Buffer {
  return assembleSigned(issuer, tbs, sign(issuer.scheme.hash, tbs, issuer.privateKey), trailer);
}

/** The signed structure around a signature already made over `tbs`. */
export function assembleSigned(issuer: SigningIssuer, tbs: Buffer, signature: Buffer, trailer: readonly Buffer[] = []): Buffer {
  return derConstructed(TAG.SEQUENCE, [tbs, issuer.scheme.algorithm, derBitString(signature), ...trailer]);
}
