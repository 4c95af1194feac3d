/**
 * The certificate identifier of ACME Renewal Information (RFC 9773 §4.1): the base64url (no
 * padding) keyIdentifier of the certificate's authorityKeyIdentifier extension, a ".", and the
 * base64url of its serial number's DER content octets (a leading zero octet included when the
 * encoding has one). It names the certificate in the renewalInfo URL and in newOrder's `replaces`.
 */
import { ctx, DerReader, TAG } from './der.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';
import { decodeBlock, findPemBlocks, normaliseInput } from './pem.js';

/** The ARI id of the first certificate in `input` (PEM text, or DER bytes). */
export function ariCertId(input: string | Uint8Array): string {
  const der = typeof input === 'string' ? firstCertificateDer(input) : Buffer.from(input);
  const { serial, keyIdentifier } = readIdentity(der);
  return `${keyIdentifier.toString('base64url')}.${serial.toString('base64url')}`;
}

/** The id from its parts, as RFC 9773's example gives them (hex strings, `:` allowed). */
export function ariCertIdOf(keyIdentifierHex: string, serialDerHex: string): string {
  const hex = (text: string) => Buffer.from(text.replace(/:/g, ''), 'hex');
  return `${hex(keyIdentifierHex).toString('base64url')}.${hex(serialDerHex).toString('base64url')}`;
}

function firstCertificateDer(pem: string): Buffer {
  const block = findPemBlocks(normaliseInput(pem)).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new PkiError('pem.invalid', 'no CERTIFICATE block');
  return decodeBlock(block);
}

function readIdentity(der: Buffer): { serial: Buffer; keyIdentifier: Buffer } {
  const r = new DerReader(der, 'certificate.invalid');
  const tbs = r.enter(TAG.SEQUENCE, 'Certificate').enter(TAG.SEQUENCE, 'TBSCertificate');
  tbs.optional(ctx(0, true));
  const serial = Buffer.from(tbs.integer());
  for (const what of ['signature', 'issuer', 'validity', 'subject', 'subjectPublicKeyInfo']) tbs.expect(TAG.SEQUENCE, what);
  tbs.optional(ctx(1, false));
  tbs.optional(ctx(2, false));
  const wrapper = tbs.optional(ctx(3, true));
  if (!wrapper) throw new PkiError('certificate.invalid', 'the certificate has no extensions, so no authorityKeyIdentifier');
  const list = tbs.inside(wrapper).enter(TAG.SEQUENCE, 'Extensions');
  while (!list.done) {
    const ext = list.enter(TAG.SEQUENCE, 'Extension');
    const oid = ext.oid();
    const critical = ext.optional(TAG.BOOLEAN);
    if (critical) ext.boolean(critical);
    const body = ext.inside(ext.expect(TAG.OCTET_STRING, 'extnValue'));
    if (oid !== OID.authorityKeyIdentifier) continue;
    const aki = body.enter(TAG.SEQUENCE, 'AuthorityKeyIdentifier');
    const keyId = aki.optional(ctx(0, false));
    if (!keyId) break;
    return { serial, keyIdentifier: Buffer.from(aki.value(keyId)) };
  }
  throw new PkiError('certificate.invalid', 'the certificate has no authorityKeyIdentifier keyIdentifier');
}
