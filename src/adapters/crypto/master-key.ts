import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMasterKey } from '../../config/config.js';

export const MASTER_KEY_FILE = 'master.key';

/**
 * The keyring: the configured master keys, or else the key kept in the data directory,
 * generated on first start with mode 0600.
 */
export function loadMasterKeys(configured: string[], dataDir: string): Buffer[] {
  if (configured.length > 0) return configured.map((text) => decodeMasterKey(text)!);
  const path = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(path, 0o600);
  const key = decodeMasterKey(readFileSync(path, 'utf8').trim());
  if (!key) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return [key];
}
