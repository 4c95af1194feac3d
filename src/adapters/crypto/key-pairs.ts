import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { IssuanceKeyType } from '../../core/issuance/model.js';
import type { CertificateKeys } from '../../core/issuance/ports.js';
import type { GeneratedKeyPair, KeyPairGenerator } from '../../core/private-ca/ports.js';
import { newP256KeyPair, signatureWork } from '../../pki/index.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * `EC`: P-256 (≈ 30 µs), where signatures are made (signatureWork); `RSA`: 2048 bits (≈ 200 ms), on
 * libuv's thread pool. Neither on the event loop.
 */
export async function generateKeys(kind: 'EC' | 'RSA'): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (kind === 'EC') return signatureWork().generateP256();
  return generateKeyPairAsync('rsa', { modulusLength: 2048 });
}

/** Keys for client certificates requested without a CSR: `RSA` → 2048 bits, `ECC` → P-256. */
export const nodeKeyPairs: KeyPairGenerator = {
  async generate(type): Promise<GeneratedKeyPair> {
    if (type === 'ECC') {
      // Made and encoded where signatures are made when that executor takes the whole job (≈ 25 µs otherwise).
      const work = signatureWork();
      return work.generateP256Key ? work.generateP256Key() : newP256KeyPair();
    }
    const { privateKey, publicKey } = await generateKeys('RSA');
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
