/**
 * Certificates from a profile template, signed with node:crypto. The hot path
 * of the private CA: everything that depends only on the issuer and profile
 * (algorithm, issuer name, most extensions) is encoded once per template, so a
 * certificate costs a few concatenations, one SHA-1 and one signature.
 *
 * Extensions come from the profile and nothing else: a CSR's requested
 * extensions never reach this module.
 */
import { createHash } from 'node:crypto';
import { DerReader, TAG } from './der.js';
import { derConstructed, derExplicit, derInteger, derSequence, derTime } from './der-writer.js';
import { PkiError } from './errors.js';
import {
  type KeyUsageName,
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
import { serialNumber } from './serial.js';
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

const VERSION_3 = derExplicit(0, derInteger(2));

type Extension = readonly [oid: string, der: Buffer];

/** What a profile writes, in output order around the per-certificate keyUsage and subjectKeyIdentifier. */
interface ProfileSpec {
  ca: boolean;
  rsaUsage: KeyUsageName[];
  ecUsage: KeyUsageName[];
  beforeKeyId: Extension[];
  afterKeyId: Extension[];
}

function profileSpec(profile: CertificateProfile, issuer: SigningIssuer): ProfileSpec {
  const aki: Extension = [OID.authorityKeyIdentifier, authorityKeyIdentifier(issuer.keyId)];
  switch (profile.kind) {
    case 'clientAuth':
      return {
        ca: false,
        // keyEncipherment only where it can apply: RSA key transport; an EC key cannot encipher.
        rsaUsage: ['digitalSignature', 'keyEncipherment'],
        ecUsage: ['digitalSignature'],
        beforeKeyId: [[OID.extKeyUsage, extendedKeyUsage([OID.kpClientAuth])]],
        afterKeyId: [aki, [OID.cRLDistributionPoints, crlDistributionPoint(profile.crlUrl)], [OID.authorityInfoAccess, ocspAccess(profile.ocspUrl)]],
      };
    case 'ocspResponder':
      return {
        ca: false,
        rsaUsage: ['digitalSignature'],
        ecUsage: ['digitalSignature'],
        beforeKeyId: [[OID.extKeyUsage, extendedKeyUsage([OID.kpOcspSigning])], [OID.ocspNoCheck, ocspNoCheck()]],
        afterKeyId: [aki],
      };
    case 'clientCa':
      // digitalSignature lets the CA sign OCSP responses itself.
      return { ca: true, rsaUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'], ecUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'], beforeKeyId: [], afterKeyId: [] };
    default:
      throw new PkiError('build.invalid', `unknown certificate profile "${(profile as { kind: string }).kind}"`);
  }
}

/** What every certificate of a template must show: checkIssuedCertificate compares against it. */
export interface ProfileExpectations {
  isCA: boolean;
  /** Extension OIDs in certificate order. */
  extensionOids: readonly string[];
  /** keyUsage bit names for an RSA subject key and for an EC one. */
  keyUsage: { rsa: readonly KeyUsageName[]; ec: readonly KeyUsageName[] };
}

/** The subject side of one certificate, resolved from CertificateFields. */
export interface ResolvedSubject {
  subject: Buffer;
  spki: Buffer;
  rsa: boolean;
}

export class CertificateTemplate {
  readonly expected: ProfileExpectations;
  /** Encoded once per template; only keyUsage (by key type) and subjectKeyIdentifier vary. */
  private readonly basicConstraints: Buffer;
  private readonly rsaKeyUsage: Buffer;
  private readonly ecKeyUsage: Buffer;
  private readonly beforeKeyId: Buffer[];
  private readonly afterKeyId: Buffer[];

  constructor(
    readonly issuer: SigningIssuer,
    readonly profile: CertificateProfile,
  ) {
    const spec = profileSpec(profile, issuer);
    this.basicConstraints = spec.ca ? basicConstraints(true, 0) : basicConstraints(false);
    this.rsaKeyUsage = keyUsage(spec.rsaUsage);
    this.ecKeyUsage = keyUsage(spec.ecUsage);
    this.beforeKeyId = spec.beforeKeyId.map(([, der]) => der);
    this.afterKeyId = spec.afterKeyId.map(([, der]) => der);
    this.expected = {
      isCA: spec.ca,
      extensionOids: [
        OID.basicConstraints,
        OID.keyUsage,
        ...spec.beforeKeyId.map(([oid]) => oid),
        OID.subjectKeyIdentifier,
        ...spec.afterKeyId.map(([oid]) => oid),
      ],
      keyUsage: { rsa: spec.rsaUsage, ec: spec.ecUsage },
    };
  }

  build(fields: CertificateFields): BuiltCertificate {
    const der = this.signed(fields);
    return { der, pem: encodePem('CERTIFICATE', der) };
  }

  /** The signed certificate's DER. */
  signed(fields: CertificateFields): Buffer {
    return signStructure(this.issuer, this.tbs(fields));
  }

  /** The TBSCertificate of `fields`: the template's encoded parts around the certificate's own. */
  tbs(fields: CertificateFields): Buffer {
    const { subject, spki, rsa } = this.resolve(fields);
    const [notBefore, notAfter] = validity(fields.notBefore, fields.notAfter);
    const keyId = createHash('sha1').update(publicKeyBits(spki)).digest();
    const extensions = [
      this.basicConstraints,
      rsa ? this.rsaKeyUsage : this.ecKeyUsage,
      ...this.beforeKeyId,
      subjectKeyIdentifier(keyId),
      ...this.afterKeyId,
    ];
    return derConstructed(TAG.SEQUENCE, [
      VERSION_3,
      serialNumber(fields.serial),
      this.issuer.scheme.algorithm,
      this.issuer.name,
      derSequence([notBefore, notAfter]),
      subject,
      spki,
      extensionsBlock(3, extensions),
    ]);
  }

  /** Subject Name DER and key of a certificate from `fields`, checked (the clientCa ones are the issuer's). */
  resolve(fields: CertificateFields): ResolvedSubject {
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

function validity(notBefore: Date, notAfter: Date): [Buffer, Buffer] {
  if (Math.floor(notAfter.getTime() / 1000) <= Math.floor(notBefore.getTime() / 1000)) {
    fail(`notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()})`);
  }
  return [derTime(notBefore), derTime(notAfter)];
}
