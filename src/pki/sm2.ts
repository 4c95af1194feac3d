/**
 * SM2 (GB/T 32918) via sm-crypto-v2, because node:crypto can load SM2 keys and
 * certificates but reports their type as undefined and cannot verify SM2
 * signatures: it has no way to pass the SM2 distinguishing identifier, so
 * X509Certificate.verify() returns false even for a valid SM2-with-SM3 cert.
 */
import { sm2 } from 'sm-crypto-v2';
import { DerReader, TAG, toBigInt } from './der.js';
import { PkiError } from './errors.js';

/** GM/T 0009 default user id; what OpenSSL uses with -sigopt distid:1234567812345678. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

/** Public point 04‖X‖Y for private scalar `d`; key.invalid when d is outside [1, n-2]. */
export function sm2PublicPoint(d: Buffer): Buffer {
  const k = toBigInt(d);
  // n-1 is excluded too: SM2 signing divides by (1 + d).
  if (k < 1n || k > SM2_N - 2n) throw new PkiError('key.invalid', 'SM2 private key is out of range');
  const hex = sm2.getPublicKeyFromPrivateKey(k.toString(16).padStart(64, '0'));
  return Buffer.from(hex, 'hex');
}

/**
 * Verify an SM2-with-SM3 signature (DER Ecdsa-Sig-Value) over `message`,
 * hashing with Z(userId, point) as GB/T 32918.2 requires. Never throws.
 */
export function verifySm2(message: Buffer, signatureDer: Buffer, point: Buffer, userId = SM2_DEFAULT_USER_ID): boolean {
  try {
    const seq = new DerReader(signatureDer, 'certificate.invalid').enter(TAG.SEQUENCE, 'SM2 signature');
    const r = toBigInt(seq.unsigned());
    const s = toBigInt(seq.unsigned());
    seq.finish('SM2 signature');
    // The library does not range-check r and s itself.
    if (r < 1n || r >= SM2_N || s < 1n || s >= SM2_N) return false;
    const sigHex = r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0');
    return sm2.doVerifySignature(message, sigHex, point.toString('hex'), { hash: true, der: false, userId });
  } catch {
    return false;
  }
}
