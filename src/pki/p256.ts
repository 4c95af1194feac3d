/**
 * P-256 keys made for a subscriber (client certificates requested without a CSR): PKCS#8 and SPKI
 * written from the key's JWK. OpenSSL 3's encoders cost ≈ 80 µs (PKCS#8) and ≈ 145 µs (SPKI) a key,
 * the JWK export ≈ 6 µs. The bytes are what OpenSSL writes (RFC 5915 ECPrivateKey with the public key
 * and without repeated parameters, inside RFC 5208 PKCS#8).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { derBitString, derExplicit, derInteger, derOctetString, derOid, derSequence } from './der-writer.js';
import { OID } from './oids.js';
import { encodePem } from './pem.js';

const PRIME256V1 = '1.2.840.10045.3.1.7';
/** AlgorithmIdentifier { id-ecPublicKey, prime256v1 }. */
const P256 = derSequence([derOid(OID.ecPublicKey), derOid(PRIME256V1)]);

/** A P-256 private key's PKCS#8 and SPKI DER. */
export function p256Encodings(privateKey: KeyObject): { pkcs8: Buffer; spki: Buffer } {
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const ecPrivateKey = derSequence([derInteger(1), derOctetString(Buffer.from(jwk.d!, 'base64url')), derExplicit(1, derBitString(point))]);
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

/** The encodings of a P-256 key pair made elsewhere (on a thread that signs). */
export function encodeP256(privateKey: KeyObject): EncodedKeyPair {
  const { pkcs8, spki } = p256Encodings(privateKey);
  return { privateKeyPem: encodePem('PRIVATE KEY', pkcs8), spki };
}

/** A new P-256 key pair, encoded, on the calling thread. */
export function newP256KeyPair(): EncodedKeyPair {
  return encodeP256(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
}
