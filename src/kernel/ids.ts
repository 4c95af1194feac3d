import { randomBytes, randomFillSync, randomInt } from 'node:crypto';

/** Randomness is a port too; the default draws from node:crypto. */
export interface IdGenerator {
  /** 32 lower-case hex characters, the shape Huawei uses for resource ids. */
  hex32(): string;
  /**
   * 32 lower-case hex characters that sort by when they were made: 12 of milliseconds, then 20
   * random (80 bits). For rows written on every request (client certificates, audit events): their
   * primary-key index then grows at its end instead of dirtying a page anywhere in it.
   */
  ordered32(): string;
  /** A decimal id of the given number of digits (first digit non-zero), within 2^53 for JSON clients. */
  numeric(digits: number): string;
  /** Url-safe random secret text of the given byte length. */
  secret(bytes: number): string;
}

/**
 * Random bytes drawn from a pooled buffer: one getrandom call per 4 KiB instead of one per id
 * (ids are made on every upload). Secrets do not come from here.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function pooledBytes(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return out;
}

export const randomIds: IdGenerator = {
  hex32: () => pooledBytes(16).toString('hex'),
  ordered32: () => Date.now().toString(16).padStart(12, '0') + pooledBytes(10).toString('hex'),
  numeric: (digits) => {
    if (digits < 1 || digits > 15) throw new RangeError('numeric ids are 1 to 15 digits');
    let out = String(randomInt(1, 10));
    for (let i = 1; i < digits; i++) out += String(randomInt(0, 10));
    return out;
  },
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
};
