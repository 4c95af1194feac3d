/**
 * PKCS#10 certificate requests (RFC 2986), as users paste them. What comes out
 * is what a CA decides with: the subject (to copy), the key (its algorithm and
 * size, checked against the caller's limits before any signature maths, so a
 * huge key costs nothing), and the extensions the request asks for, reported
 * so the caller can refuse them; none is ever copied into a certificate.
 *
 * Every refusal is PkiError('csr.invalid') whose message starts with the
 * reason: "not a CSR", "oversized input", "unsupported key", "unsupported
 * curve", "bad signature".
 */
import { DerReader, TAG, ctx } from './der.js';
import { PkiError } from './errors.js';
import { readBasicConstraints, readSubjectAltNames } from './extensions.js';
import { nameAttributes, nameToText, readName, type ParsedName } from './names.js';
import { CURVES, OID } from './oids.js';
import { decodeBlock, explainNonPem, findPemBlocks, normaliseInput } from './pem.js';
import { verifyCsrSignature, verifyCsrSignatureAsync } from './csr-signature.js';
import { readSpki } from './spki.js';
import type { NameAttributes, NamedCurve, PublicKeyInfo } from './types.js';

/** The caller's key policy. Defaults: 16 KiB of input, RSA 2048–4096, P-256 and P-384. */
export interface CsrPolicy {
  maxBytes?: number;
  rsaMinBits?: number;
  rsaMaxBits?: number;
  curves?: readonly NamedCurve[];
}

export interface RequestedExtensions {
  /** Every extension the request asks for, in request order (dotted OIDs). */
  oids: string[];
  /** Those it marks critical. */
  critical: string[];
  /** basicConstraints with cA TRUE is among them. */
  ca: boolean;
  /** The names a subjectAltName request lists (empty when there is none), exactly as encoded. */
  subjectAltNames: { dnsNames: string[]; ipAddresses: string[]; emailAddresses: string[]; uris: string[] };
}

export interface ParsedCsr {
  der: Buffer;
  subject: NameAttributes;
  /** Attributes in order, plus the Name's DER for copying into a certificate unchanged. */
  subjectName: ParsedName;
  /** RFC 4514 one-line form. */
  subjectText: string;
  /** First subject CN, '' when none. */
  commonName: string;
  /** algorithm, curve (EC), bits (RSA modulus / EC field size), SPKI DER. */
  publicKey: PublicKeyInfo;
  /** e.g. 'ECDSA-SHA256', 'SHA256-RSA', 'SHA256-RSAPSS'. */
  signatureAlgorithm: string;
  requestedExtensions: RequestedExtensions;
}

const DEFAULT_POLICY: Required<CsrPolicy> = { maxBytes: 16 * 1024, rsaMinBits: 2048, rsaMaxBits: 4096, curves: ['P-256', 'P-384'] };

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** Curves people try that we do not know, named in the refusal so they recognise it. */
const OTHER_CURVES: ReadonlyMap<string, string> = new Map([
  ['1.3.132.0.10', 'secp256k1'],
  ['1.3.132.0.33', 'P-224'],
  ['1.2.840.10045.3.1.1', 'P-192'],
  ['1.3.36.3.3.2.8.1.1.7', 'brainpoolP256r1'],
  ['1.3.36.3.3.2.8.1.1.11', 'brainpoolP384r1'],
  ['1.3.36.3.3.2.8.1.1.13', 'brainpoolP512r1'],
]);

const KEY_NAMES: ReadonlyMap<string, string> = new Map([
  [OID.ed25519, 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
  ['1.2.840.10040.4.1', 'DSA'],
  [OID.rsassaPss, 'RSASSA-PSS (id-RSASSA-PSS key)'],
]);

function fail(message: string): never {
  throw new PkiError('csr.invalid', message);
}

const REASONS = ['not a CSR', 'oversized input', 'unsupported key', 'unsupported curve', 'bad signature'];

export function parseCsr(input: string | Uint8Array, policy: CsrPolicy = {}): ParsedCsr {
  const { csr, signed } = readCsrInput(input, policy);
  try {
    return { ...csr, signatureAlgorithm: verifyCsrSignature(...signed) };
  } catch (err) {
    return explain(err);
  }
}

/** parseCsr, with the signature verified on libuv's thread pool (the event loop keeps serving meanwhile). */
export async function parseCsrAsync(input: string | Uint8Array, policy: CsrPolicy = {}): Promise<ParsedCsr> {
  const { csr, signed } = readCsrInput(input, policy);
  try {
    return { ...csr, signatureAlgorithm: await verifyCsrSignatureAsync(...signed) };
  } catch (err) {
    return explain(err);
  }
}

/** Structural failures from the DER reader say what was malformed, not that this makes it no CSR. */
function explain(err: unknown): never {
  if (err instanceof PkiError && !REASONS.some((r) => err.message.startsWith(r))) fail(`not a CSR: ${err.message}`);
  throw err;
}

/** What verifyCsrSignature takes: signed bytes, algorithm, signature, SPKI, key algorithm. */
type SignedPart = Parameters<typeof verifyCsrSignature>;

/** The CSR read and its key checked against the policy; the signature is left to the caller. */
function readCsrInput(input: string | Uint8Array, policy: CsrPolicy): { csr: Omit<ParsedCsr, 'signatureAlgorithm'>; signed: SignedPart } {
  const limits = { ...DEFAULT_POLICY, ...policy };
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > limits.maxBytes) fail(`oversized input: ${size} bytes; a CSR may be at most ${limits.maxBytes}`);
  const der = csrDer(input);
  try {
    return readCsr(der, limits);
  } catch (err) {
    return explain(err);
  }
}

function readCsr(der: Buffer, limits: Required<CsrPolicy>): { csr: Omit<ParsedCsr, 'signatureAlgorithm'>; signed: SignedPart } {
  const top = new DerReader(der, 'csr.invalid');
  const outer = top.enter(TAG.SEQUENCE, 'CertificationRequest');
  top.finish('CSR');
  const infoTlv = outer.expect(TAG.SEQUENCE, 'CertificationRequestInfo');
  const algTlv = outer.expect(TAG.SEQUENCE, 'signatureAlgorithm');
  const { bytes: signature, unused } = outer.bitString();
  if (unused !== 0) outer.fail('signature BIT STRING has unused bits');
  outer.finish('CertificationRequest');

  const info = outer.inside(infoTlv);
  if (info.smallInt() !== 0) info.fail('unknown CSR version (only version 1 exists)');
  const subjectName = readName(info);
  const publicKey = checkedKey(info, limits);
  const attrs = info.optional(ctx(0, true));
  info.finish('CertificationRequestInfo');
  const requestedExtensions = readAttributes(attrs ? info.inside(attrs) : undefined);

  // The algorithm is named (and a weak or unknown one refused) before the signature is verified.
  const signed: SignedPart = [outer.raw(infoTlv), outer.raw(algTlv), signature, publicKey.spki, publicKey.algorithm];
  const subject = nameAttributes(subjectName);
  const csr = {
    der,
    subject,
    subjectName,
    subjectText: nameToText(subjectName),
    commonName: subject.commonName[0] ?? '',
    publicKey,
    requestedExtensions,
  };
  return { csr, signed };
}

/** Exactly one CERTIFICATE REQUEST PEM block; DER, bare base64 and other objects are told apart. */
function csrDer(input: string | Uint8Array): Buffer {
  try {
    const text = normaliseInput(input);
    const blocks = findPemBlocks(text);
    const csrs = blocks.filter((b) => CSR_LABELS.has(b.label));
    if (csrs.length === 0) explainNonPem(text, 'CERTIFICATE REQUEST', blocks);
    if (csrs.length > 1) fail(`not a CSR: expected one CSR, found ${csrs.length}`);
    return decodeBlock(csrs[0]!);
  } catch (err) {
    if (!(err instanceof PkiError) || err.failure === 'csr.invalid') throw err;
    // pem.ts's DER hints name `openssl x509`; a CSR converts with `openssl req`.
    if (err.failure === 'pem.der' && err.message.includes('without PEM armour')) {
      fail('not a CSR: input is base64 DER without PEM armour; add the BEGIN/END CERTIFICATE REQUEST lines');
    }
    if (err.failure === 'pem.der') fail('not a CSR: input is binary DER; send the PEM form (openssl req -inform DER -outform PEM)');
    return fail(`not a CSR: ${err.message}`);
  }
}

/** The SubjectPublicKeyInfo, refused unless RSA or EC within the caller's limits. */
function checkedKey(r: DerReader, limits: Required<CsrPolicy>): PublicKeyInfo {
  const spkiTlv = r.expect(TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const alg = r.inside(spkiTlv).enter(TAG.SEQUENCE, 'AlgorithmIdentifier');
  const oid = alg.oid();
  if (oid === OID.ecPublicKey) {
    const curveOid = alg.peekTag() === TAG.OID ? alg.oid() : undefined;
    if (!curveOid) fail('unsupported curve: the EC key does not name its curve (explicit parameters are not accepted)');
    const known = CURVES.get(curveOid);
    const name = known?.name ?? OTHER_CURVES.get(curveOid);
    if (!known || !limits.curves.includes(known.name)) {
      fail(`unsupported curve: ${name ? `${name} (${curveOid})` : curveOid}; accepted: ${limits.curves.join(', ')}`);
    }
  } else if (oid !== OID.rsaEncryption) {
    const name = oid === OID.sm2Curve ? 'SM2' : (KEY_NAMES.get(oid) ?? oid);
    fail(`unsupported key: ${name}; accepted: RSA ${limits.rsaMinBits}–${limits.rsaMaxBits} bits, ECDSA ${limits.curves.join(', ')}`);
  }
  const spkiReader = new DerReader(r.buf, 'csr.invalid', spkiTlv.start, spkiTlv.end);
  const { info } = readSpki(spkiReader);
  if (info.algorithm === 'RSA') {
    const bits = info.bits!;
    if (bits < limits.rsaMinBits) fail(`unsupported key: RSA ${bits} bits: at least ${limits.rsaMinBits}`);
    if (bits > limits.rsaMaxBits) fail(`unsupported key: RSA ${bits} bits: at most ${limits.rsaMaxBits}`);
  }
  return { ...info, spki: Buffer.from(info.spki) };
}

/**
 * Attributes: extensionRequest (and Microsoft's older twin) are collected;
 * others (challengePassword, unstructuredName) carry nothing a CA uses.
 */
function readAttributes(r: DerReader | undefined): RequestedExtensions {
  const out: RequestedExtensions = {
    oids: [],
    critical: [],
    ca: false,
    subjectAltNames: { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] },
  };
  while (r && !r.done) {
    const attr = r.enter(TAG.SEQUENCE, 'Attribute');
    const type = attr.oid();
    const values = attr.enter(TAG.SET, 'attribute values');
    attr.finish('Attribute');
    if (type !== OID.extensionRequest && type !== OID.msCertExtensions) continue;
    readExtensionRequest(values, out);
    values.finish('extensionRequest (exactly one value)');
  }
  return out;
}

function readExtensionRequest(r: DerReader, out: RequestedExtensions): void {
  const list = r.enter(TAG.SEQUENCE, 'Extensions');
  while (!list.done) {
    const ext = list.enter(TAG.SEQUENCE, 'Extension');
    const oid = ext.oid();
    if (out.oids.includes(oid)) ext.fail(`the CSR requests extension ${oid} twice`);
    const criticalTlv = ext.optional(TAG.BOOLEAN);
    const critical = criticalTlv ? ext.boolean(criticalTlv) : false;
    const body = ext.inside(ext.expect(TAG.OCTET_STRING, 'extnValue'));
    ext.finish('Extension');
    out.oids.push(oid);
    if (critical) out.critical.push(oid);
    if (oid === OID.basicConstraints && readBasicConstraints(body)) out.ca = true;
    if (oid === OID.subjectAltName) out.subjectAltNames = readSubjectAltNames(body);
  }
}
