import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AesGcmSealer } from '../../src/adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from '../../src/adapters/crypto/master-key.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('AES-256-GCM sealer', () => {
  it('opens what it sealed, and never stores the plaintext', () => {
    const sealer = new AesGcmSealer([randomBytes(32)]);
    const sealed = sealer.seal(PEM, 'private_key:1');
    assert.ok(!sealed.includes('PRIVATE KEY'));
    assert.equal(sealer.open(sealed, 'private_key:1'), PEM);
  });

  it('uses a fresh nonce for every record', () => {
    const sealer = new AesGcmSealer([randomBytes(32)]);
    assert.notEqual(sealer.seal(PEM, 'c'), sealer.seal(PEM, 'c'));
  });

  it('refuses a value moved to another record, or tampered with', () => {
    const sealer = new AesGcmSealer([randomBytes(32)]);
    const sealed = sealer.seal(PEM, 'private_key:1');
    assert.throws(() => sealer.open(sealed, 'private_key:2'));
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    assert.throws(() => sealer.open(parts.join('.'), 'private_key:1'));
  });

  it('opens records of an older master key after rotation, and seals with the new one', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new AesGcmSealer([oldKey]).seal(PEM, 'k');
    const rotated = new AesGcmSealer([newKey, oldKey]);
    assert.equal(rotated.open(before, 'k'), PEM);
    assert.equal(AesGcmSealer.keyIdOfSealed(rotated.seal(PEM, 'k')), rotated.currentKeyId);
    assert.notEqual(AesGcmSealer.keyIdOfSealed(before), rotated.currentKeyId);
    assert.throws(() => new AesGcmSealer([newKey]).open(before, 'k'), /not in the keyring/);
  });

  it('generates the master key on first start with mode 0600 and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-key-'));
    const [first] = loadMasterKeys([], dir);
    const [second] = loadMasterKeys([], dir);
    assert.deepEqual(first, second);
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(join(dir, 'master.key'), 'utf8').trim(), 'base64').length, 32);
  });
});
