import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { IssuanceKeyType } from '../../core/issuance/model.js';
import type { CertificateKeys } from '../../core/issuance/ports.js';
import type { GeneratedKeyPair, KeyPairGenerator } from '../../core/private-ca/ports.js';
import { derBitString, derExplicit, derInteger, derOctetString, derOid, derSequence, signatureWork } from '../../pki/index.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * `EC`: P-256 (≈ 30 µs), where signatures are made (signatureWork); `RSA`: 2048 bits (≈ 200 ms), on
 * libuv's thread pool. Neither on the event loop.
 */
export async function generateKeys(kind: 'EC' | 'RSA'): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (kind === 'EC') return signatureWork().generateP256();
  return generateKeyPairAsync('rsa', { modulusLength: 2048 });
}

/** AlgorithmIdentifier { id-ecPublicKey, prime256v1 }. */
const P256 = derSequence([derOid('1.2.840.10045.2.1'), derOid('1.2.840.10045.3.1.7')]);

/**
 * A P-256 key's PKCS#8 and SPKI, written from its JWK: OpenSSL 3's encoders cost ≈ 80 µs (PKCS#8)
 * and ≈ 145 µs (SPKI) a key, the JWK export ≈ 6 µs. The bytes are what OpenSSL writes (RFC 5915
 * ECPrivateKey with the public key and without repeated parameters, inside RFC 5208 PKCS#8).
 */
export function p256Encodings(privateKey: KeyObject): { pkcs8: Buffer; spki: Buffer } {
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const ecPrivateKey = derSequence([derInteger(1), derOctetString(Buffer.from(jwk.d!, 'base64url')), derExplicit(1, derBitString(point))]);
  return {
    pkcs8: derSequence([derInteger(0), P256, derOctetString(ecPrivateKey)]),
    spki: derSequence([P256, derBitString(point)]),
  };
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

/** Keys for client certificates requested without a CSR: `RSA` → 2048 bits, `ECC` → P-256. */
export const nodeKeyPairs: KeyPairGenerator = {
  async generate(type): Promise<GeneratedKeyPair> {
    const { privateKey, publicKey } = await generateKeys(type === 'ECC' ? 'EC' : 'RSA');
    if (type === 'ECC') {
      const { pkcs8, spki } = p256Encodings(privateKey);
      return { privateKeyPem: pem('PRIVATE KEY', pkcs8), spki };
    }
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      spki: publicKey.export({ type: 'spki', format: 'der' }),
    };
  },
};

const ISSUANCE_KEYS: Record<IssuanceKeyType, { type: 'ec'; namedCurve: string } | { type: 'rsa'; modulusLength: number }> = {
  EC256: { type: 'ec', namedCurve: 'P-256' },
  EC384: { type: 'ec', namedCurve: 'P-384' },
  RSA2048: { type: 'rsa', modulusLength: 2048 },
  RSA3072: { type: 'rsa', modulusLength: 3072 },
  RSA4096: { type: 'rsa', modulusLength: 4096 },
};

/** Keys of certificates certplane obtains from an ACME CA without a user's CSR; RSA keys are made on libuv's thread pool. */
export const certificateKeys: CertificateKeys = {
  async generate(type) {
    const spec = ISSUANCE_KEYS[type];
    const { privateKey } =
      spec.type === 'ec' ? generateKeyPairSync('ec', { namedCurve: spec.namedCurve }) : await generateKeyPairAsync('rsa', { modulusLength: spec.modulusLength });
    return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: spec.type === 'ec' ? 'EC' : 'RSA' };
  },
};
