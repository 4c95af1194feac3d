/**
 * Private key material → the public key it implies. We derive rather than trust
 * the copy of the public key some encodings carry, because the point of key
 * matching is to prove the private half belongs to the certificate.
 *
 * node:crypto's createPrivateKey() costs ≈340 µs per call on OpenSSL 3.0 (its
 * decoder framework), more than parsing both certificates of a chain, so RSA and
 * EC keys are handled from their DER fields: RSA by checking the CRT components
 * against n with BigInt, EC by node's ECDH scalar multiplication.
 */
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import { bitLength, toBigInt } from './der.js';
import { PkiError, wrapPki } from './errors.js';
import type { CurveInfo } from './oids.js';
import { sm2PublicPoint } from './sm2.js';

export interface RsaComponents {
  n: Buffer;
  e: Buffer;
  d: Buffer;
  p: Buffer;
  q: Buffer;
  dp: Buffer;
  dq: Buffer;
  qi: Buffer;
}

/** What key matching compares: RSA (n, e), the uncompressed EC point, or the raw Ed25519 key. */
export type DerivedPublicKey =
  | { kind: 'RSA'; n: Buffer; e: Buffer }
  | { kind: 'EC'; curve: CurveInfo; point: Buffer }
  | { kind: 'Ed25519'; raw: Buffer };

/** Below 1024 bits an RSA key offers no real security; Go refuses them too. */
const MIN_RSA_BITS = 1024;

/**
 * The RSA public key is (n, e) as stored, but we only accept it after checking the
 * private components produce it: n = p·q, e·d ≡ 1 (mod p−1, q−1), and the CRT values.
 * OpenSSL signs with the CRT values, so a key that fails here would sign garbage.
 */
export function rsaPublicKey(c: RsaComponents): DerivedPublicKey {
  const bits = bitLength(c.n);
  if (bits < MIN_RSA_BITS) throw new PkiError('key.unsupported', `RSA key of ${bits} bits is too small (minimum ${MIN_RSA_BITS})`);
  const [n, e, d, p, q, dp, dq, qi] = [c.n, c.e, c.d, c.p, c.q, c.dp, c.dq, c.qi].map(toBigInt) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const ok =
    e >= 3n &&
    p > 1n &&
    q > 1n &&
    p * q === n &&
    (e * d) % (p - 1n) === 1n &&
    (e * d) % (q - 1n) === 1n &&
    dp === d % (p - 1n) &&
    dq === d % (q - 1n) &&
    (qi * q) % p === 1n;
  if (!ok) throw new PkiError('key.invalid', 'RSA private key components are inconsistent');
  return { kind: 'RSA', n: c.n, e: c.e };
}

/** d·G on the key's curve, uncompressed. Throws key.invalid for scalars out of range. */
export function ecPublicPoint(curve: CurveInfo, d: Buffer): Buffer {
  const size = Math.ceil(curve.bits / 8);
  if (d.length > size) throw new PkiError('key.invalid', `${curve.name} private key is longer than the curve order`);
  if (curve.name === 'SM2') return sm2PublicPoint(d);
  return wrapPki('key.invalid', `${curve.name} private key is invalid`, () => {
    const ecdh = createECDH(curve.ecdh!);
    // setPrivateKey computes and range-checks the public point.
    ecdh.setPrivateKey(d);
    return ecdh.getPublicKey();
  });
}

/** Ed25519 keys are rare here, so the documented (slower) node path is fine. */
export function ed25519PublicKey(pkcs8: Buffer): Buffer {
  return wrapPki('key.invalid', 'Ed25519 private key is invalid', () => {
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new PkiError('key.invalid', 'Ed25519 key has no public part');
    return Buffer.from(jwk.x, 'base64url');
  });
}

/** Compare an uncompressed point with a certificate's point, which may be compressed. */
export function samePoint(uncompressed: Buffer, certPoint: Buffer): boolean {
  if (certPoint[0] === 0x04) return uncompressed.equals(certPoint);
  const size = (uncompressed.length - 1) / 2;
  const x = uncompressed.subarray(1, 1 + size);
  const yOdd = (uncompressed[uncompressed.length - 1]! & 1) === 1;
  return certPoint[0] === (yOdd ? 0x03 : 0x02) && certPoint.subarray(1).equals(x);
}
