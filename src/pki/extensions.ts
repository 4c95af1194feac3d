/** The X.509v3 extensions the service shows: subjectAltName, basicConstraints, keyUsage. */
import { ctx, DerReader, TAG } from './der.js';
import { KEY_USAGE_BITS, OID } from './oids.js';

export interface ExtensionFields {
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  isCA: boolean;
  keyUsage: string[];
}

/** Fields kept off ParsedCertificate but needed by the toolkit (an issuer's key id for what it signs). */
export interface ExtensionInternals {
  subjectKeyId?: Buffer;
  /** Every extension's OID, in certificate order. */
  oids?: string[];
}

/**
 * `r` reads the SEQUENCE OF Extension (inside the [3] wrapper), or is undefined for v1/v2 certs.
 * `internals` receives the fields that are not part of the public shape.
 */
export function readExtensions(r: DerReader | undefined, internals: ExtensionInternals = {}): ExtensionFields {
  const out: ExtensionFields = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], isCA: false, keyUsage: [] };
  if (!r) return out;
  const seen = new Set<string>();
  const list = r.enter(TAG.SEQUENCE, 'Extensions');
  while (!list.done) {
    const ext = list.enter(TAG.SEQUENCE, 'Extension');
    const oid = ext.oid();
    // Duplicates are forbidden by RFC 5280 and would let two readers disagree on the value.
    if (seen.has(oid)) ext.fail(`duplicate extension ${oid}`);
    seen.add(oid);
    const critical = ext.optional(TAG.BOOLEAN);
    if (critical) ext.boolean(critical);
    const body = ext.inside(ext.expect(TAG.OCTET_STRING, 'extnValue'));
    ext.finish('Extension');
    if (oid === OID.subjectAltName) readSubjectAltName(body, out);
    else if (oid === OID.basicConstraints) out.isCA = readBasicConstraints(body);
    else if (oid === OID.keyUsage) out.keyUsage = readKeyUsage(body);
    else if (oid === OID.subjectKeyIdentifier) internals.subjectKeyId = readSubjectKeyId(body);
  }
  internals.oids = [...seen];
  return out;
}

/** The names of a subjectAltName extnValue (`r` reads its OCTET STRING's content). */
export function readSubjectAltNames(r: DerReader): Pick<ExtensionFields, 'dnsNames' | 'ipAddresses' | 'emailAddresses' | 'uris'> {
  const out: ExtensionFields = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], isCA: false, keyUsage: [] };
  readSubjectAltName(r, out);
  return { dnsNames: out.dnsNames, ipAddresses: out.ipAddresses, emailAddresses: out.emailAddresses, uris: out.uris };
}

function readSubjectAltName(r: DerReader, out: ExtensionFields): void {
  const names = r.enter(TAG.SEQUENCE, 'GeneralNames');
  r.finish('subjectAltName');
  while (!names.done) {
    const gn = names.next();
    const v = names.value(gn);
    switch (gn.tag) {
      case ctx(1, false):
        out.emailAddresses.push(textName(names, v, 'rfc822Name'));
        break;
      case ctx(2, false):
        out.dnsNames.push(textName(names, v, 'dNSName'));
        break;
      case ctx(6, false):
        out.uris.push(textName(names, v, 'uniformResourceIdentifier'));
        break;
      case ctx(7, false):
        out.ipAddresses.push(formatIp(names, v));
        break;
      default: // otherName, directoryName, registeredID...: not shown
    }
  }
}

/** An IA5String name of subjectAltName; one holding NUL (the null-prefix trick) is refused. */
function textName(r: DerReader, v: Buffer, kind: string): string {
  if (v.includes(0)) r.fail(`a subjectAltName ${kind} holds a NUL character (U+0000)`);
  return v.toString('latin1');
}

/** IPv4 dotted; IPv6 the way node's X509Certificate.subjectAltName prints it (OpenSSL style). */
function formatIp(r: DerReader, v: Buffer): string {
  if (v.length === 4) return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
  if (v.length !== 16) r.fail(`subjectAltName IP address has length ${v.length}`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(v.readUInt16BE(i).toString(16).toUpperCase());
  return groups.join(':');
}

/** The cA flag of a basicConstraints extnValue. */
export function readBasicConstraints(r: DerReader): boolean {
  const seq = r.enter(TAG.SEQUENCE, 'BasicConstraints');
  r.finish('basicConstraints');
  const ca = seq.optional(TAG.BOOLEAN);
  const isCA = ca ? seq.boolean(ca) : false;
  const pathLen = seq.optional(TAG.INTEGER);
  if (pathLen) seq.smallInt(pathLen);
  seq.finish('BasicConstraints');
  return isCA;
}

function readKeyUsage(r: DerReader): string[] {
  const { bytes } = r.bitString();
  r.finish('keyUsage');
  const usages: string[] = [];
  KEY_USAGE_BITS.forEach((name, bit) => {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && byte & (0x80 >> (bit & 7))) usages.push(name);
  });
  return usages;
}

function readSubjectKeyId(r: DerReader): Buffer {
  const id = r.value(r.expect(TAG.OCTET_STRING, 'SubjectKeyIdentifier'));
  r.finish('subjectKeyIdentifier');
  return id;
}
