/**
 * Private key parsing: PKCS#1 ('RSA PRIVATE KEY'), PKCS#8 ('PRIVATE KEY') and
 * SEC1 ('EC PRIVATE KEY', and 'SM2 PRIVATE KEY', the label `openssl ec` writes
 * for SM2 keys). The public key is derived here, so a key that parses is a key
 * whose halves agree; privateKeyMatches() then only compares.
 */
import { bitLength, ctx, DerReader, TAG } from './der.js';
import { PkiError, wrapPki } from './errors.js';
import { ecPublicPoint, ed25519PublicKey, rsaPublicKey, samePoint, type DerivedPublicKey } from './key-material.js';
import { OID } from './oids.js';
import { checkRsaBits } from './limits.js';
import { decodeBlock, explainNonPem, findPemBlocks, normaliseInput, type PemBlock } from './pem.js';
import { ecCurve, namedCurveParam } from './spki.js';
import type { ParsedPrivateKey, PkiLimits } from './types.js';

/** Derived public key, carried under a non-enumerable symbol (see certificate.ts for why). */
const DERIVED = Symbol('certplane.pki.derivedPublicKey');
type Carrier = { [DERIVED]?: DerivedPublicKey };

function attach(key: ParsedPrivateKey, pub: DerivedPublicKey): void {
  Object.defineProperty(key, DERIVED, { value: pub, enumerable: false });
}

type Format = ParsedPrivateKey['format'];
type Parsed = { key: Omit<ParsedPrivateKey, 'pem' | 'format'>; pub: DerivedPublicKey };

/** With `limits`, an RSA key's size is checked before its components are. */
export function parsePrivateKey(input: string | Uint8Array, limits: PkiLimits = {}): ParsedPrivateKey {
  const text = wrapPki('pem.invalid', 'unreadable input', () => normaliseInput(input));
  const blocks = findPemBlocks(text);
  // Skip companions such as the 'EC PARAMETERS' block `openssl ecparam -genkey` emits first.
  const block = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
  if (!block) return explainNonPem(text, 'PRIVATE KEY', blocks);
  const format = formatOf(block);
  const der = decodeBlock(block);
  const { key, pub } = wrapPki('key.invalid', 'private key does not parse', () => readKey(format, der, limits));
  const parsed: ParsedPrivateKey = { ...key, format, pem: block.text };
  attach(parsed, pub);
  return parsed;
}

/** Public half of a parsed key, re-derived from `pem` for objects not made by parsePrivateKey. */
export function derivedPublicKey(key: ParsedPrivateKey): DerivedPublicKey {
  let pub = (key as Carrier)[DERIVED];
  if (!pub) {
    pub = (parsePrivateKey(key.pem) as Carrier)[DERIVED]!;
    if (Object.isExtensible(key)) attach(key, pub);
  }
  return pub;
}

function formatOf(block: PemBlock): Format {
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '')) {
    throw new PkiError('key.encrypted', 'private key is encrypted; upload it without a passphrase');
  }
  switch (block.label) {
    case 'RSA PRIVATE KEY':
      return 'pkcs1';
    case 'PRIVATE KEY':
      return 'pkcs8';
    case 'EC PRIVATE KEY':
    case 'SM2 PRIVATE KEY':
      return 'sec1';
    default:
      throw new PkiError('key.unsupported', `"${block.label}" keys are not supported`);
  }
}

function readKey(format: Format, der: Buffer, limits: PkiLimits): Parsed {
  const r = new DerReader(der, 'key.invalid');
  const seq = r.enter(TAG.SEQUENCE, 'private key');
  r.finish('private key');
  if (format === 'pkcs1') return readPkcs1(seq, limits);
  if (format === 'sec1') return readSec1(seq, undefined);
  return readPkcs8(seq, der, limits);
}

function readPkcs1(r: DerReader, limits: PkiLimits): Parsed {
  const version = r.smallInt();
  if (version !== 0) throw new PkiError('key.unsupported', 'multi-prime RSA keys are not supported');
  const [n, e, d, p, q, dp, dq, qi] = Array.from({ length: 8 }, () => r.unsigned()) as Buffer[] as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  r.finish('RSAPrivateKey');
  checkRsaBits(bitLength(n), limits, 'the private key');
  const pub = rsaPublicKey({ n, e, d, p, q, dp, dq, qi });
  return { key: { algorithm: 'RSA', bits: bitLength(n) }, pub };
}

/** SEC1 ECPrivateKey; `curveOid` comes from the PKCS#8 AlgorithmIdentifier when wrapped. */
function readSec1(r: DerReader, curveOid: string | undefined): Parsed {
  if (r.smallInt() !== 1) r.fail('unknown ECPrivateKey version');
  const d = r.value(r.expect(TAG.OCTET_STRING, 'EC private key'));
  const paramsTlv = r.optional(ctx(0, true));
  const inner = paramsTlv ? namedCurveParam(r.inside(paramsTlv)) : undefined;
  if (curveOid && inner && curveOid !== inner) r.fail('EC key names two different curves');
  const pubTlv = r.optional(ctx(1, true));
  r.finish('ECPrivateKey');
  const oid = curveOid ?? inner;
  if (!oid) throw new PkiError('key.unsupported', 'EC private key does not name its curve');
  const curve = ecCurve(oid, 'private key');
  const point = ecPublicPoint(curve, d);
  // A stored public key that differs from d·G means a corrupted or spliced key.
  if (pubTlv) {
    const pr = r.inside(pubTlv);
    if (!samePoint(point, pr.bitString().bytes)) r.fail('EC private key embeds a public key that does not match it');
  }
  const algorithm = curve.name === 'SM2' ? 'SM2' : 'EC';
  return { key: { algorithm, curve: curve.name, bits: curve.bits }, pub: { kind: 'EC', curve, point } };
}

function readPkcs8(r: DerReader, der: Buffer, limits: PkiLimits): Parsed {
  // EncryptedPrivateKeyInfo starts with a SEQUENCE; PrivateKeyInfo with its version INTEGER.
  if (r.peekTag() === TAG.SEQUENCE) throw new PkiError('key.encrypted', 'private key is encrypted (PKCS#8)');
  if (r.smallInt() > 1) r.fail('unknown PKCS#8 version');
  const alg = r.enter(TAG.SEQUENCE, 'AlgorithmIdentifier');
  const oid = alg.oid();
  const inner = r.inside(r.expect(TAG.OCTET_STRING, 'privateKey'));
  r.optional(ctx(0, true)); // attributes
  const pubTlv = r.optional(ctx(1, false)); // OneAsymmetricKey publicKey (RFC 5958)
  r.finish('PrivateKeyInfo');
  if (oid === OID.rsaEncryption || oid === OID.rsassaPss) return readPkcs1(inner.enter(TAG.SEQUENCE, 'RSAPrivateKey'), limits);
  if (oid === OID.ecPublicKey || oid === OID.sm2Curve) {
    const curveOid = oid === OID.sm2Curve ? OID.sm2Curve : namedCurveParam(alg);
    return readSec1(inner.enter(TAG.SEQUENCE, 'ECPrivateKey'), curveOid);
  }
  if (oid === OID.ed25519) return readEd25519(inner, der, pubTlv ? r.bitString(pubTlv).bytes : undefined);
  throw new PkiError('key.unsupported', `private key algorithm ${oid} is not supported`);
}

function readEd25519(inner: DerReader, pkcs8: Buffer, stored: Buffer | undefined): Parsed {
  const seed = inner.value(inner.expect(TAG.OCTET_STRING, 'Ed25519 private key'));
  inner.finish('Ed25519 private key');
  if (seed.length !== 32) inner.fail('Ed25519 private key must be 32 bytes');
  const raw = ed25519PublicKey(pkcs8);
  if (stored && !stored.equals(raw)) inner.fail('Ed25519 private key embeds a public key that does not match it');
  return { key: { algorithm: 'Ed25519', bits: 256 }, pub: { kind: 'Ed25519', raw } };
}
