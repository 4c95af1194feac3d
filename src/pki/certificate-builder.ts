/**
 * Certificates from a profile template, signed with node:crypto. The hot path
 * of the private CA: everything that depends only on the issuer and profile
 * (algorithm, issuer name, most extensions) is encoded once per template, so a
 * certificate costs a few concatenations, one SHA-1 and one signature.
 *
 * Extensions come from the profile and nothing else: a CSR's requested
 * extensions never reach this module.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { DerReader, TAG } from './der.js';
import { derConstructed, derExplicit, derInteger, derSequence, derTime, derTlv, integerContent } from './der-writer.js';
import { PkiError } from './errors.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoint,
  extendedKeyUsage,
  extensionsBlock,
  keyUsage,
  ocspAccess,
  ocspNoCheck,
  subjectKeyIdentifier,
} from './extension-writer.js';
import { readName } from './names.js';
import { encodeName, type NameInput } from './name-writer.js';
import { OID } from './oids.js';
import { encodePem } from './pem.js';
import { publicKeyBits, signStructure, type SigningIssuer } from './signer.js';
import { readSpki } from './spki.js';

/**
 * - clientAuth: an mTLS client leaf; CRL and OCSP URLs go into it.
 * - clientCa: the self-signed root that issues them (subject = issuer, pathLen 0).
 * - ocspResponder: a delegated OCSP signer issued by the CA (RFC 6960 §4.2.2.2).
 */
export type CertificateProfile =
  | { kind: 'clientAuth'; crlUrl: string; ocspUrl: string }
  | { kind: 'clientCa' }
  | { kind: 'ocspResponder' };

export interface CertificateFields {
  /** Name DER (e.g. copied from a CSR) or attributes; required except for clientCa. */
  subject?: Buffer | NameInput;
  /** DER SubjectPublicKeyInfo; required except for clientCa, whose key is the issuer's. */
  subjectSpki?: Buffer;
  /** Unsigned magnitude, as newSerial() returns it. */
  serial: Buffer;
  /** Whole seconds are kept; milliseconds are dropped. */
  notBefore: Date;
  notAfter: Date;
}

export interface BuiltCertificate {
  der: Buffer;
  pem: string;
}

/** RFC 5280 §4.1.2.2: at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

const VERSION_3 = derExplicit(0, derInteger(2));

/**
 * 128 bits from the CSPRNG with the top two bits fixed to 01: positive, DER-minimal
 * and always 16 octets (32 hex digits), with 126 random bits (CA/B Forum asks ≥ 64).
 */
export function newSerial(): Buffer {
  const serial = Buffer.allocUnsafe(16);
  takeRandom(serial);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

/**
 * randomBytes(16) per certificate cost ≈ 8 % of issuing one (a call into
 * OpenSSL's DRBG each time), so bytes are drawn 4 KiB at a time, as node's
 * randomUUID() does. Each byte is handed out once, then the pool is refilled.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function takeRandom(out: Buffer): void {
  if (poolOffset + out.length > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(out, 0, poolOffset, poolOffset + out.length);
  pool.fill(0, poolOffset, poolOffset + out.length);
  poolOffset += out.length;
}

export class CertificateTemplate {
  /**
   * Extensions that do not depend on the subject, encoded once. Output order:
   * basicConstraints, keyUsage (by key type), beforeKeyId…, subjectKeyIdentifier, afterKeyId….
   */
  private readonly basicConstraints: Buffer;
  private readonly beforeKeyId: Buffer[];
  private readonly afterKeyId: Buffer[];
  private readonly rsaKeyUsage: Buffer;
  private readonly ecKeyUsage: Buffer;

  constructor(
    readonly issuer: SigningIssuer,
    readonly profile: CertificateProfile,
  ) {
    const aki = authorityKeyIdentifier(issuer.keyId);
    switch (profile.kind) {
      case 'clientAuth':
        this.basicConstraints = basicConstraints(false);
        // keyEncipherment only where it can apply: RSA key transport; an EC key cannot encipher.
        this.rsaKeyUsage = keyUsage(['digitalSignature', 'keyEncipherment']);
        this.ecKeyUsage = keyUsage(['digitalSignature']);
        this.beforeKeyId = [extendedKeyUsage([OID.kpClientAuth])];
        this.afterKeyId = [aki, crlDistributionPoint(profile.crlUrl), ocspAccess(profile.ocspUrl)];
        break;
      case 'ocspResponder':
        this.basicConstraints = basicConstraints(false);
        this.rsaKeyUsage = this.ecKeyUsage = keyUsage(['digitalSignature']);
        this.beforeKeyId = [extendedKeyUsage([OID.kpOcspSigning]), ocspNoCheck()];
        this.afterKeyId = [aki];
        break;
      case 'clientCa':
        this.basicConstraints = basicConstraints(true, 0);
        // digitalSignature lets the CA sign OCSP responses itself.
        this.rsaKeyUsage = this.ecKeyUsage = keyUsage(['digitalSignature', 'keyCertSign', 'cRLSign']);
        this.beforeKeyId = [];
        this.afterKeyId = [];
        break;
    }
  }

  build(fields: CertificateFields): BuiltCertificate {
    const { subject, spki, rsa } = this.subjectParts(fields);
    const [notBefore, notAfter] = validity(fields.notBefore, fields.notAfter);
    const keyId = createHash('sha1').update(publicKeyBits(spki)).digest();
    const extensions = [
      this.basicConstraints,
      rsa ? this.rsaKeyUsage : this.ecKeyUsage,
      ...this.beforeKeyId,
      subjectKeyIdentifier(keyId),
      ...this.afterKeyId,
    ];
    const tbs = derConstructed(TAG.SEQUENCE, [
      VERSION_3,
      serialNumber(fields.serial),
      this.issuer.scheme.algorithm,
      this.issuer.name,
      derSequence([notBefore, notAfter]),
      subject,
      spki,
      extensionsBlock(3, extensions),
    ]);
    const der = signStructure(this.issuer, tbs);
    return { der, pem: encodePem('CERTIFICATE', der) };
  }

  private subjectParts(fields: CertificateFields): { subject: Buffer; spki: Buffer; rsa: boolean } {
    if (this.profile.kind === 'clientCa') {
      // A root is its own issuer: anything else passed in would make it a different certificate.
      const subject = fields.subject === undefined ? this.issuer.name : nameDer(fields.subject);
      if (!subject.equals(this.issuer.name)) fail('a clientCa certificate is self-signed: its subject must be the issuer name');
      if (fields.subjectSpki && !fields.subjectSpki.equals(this.issuer.spki)) fail('a clientCa certificate is self-signed: its key must be the issuer key');
      return { subject, spki: this.issuer.spki, rsa: false };
    }
    if (fields.subject === undefined || fields.subjectSpki === undefined) fail(`a ${this.profile.kind} certificate needs a subject and a subject key`);
    const subject = nameDer(fields.subject);
    return { subject, spki: fields.subjectSpki, rsa: subjectKeyKind(fields.subjectSpki) === 'RSA' };
  }
}

/** One certificate without keeping a template (a CA's own certificate, tests). */
export function buildCertificate(issuer: SigningIssuer, profile: CertificateProfile, fields: CertificateFields): BuiltCertificate {
  return new CertificateTemplate(issuer, profile).build(fields);
}

function fail(message: string): never {
  throw new PkiError('build.invalid', message);
}

/** A Name given as DER must be exactly one well-formed, non-empty Name (no SAN is written, so the subject names the client). */
function nameDer(input: Buffer | NameInput): Buffer {
  const der = Buffer.isBuffer(input) ? input : encodeName(input);
  const r = new DerReader(der, 'build.invalid');
  const name = readName(r);
  r.finish('subject Name');
  if (name.attributes.length === 0) fail('the subject name is empty');
  return der;
}

/** Which key usage applies; only keys a TLS client can use with this CA are accepted. */
function subjectKeyKind(spki: Buffer): 'RSA' | 'EC' {
  const r = new DerReader(spki, 'build.invalid');
  const { info } = readSpki(r);
  r.finish('SubjectPublicKeyInfo');
  if (info.algorithm === 'RSA') return 'RSA';
  if (info.algorithm === 'EC') return 'EC';
  throw new PkiError('key.unsupported', `subject keys of type ${info.algorithm} are not supported (RSA or ECDSA)`);
}

/** The serial as an INTEGER: positive (a Buffer is a magnitude), not zero, at most 20 content octets. */
export function serialNumber(serial: Buffer): Buffer {
  const content = integerContent(serial);
  if (content.length === 1 && content[0] === 0) fail('the serial number must not be zero');
  if (content.length > MAX_SERIAL_OCTETS) fail(`the serial number is ${content.length} octets; at most ${MAX_SERIAL_OCTETS}`);
  return derTlv(TAG.INTEGER, content);
}

function validity(notBefore: Date, notAfter: Date): [Buffer, Buffer] {
  if (Math.floor(notAfter.getTime() / 1000) <= Math.floor(notBefore.getTime() / 1000)) {
    fail(`notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()})`);
  }
  return [derTime(notBefore), derTime(notAfter)];
}
