import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { GeneratedKeyPair, KeyPairGenerator } from '../../core/private-ca/ports.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * `EC`: P-256, made on the spot (≈ 0.1 ms); `RSA`: 2048 bits, made on libuv's thread pool (≈ 200 ms,
 * which would stall every other request if done on the event loop).
 */
export async function generateKeys(kind: 'EC' | 'RSA'): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (kind === 'EC') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairAsync('rsa', { modulusLength: 2048 });
}

/** Keys for client certificates requested without a CSR: `RSA` → 2048 bits, `ECC` → P-256. */
export const nodeKeyPairs: KeyPairGenerator = {
  async generate(type): Promise<GeneratedKeyPair> {
    const { privateKey, publicKey } = await generateKeys(type === 'ECC' ? 'EC' : 'RSA');
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      spki: publicKey.export({ type: 'spki', format: 'der' }),
    };
  },
};
