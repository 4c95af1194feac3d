/**
 * Certificate serial numbers: RFC 5280 §4.1.2.2 (positive, at most 20 octets)
 * and the CA/Browser Forum's ≥ 64 bits from a CSPRNG, which makes serials
 * unpredictable to whoever submits the CSR.
 */
import { randomFillSync } from 'node:crypto';
import { TAG } from './der.js';
import { derTlv, integerContent } from './der-writer.js';
import { PkiError } from './errors.js';

/** RFC 5280 §4.1.2.2: at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

/**
 * 128 bits from the CSPRNG with the top two bits fixed to 01: positive, DER-minimal
 * and always 16 octets (32 hex digits), with 126 random bits (CA/B Forum asks ≥ 64).
 */
export function newSerial(): Buffer {
  const serial = Buffer.allocUnsafe(16);
  takeRandom(serial);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

/**
 * randomBytes(16) per certificate cost ≈ 8 % of issuing one (a call into
 * OpenSSL's DRBG each time), so bytes are drawn 4 KiB at a time, as node's
 * randomUUID() does. Each byte is handed out once, then the pool is refilled.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function takeRandom(out: Buffer): void {
  if (poolOffset + out.length > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(out, 0, poolOffset, poolOffset + out.length);
  pool.fill(0, poolOffset, poolOffset + out.length);
  poolOffset += out.length;
}

/** The serial as an INTEGER: positive (a Buffer is a magnitude), not zero, at most 20 content octets. */
export function serialNumber(serial: Buffer): Buffer {
  const content = integerContent(serial);
  if (content.length === 1 && content[0] === 0) fail('the serial number must not be zero');
  if (content.length > MAX_SERIAL_OCTETS) fail(`the serial number is ${content.length} octets; at most ${MAX_SERIAL_OCTETS}`);
  return derTlv(TAG.INTEGER, content);
}

function fail(message: string): never {
  throw new PkiError('build.invalid', message);
}
