/**
 * P-256 keys made for a subscriber (client certificates requested without a CSR), written as
 * PKCS#8 and SPKI from the raw scalar and point. The bytes are what OpenSSL writes (RFC 5915
 * ECPrivateKey with the public key and without repeated parameters, inside RFC 5208 PKCS#8).
 *
 * The key comes from createECDH, not generateKeyPairSync: OpenSSL 3's encoders cost ≈ 80 µs (PKCS#8)
 * and ≈ 145 µs (SPKI) a key, and the cheap way round them, a JWK export, can deadlock in Node 20
 * when it runs on the thread that generated the key: a garbage collection during the export
 * finalizes the generation job, which waits for the lock the export holds (seen here after 30,000
 * to 400,000 keys in a loop of generateKeyPairSync + export({ format: 'jwk' })).
 */
import { createECDH } from 'node:crypto';
import { derBitString, derExplicit, derInteger, derOctetString, derOid, derSequence } from './der-writer.js';
import { OID } from './oids.js';
import { encodePem } from './pem.js';

const PRIME256V1 = '1.2.840.10045.3.1.7';
/** AlgorithmIdentifier { id-ecPublicKey, prime256v1 }. */
const P256 = derSequence([derOid(OID.ecPublicKey), derOid(PRIME256V1)]);
/** Bytes of a P-256 scalar, and of an uncompressed point (0x04 || x || y). */
const SCALAR_BYTES = 32;
const POINT_BYTES = 65;

/** PKCS#8 and SPKI DER of the P-256 key with private scalar `scalar` and uncompressed public point `point`. */
export function p256Encodings(scalar: Buffer, point: Buffer): { pkcs8: Buffer; spki: Buffer } {
  if (scalar.length > SCALAR_BYTES || point.length !== POINT_BYTES || point[0] !== 0x04) throw new RangeError('not a P-256 scalar and uncompressed point');
  // The scalar is written at the order's full length, leading zeros kept, as OpenSSL does.
  const padded = Buffer.concat([Buffer.alloc(SCALAR_BYTES - scalar.length), scalar]);
  const ecPrivateKey = derSequence([derInteger(1), derOctetString(padded), derExplicit(1, derBitString(point))]);
  return {
    pkcs8: derSequence([derInteger(0), P256, derOctetString(ecPrivateKey)]),
    spki: derSequence([P256, derBitString(point)]),
  };
}

/** A subscriber's key as it is handed over: PKCS#8 PEM, and its SPKI DER for the certificate. */
export interface EncodedKeyPair {
  privateKeyPem: string;
  spki: Buffer;
}

/** A new P-256 key pair, encoded, on the calling thread (≈ 25 µs). */
export function newP256KeyPair(): EncodedKeyPair {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys();
  const { pkcs8, spki } = p256Encodings(ecdh.getPrivateKey(), point);
  return { privateKeyPem: encodePem('PRIVATE KEY', pkcs8), spki };
}
