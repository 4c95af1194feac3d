import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Sealer } from '../../kernel/sealer.js';

/**
 * AES-256-GCM with a fresh 96-bit nonce per record. A sealed value reads
 * `v1.<keyId>.<nonce>.<ciphertext>.<tag>` (base64url parts), so records sealed under an
 * older master key still open after rotation as long as that key stays in the keyring.
 */
const VERSION = 'v1';

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export class AesGcmSealer implements Sealer {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** `keys[0]` seals; every key opens. */
  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('the keyring needs at least one master key');
    for (const key of keys) {
      if (key.length !== 32) throw new Error('master keys are 32 bytes');
      this.keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(keys[0]!);
  }

  /** Ids of every key in the keyring, the sealing one first (for start-up reports). */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.currentKeyId, nonce, body, tag]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string, context: string): string {
    const [version, keyId, nonce, body, tag] = sealed.split('.');
    if (version !== VERSION || !keyId || nonce === undefined || body === undefined || tag === undefined) {
      throw new Error('sealed value is malformed');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`master key ${keyId} is not in the keyring`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** The key id a sealed value was made with (for rotation reports). */
  static keyIdOfSealed(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }
}
