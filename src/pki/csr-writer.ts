/**
 * Writing a PKCS#10 certificate request (RFC 2986) for DNS names, as an ACME client sends to
 * finalize an order: the subject CN is the first name (left out when longer than the 64 characters
 * X.520 allows, as Let's Encrypt and lego do), every name is a subjectAltName dNSName, and the
 * request is signed with the key it carries (ECDSA P-256/P-384 or RSA ≥ 2048, sha256/384).
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { derBitString, derIa5String, derInteger, derOid, derSequence, derSetOf, derImplicit } from './der-writer.js';
import { extension } from './extension-writer.js';
import { PkiError } from './errors.js';
import { encodeName } from './name-writer.js';
import { OID } from './oids.js';
import { signatureScheme } from './signer.js';

const MAX_CN = 64;

/** DER of a CSR for `names` (at least one), signed by `privateKey`. */
export function buildCsr(privateKey: KeyObject, names: readonly string[]): Buffer {
  if (names.length === 0) throw new PkiError('build.invalid', 'a certificate request needs at least one name');
  const scheme = signatureScheme(privateKey);
  const first = names[0]!;
  const subject = encodeName([...first].length <= MAX_CN ? { commonName: first } : {});
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // GeneralName dNSName is [2] IMPLICIT IA5String.
  const san = extension(OID.subjectAltName, false, derSequence(names.map((name) => derIa5String(name, 0x82))));
  const extensionRequest = derSequence([derOid(OID.extensionRequest), derSetOf([derSequence([san])])]);
  // attributes [0] IMPLICIT SET OF Attribute: the SET's content is its one Attribute.
  const info = derSequence([derInteger(0), subject, spki, derImplicit(0, extensionRequest, true)]);
  const signature = sign(scheme.hash, info, privateKey);
  return derSequence([info, scheme.algorithm, derBitString(signature)]);
}

/** PEM text of a CSR's DER. */
export function csrPem(der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`;
}
