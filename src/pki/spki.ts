/**
 * SubjectPublicKeyInfo: which algorithm and curve, the RSA size, and the raw
 * public key material that private-key matching compares against. Read from
 * DER because node reports SM2 keys with asymmetricKeyType `undefined`.
 */
import { bitLength, DerReader, TAG } from './der.js';
import { PkiError } from './errors.js';
import { CURVES, OID, type CurveInfo } from './oids.js';
import type { PublicKeyInfo } from './types.js';

export type PublicKeyMaterial =
  | { kind: 'RSA'; n: Buffer; e: Buffer }
  | { kind: 'EC'; curve: CurveInfo; point: Buffer }
  | { kind: 'Ed25519'; raw: Buffer };

export interface SpkiDetails {
  info: PublicKeyInfo;
  material: PublicKeyMaterial;
}

export function readSpki(r: DerReader): SpkiDetails {
  const seqTlv = r.expect(TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const spki = r.raw(seqTlv);
  const seq = r.inside(seqTlv);
  const alg = seq.enter(TAG.SEQUENCE, 'AlgorithmIdentifier');
  const oid = alg.oid();
  const { bytes, unused } = seq.bitString();
  if (unused !== 0) seq.fail('public key BIT STRING has unused bits');
  seq.finish('SubjectPublicKeyInfo');

  if (oid === OID.rsaEncryption || oid === OID.rsassaPss) {
    const key = new DerReader(bytes, r.failure).enter(TAG.SEQUENCE, 'RSAPublicKey');
    const n = key.unsigned();
    const e = key.unsigned();
    key.finish('RSAPublicKey');
    const material: PublicKeyMaterial = { kind: 'RSA', n, e };
    return { info: { algorithm: 'RSA', bits: bitLength(n), spki }, material };
  }
  if (oid === OID.ecPublicKey || oid === OID.sm2Curve) {
    // Some SM2 stacks put the curve OID in the algorithm field and omit parameters.
    const curveOid = oid === OID.sm2Curve ? OID.sm2Curve : namedCurveParam(alg);
    const curve = ecCurve(curveOid, 'certificate');
    checkPoint(seq, curve, bytes);
    const algorithm = curve.name === 'SM2' ? 'SM2' : 'EC';
    return { info: { algorithm, curve: curve.name, bits: curve.bits, spki }, material: { kind: 'EC', curve, point: bytes } };
  }
  if (oid === OID.ed25519) {
    if (bytes.length !== 32) seq.fail('Ed25519 public key must be 32 bytes');
    return { info: { algorithm: 'Ed25519', bits: 256, spki }, material: { kind: 'Ed25519', raw: bytes } };
  }
  throw new PkiError('key.unsupported', `public key algorithm ${oid} is not supported`);
}

/** ECParameters must be a namedCurve OID; explicit curve parameters are refused (as Go does). */
export function namedCurveParam(r: DerReader): string {
  if (r.peekTag() !== TAG.OID) throw new PkiError('key.unsupported', 'EC key does not name its curve (explicit or missing parameters are not supported)');
  return r.oid();
}

export function ecCurve(oid: string, where: string): CurveInfo {
  const curve = CURVES.get(oid);
  if (!curve) throw new PkiError('key.unsupported', `${where} uses elliptic curve ${oid}, which is not supported`);
  return curve;
}

/** Uncompressed (04‖X‖Y) or compressed (02/03‖X) point of the right size. */
function checkPoint(r: DerReader, curve: CurveInfo, point: Buffer): void {
  const size = Math.ceil(curve.bits / 8);
  const ok =
    (point[0] === 0x04 && point.length === 1 + 2 * size) ||
    ((point[0] === 0x02 || point[0] === 0x03) && point.length === 1 + size);
  if (!ok) r.fail(`malformed ${curve.name} public key point`);
}
