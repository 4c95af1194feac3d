/**
 * The check a CA makes before it releases what it signed: the certificate
 * parses (the same strict DER reader parseCertificate uses), chains to its CA
 * (issuer name, and the signature verifies with the CA's public key, which
 * also catches a faulty signature), carries exactly the fields asked for, and
 * matches its profile (extension list, basicConstraints, keyUsage, key id).
 *
 * node's X509Certificate is left out: its parse costs ≈ 250 µs, more than
 * building and signing; this check costs about one signature verification.
 */
import { createHash, verify } from 'node:crypto';
import { readCertificate } from './certificate.js';
import type { BuiltCertificate, CertificateFields, CertificateTemplate } from './certificate-builder.js';
import { toBigInt } from './der.js';
import { PkiError } from './errors.js';
import { encodePem } from './pem.js';
import { signatureWork } from './signature-work.js';
import { assembleSigned, subjectKeyId } from './signer.js';

function fail(what: string): never {
  throw new PkiError('build.invalid', `the issued certificate fails its check: ${what}`);
}

const wholeSeconds = (d: Date): number => Math.floor(d.getTime() / 1000) * 1000;

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Throws build.invalid naming the first thing wrong with `der`, as issued by `template` from `fields`. */
export function checkIssuedCertificate(template: CertificateTemplate, der: Buffer, fields: CertificateFields): void {
  const read = readIssued(template, der);
  if (!verify(template.issuer.scheme.hash, read.inner.tbs, template.issuer.publicKey, read.inner.signature)) badSignature();
  checkFields(template, read, fields);
}

/** A certificate that passed its check, with its SHA-256 fingerprint (lower-case hex of the DER). */
export interface CheckedCertificate extends BuiltCertificate {
  fingerprintSha256: string;
}

/**
 * Builds a certificate and checks it off the event loop. Where the executor takes whole builds (the
 * signing thread), all of it runs there (buildCheckedCertificateSync). Otherwise with one hand-over:
 * the signature is made and verified with the CA's public key together, then the assembled
 * certificate must parse, carry exactly that TBS and signature, name the CA, and match its profile
 * and `fields`: the checks of checkIssuedCertificate, with the signature verified where it was made.
 */
export async function buildCheckedCertificate(template: CertificateTemplate, fields: CertificateFields): Promise<CheckedCertificate> {
  const work = signatureWork();
  if (work.buildChecked) return work.buildChecked(template, fields);
  const { issuer } = template;
  const tbs = template.tbs(fields);
  const { signature, verified } = await work.signAndVerify(issuer.scheme.hash, tbs, issuer.privateKey, issuer.publicKey);
  const der = assembleSigned(issuer, tbs, signature);
  const read = readIssued(template, der);
  if (!verified || !read.inner.tbs.equals(tbs) || !read.inner.signature.equals(signature)) badSignature();
  checkFields(template, read, fields);
  return checked(der);
}

/** Builds, signs and checks `template`'s certificate of `fields` on the calling thread (what the signing thread runs). */
export function buildCheckedCertificateSync(template: CertificateTemplate, fields: CertificateFields): CheckedCertificate {
  const der = template.signed(fields);
  checkIssuedCertificate(template, der, fields);
  return checked(der);
}

function checked(der: Buffer): CheckedCertificate {
  return { der, pem: encodePem('CERTIFICATE', der), fingerprintSha256: createHash('sha256').update(der).digest('hex') };
}

function badSignature(): never {
  return fail('its signature does not verify with the CA key');
}

type Read = ReturnType<typeof readCertificate>;

/** The certificate parsed, claiming the CA's signature algorithm and name: what comes before the signature. */
function readIssued(template: CertificateTemplate, der: Buffer): Read {
  let read: Read;
  try {
    read = readCertificate(der);
  } catch (err) {
    return fail(`it does not parse (${err instanceof Error ? err.message : String(err)})`);
  }
  const { cert, inner } = read;
  const { issuer } = template;
  if (!inner.algorithmsAgree || cert.signatureAlgorithmOid !== issuer.scheme.oid) fail(`signature algorithm ${cert.signatureAlgorithm}, expected ${issuer.scheme.name}`);
  if (!inner.issuer.der.equals(issuer.name)) fail(`issuer "${cert.issuerText}" is not the CA`);
  return read;
}

/** Profile and fields: what comes after the signature. */
function checkFields(template: CertificateTemplate, { cert, inner }: Read, fields: CertificateFields): void {
  const { expected } = template;
  const want = template.resolve(fields);
  if (!sameList(inner.extensionOids, expected.extensionOids)) fail(`extensions ${inner.extensionOids.join(', ')}`);
  if (cert.isCA !== expected.isCA) fail(`basicConstraints cA ${cert.isCA}`);
  if (!sameList(cert.keyUsage, expected.keyUsage[want.rsa ? 'rsa' : 'ec'])) fail(`keyUsage ${cert.keyUsage.join(', ')}`);

  if (cert.version !== 3) fail(`version ${cert.version}`);
  if (BigInt('0x' + cert.serialNumber.hex) !== toBigInt(fields.serial)) fail(`serial ${cert.serialNumber.hex}`);
  if (cert.notBefore.getTime() !== wholeSeconds(fields.notBefore)) fail(`notBefore ${cert.notBefore.toISOString()}`);
  if (cert.notAfter.getTime() !== wholeSeconds(fields.notAfter)) fail(`notAfter ${cert.notAfter.toISOString()}`);
  if (!inner.subject.der.equals(want.subject)) fail(`subject "${cert.subjectText}"`);
  if (!cert.publicKey.spki.equals(want.spki)) fail('subject public key');
  if (!inner.subjectKeyId?.equals(subjectKeyId(want.spki))) fail('subjectKeyIdentifier');
}
