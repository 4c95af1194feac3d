/**
 * Certificate parsing. node:crypto's X509Certificate (OpenSSL) is the
 * authority on whether a certificate is well-formed and does the signature
 * maths; a strict DER walk of the same bytes supplies what node does not
 * expose (OIDs, version, structured names, SAN order, basicConstraints,
 * keyUsage, exact dates). Both run on every certificate.
 */
import { X509Certificate } from 'node:crypto';
import { ctx, DerReader, TAG, toBigInt } from './der.js';
import { PkiError, wrapPki } from './errors.js';
import { readExtensions, type ExtensionInternals } from './extensions.js';
import { nameAttributes, nameToText, readName, type ParsedName } from './names.js';
import type { IssuerCache } from './issuer-cache.js';
import { checkCertificateCount, checkRsaBits } from './limits.js';
import { decodeBlock, encodePem, explainNonPem, findPemBlocks, normaliseInput } from './pem.js';
import { signatureAlgorithmName } from './signature-names.js';
import { readSpki, type PublicKeyMaterial } from './spki.js';
import { readTime } from './time.js';
import type { ParsedCertificate, PkiLimits } from './types.js';

/** What chain checks need beyond the public fields; kept off the plain-data object. */
export interface CertificateInternals {
  x509: X509Certificate;
  tbs: Buffer;
  signature: Buffer;
  /** outer signatureAlgorithm == TBSCertificate.signature, byte for byte (RFC 5280 §4.1.1.2). */
  algorithmsAgree: boolean;
  subject: ParsedName;
  issuer: ParsedName;
  key: PublicKeyMaterial;
  /** The subjectKeyIdentifier extension's value, when present. */
  subjectKeyId?: Buffer;
  /** The extensions' OIDs in certificate order. */
  extensionOids: string[];
}

/**
 * Internals ride on the certificate object under a non-enumerable symbol: a
 * WeakMap cost roughly 10 µs per certificate in GC in the parse benchmark, and
 * the symbol keeps them out of JSON, spreads and deepStrictEqual all the same.
 */
const INTERNALS = Symbol('certplane.pki.certificateInternals');
type Carrier = { [INTERNALS]?: CertificateInternals };

function attach(cert: ParsedCertificate, inner: CertificateInternals): void {
  Object.defineProperty(cert, INTERNALS, { value: inner, enumerable: false });
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

/**
 * PEM text with one or more CERTIFICATE blocks, leaf first; other text and blocks are ignored.
 * With `issuers`, certificates after the leaf are taken from (and added to) that cache.
 * With `limits`, the blocks are counted before any is decoded.
 */
export function parseCertificateChain(
  input: string | Uint8Array,
  options: { issuers?: IssuerCache; limits?: PkiLimits } = {},
): ParsedCertificate[] {
  const text = wrapPki('pem.invalid', 'unreadable input', () => normaliseInput(input));
  const blocks = findPemBlocks(text);
  const certBlocks = blocks.filter((b) => CERT_LABELS.has(b.label));
  if (certBlocks.length === 0) explainNonPem(text, 'CERTIFICATE', blocks);
  const { issuers, limits = {} } = options;
  checkCertificateCount(certBlocks.length, limits);
  return certBlocks.map((block, index) => {
    const cached = index > 0 ? issuers?.get(block.base64) : undefined;
    if (cached) return cached;
    const der = wrapPki('pem.invalid', 'bad PEM', () => decodeBlock(block), index);
    const cert = parseCertificateDer(der, index, limits);
    if (index > 0) issuers?.set(block.base64, cert);
    return cert;
  });
}

/** Exactly one certificate. */
export function parseCertificate(input: string | Uint8Array): ParsedCertificate {
  const chain = parseCertificateChain(input);
  if (chain.length !== 1) {
    throw new PkiError('pem.invalid', `expected exactly one certificate, found ${chain.length}`);
  }
  return chain[0]!;
}

/** Parse one DER certificate; `index` is reported in errors. RSA key size is checked before OpenSSL sees it. */
export function parseCertificateDer(der: Buffer, index?: number, limits: PkiLimits = {}): ParsedCertificate {
  return wrapPki(
    'certificate.invalid',
    'certificate does not parse',
    () => {
      const { cert, inner } = readCertificate(der);
      if (cert.publicKey.algorithm === 'RSA') checkRsaBits(cert.publicKey.bits ?? 0, limits, `certificate ${index ?? 0}`, index);
      const x509 = new X509Certificate(der);
      cert.fingerprintSha256 = x509.fingerprint256.replace(/:/g, '').toLowerCase();
      attach(cert, { ...inner, x509 });
      return cert;
    },
    index,
  );
}

/** Internals of a parsed certificate, rebuilt from `der` for objects that did not come from this module. */
export function certificateInternals(cert: ParsedCertificate): CertificateInternals {
  let found = (cert as Carrier)[INTERNALS];
  if (!found) {
    found = (parseCertificateDer(cert.der) as Carrier)[INTERNALS]!;
    if (Object.isExtensible(cert)) attach(cert, found);
  }
  return found;
}

export function isExpired(cert: ParsedCertificate, now: Date): boolean {
  // notAfter is inclusive (RFC 5280 §4.1.2.5).
  return now.getTime() > cert.notAfter.getTime();
}

export type CertificateStructure = Omit<CertificateInternals, 'x509'>;
type Inner = CertificateStructure;

/**
 * The strict DER walk alone, without node's X509Certificate (≈ 250 µs) and so
 * without fingerprintSha256 (left ''): for checking a certificate this process
 * just built, where the cost of a full parse would exceed that of signing.
 */
export function readCertificate(der: Buffer): { cert: ParsedCertificate; inner: CertificateStructure } {
  const top = new DerReader(der, 'certificate.invalid');
  const certTlv = top.expect(TAG.SEQUENCE, 'Certificate');
  top.finish('certificate (trailing bytes after the certificate)');
  const c = top.inside(certTlv);
  const tbsTlv = c.expect(TAG.SEQUENCE, 'TBSCertificate');
  const algTlv = c.expect(TAG.SEQUENCE, 'signatureAlgorithm');
  const { bytes: signature, unused } = c.bitString();
  if (unused !== 0) c.fail('signature BIT STRING has unused bits');
  c.finish('Certificate');

  const alg = c.inside(algTlv);
  const signatureAlgorithmOid = alg.oid();
  const signatureAlgorithm = signatureAlgorithmName(signatureAlgorithmOid, alg);
  const tbs = readTbs(c.inside(tbsTlv));
  const cert: ParsedCertificate = {
    pem: encodePem('CERTIFICATE', der),
    der,
    ...tbs.fields,
    signatureAlgorithm,
    signatureAlgorithmOid,
    fingerprintSha256: '',
  };
  const algorithmsAgree = c.raw(algTlv).equals(tbs.signatureAlgorithmDer);
  const inner: Inner = {
    tbs: c.raw(tbsTlv),
    signature,
    algorithmsAgree,
    subject: tbs.subject,
    issuer: tbs.issuer,
    key: tbs.key,
    extensionOids: tbs.extensionOids,
  };
  if (tbs.subjectKeyId) inner.subjectKeyId = tbs.subjectKeyId;
  return { cert, inner };
}

type TbsFields = Omit<ParsedCertificate, 'pem' | 'der' | 'signatureAlgorithm' | 'signatureAlgorithmOid' | 'fingerprintSha256'>;

function readTbs(t: DerReader) {
  const versionTlv = t.optional(ctx(0, true));
  const v = versionTlv ? readVersion(t.inside(versionTlv)) : 0;
  const serialNumber = readSerial(t);
  const signatureAlgorithmDer = t.raw(t.expect(TAG.SEQUENCE, 'signature AlgorithmIdentifier'));
  const issuer = readName(t);
  const validity = t.enter(TAG.SEQUENCE, 'Validity');
  const notBefore = readTime(validity);
  const notAfter = readTime(validity);
  validity.finish('Validity');
  const subject = readName(t);
  const spki = readSpki(t);
  t.optional(ctx(1, false)); // issuerUniqueID
  t.optional(ctx(2, false)); // subjectUniqueID
  const extTlv = t.optional(ctx(3, true));
  t.finish('TBSCertificate');
  const extInternals: ExtensionInternals = {};
  const ext = readExtensions(extTlv ? t.inside(extTlv) : undefined, extInternals);
  const subjectAttrs = nameAttributes(subject);
  const fields: TbsFields = {
    subject: subjectAttrs,
    issuer: nameAttributes(issuer),
    subjectText: nameToText(subject),
    issuerText: nameToText(issuer),
    commonName: subjectAttrs.commonName[0] ?? '',
    ...ext,
    serialNumber,
    notBefore,
    notAfter,
    version: v + 1,
    publicKey: spki.info,
  };
  const extensionOids = extInternals.oids ?? [];
  return { fields, subject, issuer, key: spki.material, signatureAlgorithmDer, subjectKeyId: extInternals.subjectKeyId, extensionOids };
}

function readVersion(r: DerReader): number {
  const v = r.smallInt();
  r.finish('version');
  if (v > 2) r.fail(`unknown certificate version ${v + 1}`);
  return v;
}

/** Serials are signed INTEGERs; negative ones exist in the wild, so keep the sign. */
function readSerial(t: DerReader): { hex: string; decimal: string } {
  const bytes = t.integer();
  const value = BigInt.asIntN(bytes.length * 8, toBigInt(bytes));
  const hex = value < 0n ? '-' + (-value).toString(16) : value.toString(16);
  return { hex, decimal: value.toString(10) };
}
